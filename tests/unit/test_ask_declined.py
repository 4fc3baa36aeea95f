"""Ask's class questions: a statin the patient declined is no "yes, on a statin"; the answer says declined and why."""

from __future__ import annotations

from backend.domain.models import Medication, Note, NoteStatus, Patient, Role
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.ask import ask

P = "PAT_0000dcdc"
T0 = 1_709_251_200_000  # 2024-03-01
REASON = "patient prefers not to take a statin"


def test_a_declined_statin_is_not_now_and_says_why(stores: RecordStore) -> None:
    stores.patients.add(Patient(patient_id=P, name="Meera Iyer", phone="+919812340000"))
    statin = Medication(name="atorvastatin", status="declined", status_reason=REASON, verified=True)
    stores.notes.add(
        Note(
            patient_id=P,
            timestamp=T0,
            status=NoteStatus.SIGNED,
            sections={"plan": "Discussed a statin; the patient prefers not to take one."},
            medications=[statin, Medication(name="metformin", verified=True)],
        )
    )
    answer = ask(stores, Principal("dr", Role.DOCTOR), P, "Is the patient on a statin?")
    assert not answer.text.startswith("Yes")
    assert answer.text.startswith("Not now — no active medicine of the class")
    assert f"atorvastatin (C10AA05): declined ({REASON}), last recorded 2024-03-01" in answer.text


def _signed(ts: int, *meds: Medication) -> Note:
    return Note(patient_id=P, timestamp=ts, status=NoteStatus.SIGNED, medications=list(meds))


def test_a_declined_statin_is_offered_not_started_never_stopped_earlier(stores: RecordStore) -> None:
    stores.patients.add(Patient(patient_id=P, name="Meera Iyer", phone="+919812340000"))
    stores.notes.add(
        _signed(T0, Medication(name="atorvastatin", status="declined", status_reason=REASON, verified=True))
    )
    answer = ask(stores, Principal("dr", Role.DOCTOR), P, "Is the patient on a statin?")
    first = answer.text.splitlines()[0]
    assert first.endswith("; offered, not started (declined):")
    assert "stopped" not in answer.text.lower()


def test_stopped_and_declined_each_have_their_heading(stores: RecordStore) -> None:
    stores.patients.add(Patient(patient_id=P, name="Meera Iyer", phone="+919812340000"))
    stores.notes.add(_signed(T0, Medication(name="simvastatin", status="stopped", verified=True)))
    stores.notes.add(
        _signed(
            T0 + 86_400_000, Medication(name="atorvastatin", status="declined", status_reason=REASON, verified=True)
        )
    )
    lines = ask(stores, Principal("dr", Role.DOCTOR), P, "Is the patient on a statin?").text.splitlines()
    assert lines[0].startswith("Not now — no active medicine of the class 'statin'") and lines[0].endswith(").")
    stopped_at, declined_at = lines.index("Stopped earlier:"), lines.index("Offered, not started (declined):")
    assert lines[stopped_at + 1].startswith("- simvastatin")
    assert lines[declined_at + 1].startswith("- atorvastatin") and "declined (" in lines[declined_at + 1]


def test_beside_an_active_statin_a_declined_one_is_not_stopped_earlier(stores: RecordStore) -> None:
    stores.patients.add(Patient(patient_id=P, name="Meera Iyer", phone="+919812340000"))
    stores.notes.add(
        _signed(
            T0,
            Medication(name="rosuvastatin", strength="10 mg", verified=True),
            Medication(name="atorvastatin", status="declined", status_reason=REASON, verified=True),
        )
    )
    lines = ask(stores, Principal("dr", Role.DOCTOR), P, "Is the patient on a statin?").text.splitlines()
    assert lines[0].startswith("Yes")
    assert "Stopped earlier:" not in lines
    assert lines[lines.index("Offered, not started (declined):") + 1].startswith("- atorvastatin")


def test_a_note_naming_a_listed_statin_is_no_check_line_but_an_unlisted_one_is(stores: RecordStore) -> None:
    stores.patients.add(Patient(patient_id=P, name="Meera Iyer", phone="+919812340000"))
    stopped = Medication(name="simvastatin", status="stopped", verified=True)
    note = _signed(T0, stopped).model_copy(update={"sections": {"plan": "Simvastatin stopped for muscle pain."}})
    stores.notes.add(note)
    answer = ask(stores, Principal("dr", Role.DOCTOR), P, "Is the patient on a statin?").text
    assert "Check:" not in answer  # simvastatin is listed (stopped): no "that no signed note lists" line
    stores.notes.add(
        _signed(T0 + 86_400_000).model_copy(update={"sections": {"plan": "Consider rosuvastatin next visit."}})
    )
    answer = ask(stores, Principal("dr", Role.DOCTOR), P, "Is the patient on a statin?").text
    check = answer[answer.index("Check:") :]
    assert "rosuvastatin" in check and "muscle pain" not in check
