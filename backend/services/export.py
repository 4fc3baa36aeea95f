"""Exports of one patient's record: a FHIR R4 Bundle and a printable HTML summary. Both are audited."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, tzinfo
from typing import Any

from backend.domain.errors import NotFound, ValidationFailed
from backend.domain.models import MetricDay, NoteStatus, now_ms
from backend.domain.reconcile import reconcile
from backend.domain.summary_html import render_summary
from backend.formats.fhir_abdm import KINDS, RecordKind, build_abdm_bundle
from backend.formats.fhir_bundle import validated_bundle
from backend.formats.fhir_r4 import bundle_data, note_text
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.fhir_cache import FhirBundleCache, entries_digest
from backend.services.timeline import all_history, all_notes, medication_sources

EpisodesFor = Callable[[str], list[Mapping[str, Any]]]


def export_bundle(
    stores: RecordStore, principal: Principal, patient_id: str, cache: FhirBundleCache | None = None
) -> dict[str, Any]:
    """The patient's FHIR R4 ``collection`` Bundle (validated) as a JSON-ready dict.

    Holds the Patient, signed notes (DocumentReference), the reconciled medications (MedicationStatement) and
    every daily metric with a LOINC code (Observation). Drafts are not exported.

    Args:
        cache: with one, a patient whose records give the same entries as last time gets the bundle validated
            then (its ``timestamp`` says when), without validating again; the result is shared, never change it.

    Raises:
        PermissionDenied (needs EXPORT), NotFound (unknown patient).
    """
    require(principal, Permission.EXPORT)
    patient = stores.patients.get(patient_id)
    notes = all_notes(stores, patient_id)
    meds = reconcile(medication_sources(notes, all_history(stores, patient_id)))
    signed = [n for n in notes if n.status is NoteStatus.SIGNED]
    days = stores.metrics.days(patient_id)
    data = bundle_data(patient, signed, meds, days, now_ms())
    digest = entries_digest(data["entry"]) if cache is not None else ""
    bundle = cache.get(patient_id, digest) if cache is not None else None
    if bundle is None:
        bundle = validated_bundle(data, f"The FHIR export of {patient_id}")
        if cache is not None:
            cache.put(patient_id, digest, bundle)
    record(stores.audit, principal, "export.fhir", patient_id, f"entries={len(bundle.get('entry', []))}")
    return bundle


def export_abdm_record(
    stores: RecordStore, principal: Principal, patient_id: str, kind: RecordKind, note_ts: int | None = None
) -> dict[str, Any]:
    """One signed note as an ABDM (NRCeS-profiled) document Bundle: "OPConsultRecord" or "PrescriptionRecord".

    Args:
        note_ts: the note's timestamp; None: the latest signed note.

    Raises:
        PermissionDenied (needs EXPORT), NotFound (unknown patient, or no such signed note), ValidationFailed
        (unknown kind, a prescription without medications).
    """
    require(principal, Permission.EXPORT)
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown ABDM record type {kind!r}; one of {', '.join(KINDS)}.")
    patient = stores.patients.get(patient_id)
    signed = [n for n in all_notes(stores, patient_id) if n.status is NoteStatus.SIGNED]
    chosen = [n for n in signed if note_ts is None or n.timestamp == note_ts]
    if not chosen:
        raise NotFound("No signed note to export." if note_ts is None else f"No signed note at {note_ts}.")
    note = max(chosen, key=lambda n: n.timestamp)
    bundle = build_abdm_bundle(kind, patient, note, note_text(note), now_ms())
    record(stores.audit, principal, f"export.abdm.{kind}", patient_id, f"note={note.timestamp}")
    return bundle


def _latest_per_metric(days: list[MetricDay]) -> list[MetricDay]:
    latest: dict[str, MetricDay] = {}
    for d in days:  # ascending by day: the last one wins
        latest[d.metric] = d
    return sorted(latest.values(), key=lambda d: d.metric)


def summary_html(
    stores: RecordStore,
    principal: Principal,
    patient_id: str,
    episodes_for: EpisodesFor | None = None,
    recent_notes: int = 5,
    tz: tzinfo = UTC,
) -> str:
    """Printable HTML summary: demographics, reconciled medications, recent signed notes, latest metrics, anomalies.

    Days are shown in ``tz``, the clinic's zone (``Settings.clinic_tz``).
    """
    require(principal, Permission.EXPORT)
    patient = stores.patients.get(patient_id)
    notes = all_notes(stores, patient_id)
    meds = reconcile(medication_sources(notes, all_history(stores, patient_id)), tz=tz)
    signed = [n for n in notes if n.status is NoteStatus.SIGNED][:recent_notes]
    latest = _latest_per_metric(stores.metrics.days(patient_id))
    episodes = list(episodes_for(patient_id)) if episodes_for else []
    page = render_summary(patient, meds, signed, latest, episodes, now_ms(), tz)
    record(stores.audit, principal, "export.summary", patient_id)
    return page
