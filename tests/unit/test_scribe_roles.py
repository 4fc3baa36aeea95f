"""Relabelling transcript roles redrafts the draft; recovered drug names are confirmed by the clinician."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from backend.domain.errors import ConcurrentUpdate, PermissionDenied, ValidationFailed
from backend.domain.models import Evidence, Medication, Note, NoteStatus, Role, Segment
from backend.domain.note_content import CitedText, CodeChoice, Diagnosis, NoteContent, Provenance
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.scribe_roles import confirm_medication, relabel_roles, swapped_roles

NURSE = Principal("nurse", Role.NURSE)
ADMIN = Principal("admin", Role.ADMIN)
PID = "PAT_0000abcd"
HEARD = "list in April"


def recovered_med(**update: Any) -> Medication:
    med = Medication(
        name="lisinopril",
        verbatim=HEARD,
        strength="10 mg",
        found_by="sounds_like",
        heard_as=HEARD,
        flags=[f"name recovered from speech heard as “{HEARD}”: confirm", "strength unclear"],
        evidence=Evidence(segment_ids=[1]),
    )
    return med.model_copy(update=update)


def who_said_what(segments: Sequence[Segment]) -> NoteContent:
    """A drafter that writes each role's words into its own section, so a relabel shows in the draft."""
    said = {r: " ".join(s.text for s in segments if s.speaker == r) for r in ("patient", "clinician")}
    return NoteContent(
        sections={"subjective": said["patient"], "objective": said["clinician"]},
        chief_complaint=CitedText(text=said["patient"][:40], segment_ids=[0]),
        medications=[recovered_med()],
        provenance=Provenance(unsupported=["aspirin"]),
    )


def add_note(stores: RecordStore, **update: Any) -> Note:
    note = Note(
        patient_id=PID,
        timestamp=1_000,
        author="nurse",
        transcript=[
            Segment(id=0, start=0.0, end=2.0, text="Any pain today?", speaker="patient", role_source="voice"),
            Segment(id=1, start=2.0, end=5.0, text=f"My chest hurts, I take {HEARD}.", speaker="clinician"),
            Segment(id=2, start=5.0, end=6.0, text="She is tired too.", speaker="other", role_source="wording"),
        ],
        sections={"subjective": "edited by hand"},
        edited_by="nurse",
        provenance=Provenance(audio_warnings=["One voice only was heard."], engine_fallback="stt off"),
        medications=[recovered_med()],
    )
    return stores.notes.add(note.model_copy(update=update))


def test_swap_relabels_every_clinician_and_patient_turn_and_redrafts(stores: RecordStore) -> None:
    note = add_note(stores)
    saved = relabel_roles(stores, NURSE, PID, note.timestamp, swapped_roles(note), who_said_what, version=1)
    assert [(s.speaker, s.role_source) for s in saved.transcript] == [
        ("clinician", "clinician"),
        ("patient", "clinician"),
        ("other", "wording"),
    ]
    assert saved.sections["subjective"].startswith("My chest hurts")  # (drug names may be recovered in it)
    assert saved.sections["objective"] == "Any pain today?"
    assert saved.version == 2 and stores.notes.get(PID, note.timestamp) == saved
    # The redraft is the drafter's, not the clinician's edit; facts about the recording stay.
    assert saved.edited_by is None and saved.speakers.roles_set_by == "nurse"
    assert saved.provenance.audio_warnings == ["One voice only was heard."]
    assert saved.provenance.engine_fallback == "stt off"
    assert saved.provenance.unsupported == ["aspirin"]


def test_single_turn_relabel_counts_only_real_changes_in_the_audit(stores: RecordStore) -> None:
    note = add_note(stores)
    saved = relabel_roles(stores, NURSE, PID, note.timestamp, {0: "patient", 1: "patient"}, who_said_what)
    assert [s.speaker for s in saved.transcript] == ["patient", "patient", "other"]
    assert [s.role_source for s in saved.transcript] == ["voice", "clinician", "wording"]
    event = stores.audit.query(patient_id=PID).items[0]
    assert (event.action, event.actor) == ("note.relabel", "nurse")
    assert event.detail == "1000: 1 turn(s) changed"
    assert "chest" not in event.detail and "lisinopril" not in event.detail


def test_no_change_saves_nothing(stores: RecordStore) -> None:
    note = add_note(stores)
    same = relabel_roles(stores, NURSE, PID, note.timestamp, {0: "patient"}, who_said_what)
    assert same.version == 1 and same.sections == note.sections
    assert not stores.audit.query(patient_id=PID).items


def test_signed_note_is_refused(stores: RecordStore) -> None:
    note = add_note(stores, status=NoteStatus.SIGNED, signer="doctor")
    with pytest.raises(ValidationFailed, match="signed"):
        relabel_roles(stores, NURSE, PID, note.timestamp, swapped_roles(note), who_said_what)
    assert stores.notes.get(PID, note.timestamp).transcript == note.transcript


def test_stale_version_is_refused(stores: RecordStore) -> None:
    note = add_note(stores)
    stores.notes.update(note, note.version)  # someone else saved meanwhile
    with pytest.raises(ConcurrentUpdate, match="changed by someone else"):
        relabel_roles(stores, NURSE, PID, note.timestamp, swapped_roles(note), who_said_what, version=note.version)


