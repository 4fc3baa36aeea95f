"""Audit actions in words for the dashboard's recent activity ("signed a note", not "note.sign")."""

from __future__ import annotations

WORDS = {
    "auth.login": "signed in",
    "auth.login.sso": "signed in (single sign-on)",
    "auth.login.failed": "failed sign-in",
    "auth.lockout": "account locked after failed sign-ins",
    "patient.search": "searched patients",
    "patient.list": "listed patients",
    "patient.recent": "viewed recent patients",
    "patient.read": "opened a patient",
    "patient.create": "registered a patient",
    "patient.update": "edited a patient's details",
    "patient.wearable_link": "linked a wearable",
    "scribe.submit": "sent a recording for a draft",
    "scribe.retry": "retried a recording",
    "scribe.delete_job": "deleted a failed recording",
    "note.list": "listed notes",
    "note.read": "opened a note",
    "note.drafted": "draft ready",
    "note.edit": "edited a draft",
    "note.relabel": "changed speaker roles",
    "note.style": "changed a note's style",
    "note.confirm_medication": "confirmed a drug name",
    "note.code_diagnosis": "coded a diagnosis",
    "note.audio_play": "played a recording",
    "note.sign": "signed a note",
    "note.signed": "signed a note",
    "note.amend": "started an amendment",
    "digitize.submit": "sent a document to be read",
    "digitize.read": "read a document",
    "digitize.save": "saved a document's medications",
    "digitize.identity_confirmed": "confirmed a document's patient",
    "digitize.identity_cancelled": "cancelled a document (wrong patient)",
    "document.open": "opened a document",
    "history.read": "opened a medication list or document",
    "medications.read": "viewed active medications",
    "timeline.read": "viewed a timeline",
    "metrics.read": "viewed health metrics",
    "metrics.cohort": "viewed patients with anomalies",
    "metrics.submit": "sent health data to import",
    "metrics.import": "imported health data",
    "export.fhir": "exported a FHIR bundle",
    "export.summary": "printed a patient summary",
    "export.visit_summary": "printed an after-visit summary",
    "referral.draft": "drafted a referral",
    "referral.create": "saved a referral",
    "job.ready": "draft ready",
    "job.failed": "job failed",
}


SHOWN = ".shown"  # a per-patient line of a list (backend.services.audit_shown): the patient was on that list


def action_words(action: str) -> str:
    """``note.sign`` -> "signed a note"; an action without words of its own is shown with spaces ("ask question").

    A ``<action>.shown`` line says the patient was on the list that action showed ("on a list: searched patients").
    """
    if action.endswith(SHOWN) and action != SHOWN:
        return f"on a list: {action_words(action.removesuffix(SHOWN))}"
    return WORDS.get(action) or action.replace(".", " ").replace("_", " ")
