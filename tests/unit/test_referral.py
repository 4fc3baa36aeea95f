"""The referral letter: only the records' facts, active medications, missing parts left out, escaped HTML; the
service refuses drafts and other roles, saves the edited letter as a timeline document and audits without text."""

from __future__ import annotations

from typing import Any

import pytest

from backend.domain.errors import PermissionDenied, ValidationFailed
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role
from backend.domain.note_content import CitedText
from backend.domain.reconcile import ActiveMed
from backend.domain.referral import (
    ReferralNeedsSignedNote,
    addressed,
    build_referral,
    render_html,
    render_text,
    text_html,
)
from backend.domain.timeline import history_items
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.referral import draft_referral, save_referral
from tests.fakes.records import fake_record_store

PID = "PAT_00000001"
VISIT_MS = 1_741_564_800_000  # 10 March 2025, 00:00 UTC
PATIENT = Patient(patient_id=PID, name="Asha Rao", dob="1961-04-02")
DOCTOR = Principal("doctor", Role.DOCTOR)
NURSE = Principal("nurse", Role.NURSE)


def _note(status: NoteStatus = NoteStatus.SIGNED, **sections: str) -> Note:
    return Note(
        patient_id=PID,
        timestamp=VISIT_MS,
        status=status,
        signer="doctor" if status is NoteStatus.SIGNED else None,
        sections=sections,
        allergies=[CitedText(text="penicillin"), CitedText(text="latex")],
    )


def _active(name: str, status: str = "active", **kw: Any) -> ActiveMed:
    return ActiveMed(name=name, strength=kw.pop("strength", None), frequency=kw.pop("frequency", None),
                     sources=[], first_seen=0, last_seen=0, status=status, verified=True, **kw)  # fmt: skip


FULL = {
    "subjective": "Chest pain on exertion for 3 weeks. Allergic to penicillin.",
    "objective": "Blood pressure 150/95. Heart rate 88. Mild ankle oedema.",
    "assessment": "Suspected stable angina. Hypertension poorly controlled.",
    "plan": "Refer to cardiology.",
}


def test_letter_holds_only_the_notes_facts_and_the_typed_parts() -> None:
    meds = [_active("amlodipine", strength="5 mg", frequency="once daily"), _active("atenolol", status="stopped")]
    r = addressed(
        build_referral(_note(**FULL), PATIENT, meds, clinician="Dr Mehta"),
        "Cardiology, City Hospital",
        "Angina work-up",
    )
    text = render_text(r)
    assert "To: Cardiology, City Hospital" in text and "Reason for referral: Angina work-up" in text
    assert r.reason_suggestion == "Suspected stable angina."  # offered, never put in the letter unasked
    assert "Suspected stable angina" not in text
    assert "Chest pain on exertion for 3 weeks." in text
    assert ("Blood pressure", "150/95 mmHg") in r.vitals and "Mild ankle oedema." in text
    assert r.allergies == ["penicillin"]  # "latex" is in the working fields only, not in the signed text
    assert "- amlodipine 5 mg once daily" in text and "atenolol" not in text  # stopped drugs are not current
    assert "Referring clinician: Dr Mehta" in text and "1961-04-02" in text
    assert "Refer to cardiology" not in text  # the plan is not a part of the letter


def test_missing_parts_are_left_out() -> None:
    r = build_referral(_note(assessment=""), PATIENT, [])
    text = render_text(r)
    assert r.reason_suggestion is None and r.history is None and r.findings is None and not r.vitals
    for heading in ("To:", "Reason for referral", "Relevant history", "Allergies", "Current medications", "Findings"):
        assert heading not in text
    assert "Referring clinician: doctor" in text  # the signer's username when no display name is known


def test_unverified_name_and_dose_conflict_are_flagged() -> None:
    unverified = ActiveMed(name="metfromin", strength=None, frequency=None, sources=[], first_seen=0, last_seen=0)
    meds = [unverified, _active("ramipril", conflict=True, conflict_detail="2.5 mg vs 5 mg")]
    r = build_referral(_note(**FULL), PATIENT, meds)
    assert "metfromin (name not verified)" in r.medications
    assert any("ramipril" in n for n in r.notices)


