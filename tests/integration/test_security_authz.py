"""Authorization in every service function: each role x each public action, against a real SQLite store.

A role without the permission gets ``PermissionDenied`` and nothing happens; a role with it never does
(the call may still fail for another, stated reason). A meta-test makes sure every public service function
that acts for a user appears in the table, so a new one cannot skip its check unnoticed.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sqlite3
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

import backend.services
from backend.bootstrap import App, build_app
from backend.config import Settings
from backend.domain.drafting import draft_note
from backend.domain.errors import CopilotError, PermissionDenied, ValidationFailed
from backend.domain.models import HistoryEntry, Job, JobStatus, Note, NoteStatus, Role
from backend.services import (
    api_tokens,
    ask,
    audit,
    audit_verify,
    auth,
    change_feed,
    cohort,
    digitize,
    document_jobs,
    export,
    history,
    job_status,
    metrics,
    metrics_jobs,
    note_styles,
    notes,
    patients,
    providers,
    recent_patients,
    recordings,
    referral,
    retention,
    scribe,
    scribe_roles,
    timeline,
    uploads,
    visit_summary,
    wearable_sync,
)
from backend.services.access import Permission as P
from backend.services.access import Principal
from backend.services.demo import seed_demo

PID = "PAT_de000001"
ROLES: dict[str, Principal | None] = {
    "nurse": Principal("nurse", Role.NURSE),
    "doctor": Principal("doctor", Role.DOCTOR),
    "admin": Principal("admin", Role.ADMIN),
    "signed-out": None,
}


class _NoDays:
    def backfill(self, email: str, start: date, end: date) -> dict[str, dict[str, object]]:
        return {}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    app = build_app(Settings(data_dir=tmp_path_factory.mktemp("authz"), store="sqlite", blobs="local", queue="sqlite"))
    seed_demo(app.stores, days=30)
    auth.add_user(app.stores, "victim", "victim-password", Role.NURSE)
    return app


def _draft(app: App) -> Note:
    return app.stores.notes.add(Note(patient_id=PID, sections={"subjective": "cough"}))


def _signed(app: App) -> Note:
    note = _draft(app)
    return app.stores.notes.update(
        note.model_copy(update={"status": NoteStatus.SIGNED, "signer": "doctor"}), note.version
    )


def _recorded(app: App) -> Note:
    key = app.blobs.put(uuid.uuid4().bytes, "audio/wav", prefix="audio")
    return app.stores.notes.add(Note(patient_id=PID, sections={"subjective": "cough"}, audio_key=key))


def _document(app: App) -> HistoryEntry:
    key = app.blobs.put(b"\x89PNG\r\n\x1a\n" + uuid.uuid4().bytes, "image/png", prefix="documents")
    return app.stores.history.add(HistoryEntry(patient_id=PID, source="digitize:image", document_key=key))


def _failed_job(app: App) -> str:
    key = app.blobs.put(uuid.uuid4().bytes, "audio/wav", prefix="audio")
    job = Job(
        job_id=f"JOB_{uuid.uuid4().hex[:16]}", kind="scribe", patient_id=PID, blob_key=key, status=JobStatus.FAILED
    )
    app.stores.jobs.add(job)
    return job.job_id


def _reading() -> digitize.Reading:
    return digitize.Reading(filename="rx.png", mime="image/png", pages=[], text="Tab Metformin 500 mg")


Call = Callable[[App, Any], Any]
# qualified name -> (permission needed, call). "principal" may be None (signed out).
ACTIONS: dict[str, tuple[P, Call]] = {
    "api_tokens.create_token": (P.MANAGE_USERS, lambda a, p: api_tokens.create_token(a.stores, p, "victim", days=1)),
    "api_tokens.list_tokens": (P.MANAGE_USERS, lambda a, p: api_tokens.list_tokens(a.stores, p)),
    "api_tokens.revoke_token": (P.MANAGE_USERS, lambda a, p: api_tokens.revoke_token(a.stores, p, "TOK_000000000000")),
    "job_status.get_job": (P.READ_PATIENTS, lambda a, p: job_status.get_job(a.stores, p, _failed_job(a))),
    "ask.ask": (P.ASK, lambda a, p: ask.ask(a.stores, p, PID, "What medications?")),
    "ask.search_by_medication_or_diagnosis": (
        P.ASK,
        lambda a, p: ask.search_by_medication_or_diagnosis(a.stores, p, "metformin"),
    ),
    "audit.audit_trail": (P.READ_AUDIT, lambda a, p: audit.audit_trail(a.stores, p)),
    "audit_verify.verify_audit_chain": (P.READ_AUDIT, lambda a, p: audit_verify.verify_audit_chain(a.stores, p)),
    "auth.create_user": (
        P.MANAGE_USERS,
        lambda a, p: auth.create_user(a.stores, p, f"u{uuid.uuid4().hex[:8]}", "password-123", Role.NURSE),
    ),
    "auth.list_users": (P.MANAGE_USERS, lambda a, p: auth.list_users(a.stores, p)),
    "auth.set_disabled": (P.MANAGE_USERS, lambda a, p: auth.set_disabled(a.stores, p, "victim", False)),
    "auth.set_password": (P.MANAGE_USERS, lambda a, p: auth.set_password(a.stores, p, "victim", "victim-password")),
    "cohort.recent_anomalies": (P.READ_PATIENTS, lambda a, p: cohort.recent_anomalies(a.stores, p)),
    "digitize.read_document": (
        P.DIGITIZE,
        lambda a, p: digitize.read_document(a.digitize_deps(), p, PID, b"", "rx.png"),
    ),
    "digitize.cancel_mismatch": (
        P.DIGITIZE,
        lambda a, p: digitize.cancel_mismatch(a.digitize_deps(), p, PID, _reading()),
    ),
    "digitize.save_digitized": (
        P.DIGITIZE,
        lambda a, p: digitize.save_digitized(a.digitize_deps(), p, PID, b"\x89PNG\r\n\x1a\nx", _reading(), []),
    ),
    "document_jobs.submit_document": (
        P.DIGITIZE,
        lambda a, p: document_jobs.submit_document(a.digitize_deps(), a.queue, p, PID, b"", "rx.png"),
    ),
    "document_jobs.list_document_jobs": (
        P.DIGITIZE,
        lambda a, p: document_jobs.list_document_jobs(a.digitize_deps(), p, PID),
    ),
    "document_jobs.document_job": (
        P.DIGITIZE,
        lambda a, p: document_jobs.document_job(a.digitize_deps(), p, PID, "JOB_gone"),
    ),
    "document_jobs.load_reading": (
        P.DIGITIZE,
        lambda a, p: document_jobs.load_reading(a.digitize_deps(), p, PID, "JOB_gone"),
    ),
    "document_jobs.save_reading": (
        P.DIGITIZE,
        lambda a, p: document_jobs.save_reading(a.digitize_deps(), p, PID, "JOB_gone", None),
    ),
    "document_jobs.discard_reading": (
        P.DIGITIZE,
        lambda a, p: document_jobs.discard_reading(a.digitize_deps(), p, PID, "JOB_gone"),
    ),
    "metrics_jobs.submit_import": (
        P.IMPORT_METRICS,
        lambda a, p: metrics_jobs.submit_import(a.metrics_job_deps(), p, PID, b"", "x.csv"),
    ),
    "metrics_jobs.import_job": (
        P.IMPORT_METRICS,
        lambda a, p: metrics_jobs.import_job(a.metrics_job_deps(), p, "JOB_gone"),
    ),
    "metrics_jobs.import_report": (
        P.IMPORT_METRICS,
        lambda a, p: metrics_jobs.import_report(a.metrics_job_deps(), p, "JOB_gone"),
    ),
    "metrics_jobs.retry_import": (
        P.IMPORT_METRICS,
        lambda a, p: metrics_jobs.retry_import(a.metrics_job_deps(), p, "JOB_gone"),
    ),
    "export.export_bundle": (P.EXPORT, lambda a, p: export.export_bundle(a.stores, p, PID)),
    "export.export_abdm_record": (
        P.EXPORT,
        lambda a, p: export.export_abdm_record(a.stores, p, PID, "OPConsultRecord", _signed(a).timestamp),
    ),
    "export.summary_html": (P.EXPORT, lambda a, p: export.summary_html(a.stores, p, PID)),
    "history.get_history_entry": (
        P.READ_PATIENTS,
        lambda a, p: history.get_history_entry(a.stores, p, PID, _document(a).timestamp),
    ),
    "history.document_original": (
        P.READ_PATIENTS,
        lambda a, p: history.document_original(a.stores, a.blobs, p, PID, _document(a).timestamp),
    ),
    "metrics.import_metrics": (
        P.IMPORT_METRICS,
        lambda a, p: metrics.import_metrics(p, a.stores, a.blobs, PID, b"", "x.csv"),
    ),
    "metrics.import_ultrahuman": (
        P.IMPORT_METRICS,
        lambda a, p: metrics.import_ultrahuman(
            p, a.stores, a.blobs, PID, _NoDays(), "x@example.org", date(2024, 1, 1), date(2024, 1, 2)
        ),
    ),
    "metrics.patient_days": (P.READ_PATIENTS, lambda a, p: metrics.patient_days(p, a.stores, PID)),
    "notes.amend_note": (P.EDIT_NOTES, lambda a, p: notes.amend_note(a.stores, p, _signed(a))),
    "notes.get_note": (P.READ_PATIENTS, lambda a, p: notes.get_note(a.stores, p, PID, _draft(a).timestamp)),
    "notes.list_notes": (P.READ_PATIENTS, lambda a, p: notes.list_notes(a.stores, p, PID)),
    "notes.save_draft": (P.EDIT_NOTES, lambda a, p: notes.save_draft(a.stores, p, _draft(a), {"plan": "rest"})),
    "notes.choose_diagnosis_code": (
        P.EDIT_NOTES,
        lambda a, p: notes.choose_diagnosis_code(a.stores, p, _draft(a), 0, "I10"),
    ),
    "notes.sign_note": (P.SIGN_NOTES, lambda a, p: notes.sign_note(a.stores, p, _draft(a))),
    "notes.sign_draft": (P.SIGN_NOTES, lambda a, p: notes.sign_draft(a.stores, p, _draft(a), {"plan": "rest"})),
    "notes.version_chain": (P.READ_PATIENTS, lambda a, p: notes.version_chain(a.stores, p, _draft(a))),
    "patients.get_patient": (P.READ_PATIENTS, lambda a, p: patients.get_patient(a.stores, p, PID)),
    "patients.list_patients": (P.READ_PATIENTS, lambda a, p: patients.list_patients(a.stores, p)),
    "patients.register_patient": (
        P.WRITE_PATIENTS,
        lambda a, p: patients.register_patient(a.stores, p, patients.PatientInput(name="New Person")),
    ),
    "patients.search_patients": (P.READ_PATIENTS, lambda a, p: patients.search_patients(a.stores, p, "a")),
    "recent_patients.recent_patients": (P.READ_PATIENTS, lambda a, p: recent_patients.recent_patients(a.stores, p, 0)),
    "patients.update_patient": (
        P.WRITE_PATIENTS,
        lambda a, p: patients.update_patient(
            a.stores,
            p,
            PID,
            a.stores.patients.get(PID).version,
            patients.PatientInput(name=a.stores.patients.get(PID).name),
        ),
    ),
    "providers.provider_statuses": (
        P.MANAGE_PROVIDERS,
        lambda a, p: providers.provider_statuses(p, a.registry, a.providers),
    ),
    "providers.test_provider": (
        P.MANAGE_PROVIDERS,
        lambda a, p: providers.test_provider(p, a.registry, a.stores, "llm"),
    ),
    "recordings.recording_audio": (
        P.READ_PATIENTS,
        lambda a, p: recordings.recording_audio(a.stores, a.blobs, p, PID, _recorded(a).timestamp),
    ),
    "retention.purge_audio": (
        P.APPLY_RETENTION,
        lambda a, p: retention.purge_audio(a.stores, a.blobs, p, 3650, dry_run=True),
    ),
    "scribe.delete_job": (P.RECORD, lambda a, p: scribe.delete_job(a.scribe_deps(), p, _failed_job(a))),
    "scribe.list_jobs": (P.READ_PATIENTS, lambda a, p: scribe.list_jobs(a.scribe_deps(), p, PID)),
    "scribe.retry_job": (P.RECORD, lambda a, p: scribe.retry_job(a.scribe_deps(), p, _failed_job(a))),
    "scribe.submit_recording": (P.RECORD, lambda a, p: scribe.submit_recording(a.scribe_deps(), p, PID, b"", "v.wav")),
    "scribe_roles.relabel_roles": (
        P.EDIT_NOTES,
        lambda a, p: scribe_roles.relabel_roles(a.stores, p, PID, _draft(a).timestamp, {}, draft_note),
    ),
    "scribe_roles.confirm_medication": (
        P.EDIT_NOTES,
        lambda a, p: scribe_roles.confirm_medication(a.stores, p, _draft(a), 0),
    ),
    "note_styles.apply_style": (
        P.EDIT_NOTES,
        lambda a, p: note_styles.apply_style(a.stores, p, _draft(a), "brief", {}),
    ),
    "note_styles.upload_template": (
        P.MANAGE_PROVIDERS,
        lambda a, p: note_styles.upload_template(a.stores, p, a.settings.data_dir, "t.toml", b"not = [toml"),
    ),
    "visit_summary.visit_summary": (
        P.EXPORT,
        lambda a, p: visit_summary.visit_summary(a.stores, p, PID, "en", "html", _signed(a).timestamp),
    ),
    "referral.draft_referral": (P.EXPORT, lambda a, p: referral.draft_referral(a.stores, p, PID, _signed(a).timestamp)),
    "referral.save_referral": (
        P.EXPORT,
        lambda a, p: referral.save_referral(a.stores, p, PID, "To: Cardiology\nReason: angina", "Cardiology", "angina"),
    ),
    "timeline.active_medications": (P.READ_PATIENTS, lambda a, p: timeline.active_medications(a.stores, p, PID)),
    "timeline.build_timeline": (P.READ_PATIENTS, lambda a, p: timeline.build_timeline(a.stores, p, PID)),
    "timeline.changed_since": (P.READ_PATIENTS, lambda a, p: timeline.changed_since(a.stores, p, 0)),
    "timeline.dashboard_summary": (P.READ_PATIENTS, lambda a, p: timeline.dashboard_summary(a.stores, p, 0)),
    "uploads.request_upload": (P.RECORD, lambda a, p: uploads.request_upload(a.upload_deps(), p, PID)),
    "uploads.upload_state": (
        P.READ_PATIENTS,
        lambda a, p: uploads.upload_state(a.upload_deps(), p, "UPL_0000000000000000_9999999999"),
    ),
    "change_feed.require_events": (P.READ_PATIENTS, lambda a, p: change_feed.require_events(p)),
    "change_feed.start_position": (P.READ_PATIENTS, lambda a, p: change_feed.start_position(a.stores.changes, p, None)),
    "change_feed.events_after": (P.READ_PATIENTS, lambda a, p: change_feed.events_after(a.stores.changes, p, 0)),
    "patients.link_wearable": (
        P.WRITE_PATIENTS,
        lambda a, p: patients.link_wearable(a.stores, p, PID, a.stores.patients.get(PID).version, "x@example.org"),
    ),
    "wearable_sync.sync_wearables": (
        P.IMPORT_METRICS,
        lambda a, p: wearable_sync.sync_wearables(
            wearable_sync.WearableSyncDeps(a.stores, a.blobs, _NoDays(), lambda: 0, "authz"), date(2024, 1, 1), p
        ),
    ),
}
# Public functions that act without a user, and why that is safe.
NO_PRINCIPAL = {
    "access.record",
    "access.require",
    "audit_shown.record_shown",  # the mechanism itself
    "auth.login",
    "api_tokens.principal_for_token",
    "api_tokens.principal_for_oidc_claims",  # like sign-in: a presented token or verified JWT gives the principal
    "auth.principal_for_sso",
    "auth.principal_of",
    "auth.hash_password",  # sign-in produces the principal
    "auth.add_user",
    "auth.ensure_user",  # operator CLI and demo seeding (need shell access to the data dir)
    "auth.check_username",
    "auth.password_matches",  # pure checks
    "auth.display_name",  # how a signer is named on printed pages (the caller checked its own permission)
    "first_admin.token_path",
    "first_admin.issue_setup_token",
    "first_admin.check_setup_token",
    "first_admin.create_first_admin",  # the setup token (printed on the server's console) is the authority
    "first_admin.needs_first_admin",  # a yes/no the sign-in page shows before anyone has an account
    "login_guard.count_refusal",  # pure counting rule
    "demo.is_demo_database",  # a yes/no the sign-in page shows
    "digitize.mismatch_summary",  # wording of a reading the caller already holds (no store access)
    "backup.create_backup",
    "backup.restore_backup",
    "backup.read_manifest",
    "backup.has_data",
    "backup.sha256_file",  # CLI
    "demo.demo_accounts",
    "demo.demo_patient_id",
    "demo.seed_demo",
    "demo_metrics.write_demo_metrics",  # demo seeding CLI
    "jobs.start_local_worker",
    "runtime.start_background",  # process start-up
    "sessions.stamp_session",
    "sessions.session_problem",  # the session check itself: it decides whether there is a principal
    "clock.clock_from_environ",
    "clock.session_clock",  # the session clock (a test-only hook can only move it forward), no data
    "scribe.process_job",
    "scribe.run_job_attempt",
    "scribe.probe_recording",  # a check of bytes against the limits; its callers check the role first
    "scribe.store_result",  # the worker: keeps a finished job's result under the attempt that holds the job
    "scribe.resume_interrupted",  # the worker: the job was authorised when it was submitted
    "scribe.speech_engine",  # the worker: names the engine that served the job's own call; reads no record
    "retention.blobs_in_use",  # internal: called by services after their own check (a failed write, delete_job)
    "retention.release_blob",  # internal: deletes only what no record names, after the caller's own check
    "job_submit.enqueue_stored",  # internal: records and queues a job its caller already authorised
    "job_submit.is_job_of_kind",  # the worker's dispatch: reads a job's kind, returns nothing of it
    "job_submit.job_submitter",  # the worker: whom to act as; the services it calls check that role
    "job_submit.own_job",  # internal: called by the job lookups after their own permission check
    "document_jobs.is_document_job",
    "document_jobs.process_document_job",  # the worker: it reads as the submitter, whose role it checks then
    "metrics_jobs.is_metrics_job",
    "metrics_jobs.process_metrics_job",  # the worker: it imports as the submitter, whose role it checks then
    "submitted_jobs.run_as_submitter",  # the worker: those two handlers' delivery, as the submitter (checked then)
    "reading_blob.encode_reading",
    "reading_blob.decode_reading",  # the stored form of a reading (no store access)
    "metrics.import_file",
    "metrics.days_frame",  # called by import_metrics / patient_days after their check
    "metrics.upload_kind",  # a file name's extension for the audit line; no store access
    "paging.every",  # walks a store query its caller chose (callers check their own permission)
    "timeline.all_notes",
    "timeline.all_history",
    "timeline.medication_sources",  # helpers of checked functions
    "ask_index.citation_exists",
    "ask_index.history_passages",
    "ask_index.note_passages",  # helpers of ask()
    "ask_index.patient_index",
    "ask_index.recency",
    "ask_index.refresh_index",  # the background index builder: questions (ask) check their own permission
    "fhir_cache.entries_digest",  # a digest of plain data; export_bundle checks the permission
    "draft_report.heard_from_audio",
    "draft_report.heard_from_text",
    "draft_report.note_text",
    "draft_report.parse_transcript",
    "draft_report.report",  # the `draft` command and `eval scribe`: an operator's files, no store access
    "scribe_pipeline.draft_transcript",
    "scribe_pipeline.label_transcript",
    "scribe_pipeline.mark_recovered",
    "scribe_pipeline.renumber",
    "scribe_pipeline.transcribe_recording",  # the worker's steps: the job was authorised when it was submitted
    "scribe_roles.swapped_roles",
    "scribe_roles.confirmed",  # pure changes of a note the caller already holds
    "visit_summary.pick_note",  # helper of visit_summary() after its check
    "ask_classes.cited_passages",
    "ask_classes.class_facts",
    "ask_classes.facts_context",
    "ask_classes.facts_text",  # helpers of ask() after its check
    "note_styles.can_restyle",
    "note_styles.render_note",
    "note_styles.style_titles",
    "note_styles.templates_dir",  # pure: a note or templates the caller already holds
    "note_styles.list_templates",  # template files are not patient data: any signed-in role
    "note_styles.default_style",
    "note_styles.set_default_style",  # the signed-in user's own preference
    "uploads.accept_local_form",  # the form's signed policy is the authority (as a presigned POST is for S3)
    "uploads.handle_event",  # the upload consumer: the upload was authorised when its form was signed
}


def _audit_rows(app: App) -> int:
    with sqlite3.connect(app.settings.db_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0])


# Signed-out calls of auth.* and api_tokens.* mean the operator's command line (actor=None): see test_cli_actor_cannot_add_users.
CASES = [
    (a, r) for a in sorted(ACTIONS) for r in ROLES if not (r == "signed-out" and a.startswith(("auth.", "api_tokens.")))
]


@pytest.mark.parametrize(("action", "role"), CASES)
def test_role_x_action(app: App, action: str, role: str) -> None:
    principal = ROLES[role]
    permission, call = ACTIONS[action]
    allowed = principal is not None and principal.can(permission)
    if allowed:
        try:
            call(app, principal)
        except PermissionDenied as e:
            pytest.fail(f"{role} may {permission.value} but {action} refused: {e.message}")
        except CopilotError:
            pass  # refused for a stated reason other than the role (e.g. an empty file)
    else:
        audit_before = _audit_rows(app)
        with pytest.raises(PermissionDenied) as caught:
            call(app, principal)
        assert (
            caught.value.message
            in ("Please sign in first.", f"Your role ({principal.role.value}) may not {permission.value}.")
            if principal
            else True
        )
        assert _audit_rows(app) == audit_before  # nothing was done, so nothing was logged


def test_every_public_service_function_is_covered() -> None:
    names: set[str] = set()
    for info in pkgutil.iter_modules(backend.services.__path__):
        module = importlib.import_module(f"backend.services.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                names.add(f"{info.name}.{name}")
    missing = names - set(ACTIONS) - NO_PRINCIPAL
    assert not missing, f"add these to ACTIONS (role x action) or, with a reason, to NO_PRINCIPAL: {sorted(missing)}"
    for qualified in ACTIONS:
        module_name, name = qualified.split(".")
        params = inspect.signature(getattr(importlib.import_module(f"backend.services.{module_name}"), name)).parameters
        assert {"principal", "actor"} & set(params), qualified


def test_cli_actor_cannot_add_users(app: App) -> None:
    with pytest.raises(ValidationFailed, match="sign in as an admin"):
        auth.create_user(app.stores, None, "intruder", "password-123", Role.ADMIN)


def test_admin_sees_no_clinical_data(app: App) -> None:
    admin = ROLES["admin"]
    for permission, call in ACTIONS.values():
        if permission in (P.READ_PATIENTS, P.ASK, P.EXPORT):
            with pytest.raises(PermissionDenied):
                call(app, admin)
    assert admin is not None and not admin.can(P.READ_PATIENTS)
