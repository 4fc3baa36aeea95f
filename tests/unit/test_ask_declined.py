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