def test_roles_need_the_right_to_edit_drafts(stores: RecordStore) -> None:
    note = add_note(stores)
    with pytest.raises(PermissionDenied):
        relabel_roles(stores, ADMIN, PID, note.timestamp, swapped_roles(note), who_said_what)
    with pytest.raises(PermissionDenied):
        confirm_medication(stores, ADMIN, note, 0)


@pytest.mark.parametrize(("roles", "message"), [({7: "patient"}, "no turn 7"), ({0: "doctor"}, "not a role")])
def test_unknown_turn_or_role_is_refused(stores: RecordStore, roles: dict[int, str], message: str) -> None:
    note = add_note(stores)
    with pytest.raises(ValidationFailed, match=message):
        relabel_roles(stores, NURSE, PID, note.timestamp, roles, who_said_what)


def test_confirming_a_recovered_name_keeps_what_was_heard(stores: RecordStore) -> None:
    note = add_note(stores)
    saved = confirm_medication(stores, NURSE, note, 0)
    med = saved.medications[0]
    assert (med.verified, med.found_by, med.heard_as) == (True, "clinician", HEARD)
    assert med.flags == ["strength unclear"]  # the "confirm" request is answered; other doubts stay
    assert saved.sections == note.sections and saved.version == 2
    event = stores.audit.query(patient_id=PID).items[0]
    assert event.action == "note.confirm_medication" and "lisinopril" not in event.detail


def test_confirming_needs_a_recovered_name_on_a_current_draft(stores: RecordStore) -> None:
    note = add_note(stores, medications=[Medication(name="metformin", found_by="dictionary", verified=True)])
    with pytest.raises(ValidationFailed, match="not recovered"):
        confirm_medication(stores, NURSE, note, 0)
    recovered = add_note(stores, timestamp=2_000)
    confirm_medication(stores, NURSE, recovered, 0)
    with pytest.raises(ConcurrentUpdate):
        confirm_medication(stores, NURSE, recovered, 0)  # the screen still shows version 1


def test_a_confirmed_name_stays_confirmed_through_a_redraft(stores: RecordStore) -> None:
    note = confirm_medication(stores, NURSE, add_note(stores), 0)
    saved = relabel_roles(stores, NURSE, PID, note.timestamp, swapped_roles(note), who_said_what)
    med = saved.medications[0]
    assert (med.verified, med.found_by, med.heard_as) == (True, "clinician", HEARD)


def test_swapped_roles_leaves_other_and_unknown_turns() -> None:
    note = Note(
        patient_id=PID,
        transcript=[
            Segment(id=0, start=0, end=1, text="a", speaker="clinician"),
            Segment(id=1, start=1, end=2, text="b", speaker="other"),
            Segment(id=2, start=2, end=3, text="c"),
            Segment(id=3, start=3, end=4, text="d", speaker="patient"),
        ],
    )
    assert swapped_roles(note) == {0: "patient", 3: "clinician"}


def test_a_name_the_second_listen_found_survives_a_redraft(stores: RecordStore) -> None:
    # "project" was decoded again with drug names as hot words and heard as Prozac (fluoxetine); the redraft has
    # no audio to listen to, and "project" alone is an English word the sounds-like recovery never replaces.
    from backend.domain.drafting import draft_note
    from backend.domain.note_content import RecoveredName

    transcript = [
        Segment(id=0, start=0.0, end=2.0, text="How is your mood these days?", speaker="patient"),
        Segment(id=1, start=2.0, end=5.0, text="Much better, thank you.", speaker="clinician"),
        Segment(id=2, start=5.0, end=9.0, text="Let's continue the project 20 milligrams a day.", speaker="patient"),
    ]
    heard = RecoveredName(segment_id=2, heard="project", drug="fluoxetine", score=0.7)
    note = add_note(
        stores,
        transcript=transcript,
        medications=[recovered_med(name="fluoxetine", heard_as="project", evidence=Evidence(segment_ids=[2]))],
        provenance=Provenance(recovered_names=[heard]),
    )
    saved = relabel_roles(stores, NURSE, PID, note.timestamp, swapped_roles(note), draft_note)
    meds = [(m.name, m.strength, m.found_by, m.heard_as, m.verified) for m in saved.medications]
    assert meds == [("fluoxetine", "20 mg", "sounds_like", "project", False)]
    assert saved.provenance.recovered_names == [heard]
    assert saved.transcript[2].text == "Let's continue the project 20 milligrams a day."  # the transcript as heard


def test_a_clinicians_code_choice_stays_with_its_diagnosis_through_a_redraft(stores: RecordStore) -> None:
    chosen = CodeChoice(code="I10", by="doctor", at=5)

    def with_diagnoses(segments: Sequence[Segment]) -> NoteContent:
        return who_said_what(segments).model_copy(
            update={"diagnoses": [Diagnosis(text="hypertension", segment_ids=[1]), Diagnosis(text="asthma")]}
        )

    note = add_note(stores, diagnoses=[Diagnosis(text="Hypertension ", icd10=chosen), Diagnosis(text="gout")])
    saved = relabel_roles(stores, NURSE, PID, note.timestamp, swapped_roles(note), with_diagnoses)
    # The decision follows the same words; a diagnosis nobody decided on stays a suggestion.
    assert [(d.text, d.icd10) for d in saved.diagnoses] == [("hypertension", chosen), ("asthma", None)]
