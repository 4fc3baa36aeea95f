"""Three speakers: swapping patient and other (or clinician and other) redoes the draft in one step and keeps
what the clinician already decided (confirmed drug names, ICD-10 choices)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from backend.domain.errors import ValidationFailed
from backend.domain.models import Evidence, Medication, Note, Role, Segment
from backend.domain.note_content import CodeChoice, Diagnosis, NoteContent
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.scribe_roles import SWAPS, confirm_medication, relabel_roles, swapped_roles

NURSE = Principal("nurse", Role.NURSE)
PID = "PAT_0000abce"
HEARD = "met for min"
CHOSEN = CodeChoice(code="E11.9", by="doctor", at=5)


def by_role(segments: Sequence[Segment]) -> NoteContent:
    """A drafter that files each role's words apart (subjective: patient, objective: clinician, plan: other)."""
    said = {r: " ".join(s.text for s in segments if s.speaker == r) for r in ("patient", "clinician", "other")}
    med = Medication(name="metformin", found_by="sounds_like", heard_as=HEARD, evidence=Evidence(segment_ids=[1]))
    return NoteContent(
        sections={"subjective": said["patient"], "objective": said["clinician"], "plan": said["other"]},
        medications=[med],
        diagnoses=[Diagnosis(text="type 2 diabetes", segment_ids=[1])],
    )


def three_speaker_note(stores: RecordStore) -> Note:
    """A child's visit: the parent's turns were taken for the patient's, the child's for a third speaker's."""
    transcript = [
        Segment(id=0, start=0.0, end=2.0, text="What brings you in?", speaker="clinician", role_source="voice"),
        Segment(id=1, start=2.0, end=6.0, text=f"He takes {HEARD} and is thirsty.", speaker="patient"),
        Segment(id=2, start=6.0, end=8.0, text="I drink lots of water.", speaker="other", role_source="voice"),
        Segment(id=3, start=8.0, end=9.0, text="Mm.", role_source="voice"),  # role not known: stays unknown
    ]
    drafted = by_role(transcript).model_copy(update={"diagnoses": [Diagnosis(text="Type 2 diabetes", icd10=CHOSEN)]})
    note = Note(patient_id=PID, timestamp=2_000, author="nurse").with_content(drafted, transcript=transcript)
    return confirm_medication(stores, NURSE, stores.notes.add(note), 0)


def test_swap_patient_and_other_redoes_the_draft_and_keeps_the_clinicians_decisions(stores: RecordStore) -> None:
    note = three_speaker_note(stores)
    saved = relabel_roles(
        stores, NURSE, PID, note.timestamp, swapped_roles(note, "patient", "other"), by_role, version=note.version
    )
    assert [(s.speaker, s.role_source) for s in saved.transcript] == [
        ("clinician", "voice"),
        ("other", "clinician"),
        ("patient", "clinician"),
        (None, "voice"),
    ]
    assert saved.sections["subjective"] == "I drink lots of water."
    assert saved.sections["plan"].startswith("He takes")
    assert saved.sections["objective"] == "What brings you in?"
    med = saved.medications[0]
    assert (med.name, med.verified, med.found_by, med.heard_as) == ("metformin", True, "clinician", HEARD)
    assert [(d.text, d.icd10) for d in saved.diagnoses] == [("type 2 diabetes", CHOSEN)]


def test_swap_clinician_and_other_leaves_the_patient_turns(stores: RecordStore) -> None:
    note = three_speaker_note(stores)
    assert swapped_roles(note, "clinician", "other") == {0: "other", 2: "clinician"}


def test_swapping_twice_gives_the_roles_back(stores: RecordStore) -> None:
    note = three_speaker_note(stores)
    for first, second in SWAPS:
        once = relabel_roles(stores, NURSE, PID, note.timestamp, swapped_roles(note, first, second), by_role)
        back = relabel_roles(stores, NURSE, PID, once.timestamp, swapped_roles(once, first, second), by_role)
        assert [s.speaker for s in back.transcript] == [s.speaker for s in note.transcript]
        note = back


@pytest.mark.parametrize(("first", "second"), [("patient", "patient"), ("patient", "doctor")])
def test_a_swap_needs_two_different_roles(first: str, second: str) -> None:
    with pytest.raises(ValidationFailed, match="two different roles"):
        swapped_roles(Note(patient_id=PID), first, second)