def test_draft_note_is_refused() -> None:
    with pytest.raises(ReferralNeedsSignedNote):
        build_referral(_note(NoteStatus.DRAFT, **FULL), PATIENT, [])


def test_html_is_escaped() -> None:
    note = _note(subjective="<script>alert(1)</script> & pain", objective="")
    r = addressed(build_referral(note, PATIENT, [_active("<b>x</b>")]), "Dr <i>Who</i>", 'a "quote"')
    page = render_html(r)
    assert "<script>" not in page and "&lt;script&gt;" in page and "&amp; pain" in page
    assert "<b>x</b>" not in page and "Dr &lt;i&gt;Who&lt;/i&gt;" in page and "&quot;quote&quot;" in page
    edited = text_html("To: <img src=x onerror=alert(1)>\nline two")
    assert "<img" not in edited and "line two" in edited


# --- the service, on the fakes ----------------------------------------------------------------------------


@pytest.fixture
def stores() -> RecordStore:
    s = fake_record_store()
    s.patients.add(PATIENT)
    s.notes.add(_note(**FULL))
    s.notes.add(_note(NoteStatus.DRAFT, **FULL).model_copy(update={"timestamp": VISIT_MS + 1}))
    s.history.add(HistoryEntry(patient_id=PID, timestamp=VISIT_MS - 5, source="import",
                               medications=[Medication(name="amlodipine", strength="5 mg", verified=True)]))  # fmt: skip
    return s


def test_draft_uses_the_reconciled_active_list_and_is_audited(stores: RecordStore) -> None:
    r = draft_referral(stores, DOCTOR, PID, VISIT_MS)
    assert r.medications == ["amlodipine 5 mg"]
    assert [e.action for e in stores.audit.query(patient_id=PID).items] == ["referral.draft"]


def test_draft_refused_for_a_draft_note_and_for_a_nurse(stores: RecordStore) -> None:
    with pytest.raises(ReferralNeedsSignedNote):
        draft_referral(stores, DOCTOR, PID, VISIT_MS + 1)
    with pytest.raises(PermissionDenied):
        draft_referral(stores, NURSE, PID, VISIT_MS)
    with pytest.raises(PermissionDenied):
        save_referral(stores, NURSE, PID, "To: Cardiology\nReason: angina", "Cardiology", "angina")


def test_saved_as_a_timeline_document_and_audited_without_text(stores: RecordStore) -> None:
    letter = render_text(addressed(draft_referral(stores, DOCTOR, PID, VISIT_MS), "Cardiology", "Angina work-up"))
    letter += "\nPlease see within two weeks.\n"  # the doctor's edit is what is saved
    entry = save_referral(stores, DOCTOR, PID, letter, "Cardiology", "Angina work-up")
    stored = stores.history.get(PID, entry.timestamp)
    assert stored.source == "referral" and "Please see within two weeks." in stored.extracted_text
    assert stored.author == "doctor" and not stored.medications
    [item] = history_items([stored])
    assert (item.kind, item.title) == ("document", "Referral letter")
    audit = stores.audit.query(patient_id=PID).items[0]
    assert audit.action == "referral.create"
    assert "Angina" not in audit.detail and "Cardiology" not in audit.detail and "pain" not in audit.detail


@pytest.mark.parametrize(
    ("letter", "to", "reason"),
    [("To: Cardiology\nAngina", "", "Angina"), ("To: Cardiology", "Cardiology", "Angina"), ("", "x", "y")],
)
def test_save_refuses_an_incomplete_letter(stores: RecordStore, letter: str, to: str, reason: str) -> None:
    with pytest.raises(ValidationFailed):
        save_referral(stores, DOCTOR, PID, letter, to, reason)
    assert not [e for e in stores.history.list_for_patient(PID, None, 50).items if e.source == "referral"]
