"""Ask about a class of medicines: a yes from the reconciled list with since-when and citation, an honest no that
says what was searched, mentions outside the lists, the LLM guard, the audit line, and the ``ask`` command."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from backend.__main__ import main
from backend.domain.errors import ProviderUnavailable
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role
from backend.domain.reconcile import day_of
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.ask import AskIndexCache, ask, citation_exists
from backend.services.ask_index import Passage
from backend.services.demo import demo_patient_id, seed_demo

DOCTOR = Principal("dr", Role.DOCTOR)
ON_TELMISARTAN = demo_patient_id(2)  # signed visit note: "Start telmisartan 40 mg once daily" (Telma 40)
ON_METFORMIN = demo_patient_id(1)  # signed diabetes note only
QUESTION = "Is the patient on any blood pressure medicine, and since when?"
P = "PAT_0000cccc"
T0 = 1_709_251_200_000  # 2024-03-01
DAY = 86_400_000


def _telmisartan_note(stores: RecordStore) -> Note:
    return next(n for n in stores.notes.list_for_patient(ON_TELMISARTAN, None, 50).items if n.medications)


def test_demo_patient_on_telmisartan_is_on_a_blood_pressure_medicine_since_its_start(stores: RecordStore) -> None:
    seed_demo(stores)
    note = _telmisartan_note(stores)
    answer = ask(stores, DOCTOR, ON_TELMISARTAN, QUESTION)
    assert answer.mode == "classes"
    assert answer.text.startswith("Yes") and "'blood pressure'" in answer.text
    assert f"telmisartan 40 mg once daily (C09CA07): since {day_of(note.timestamp)} (started, note) [1]" in answer.text
    first = answer.citations[0]
    assert first.kind == "note" and first.ref["timestamp"] == note.timestamp and first.ref["line"] == 0
    assert "telmisartan 40 mg" in first.snippet and "Telma 40" in first.snippet
    assert all(citation_exists(stores, ON_TELMISARTAN, p) for p in answer.passages)


def test_patient_on_nothing_of_the_class_gets_a_no_that_says_what_was_searched(stores: RecordStore) -> None:
    seed_demo(stores)
    answer = ask(stores, DOCTOR, ON_METFORMIN, QUESTION)
    assert answer.text == (
        "No medicine of the class 'blood pressure' (ATC C02, C03, C07, C08, C09) in 1 note and 0 documents."
    )
    assert answer.citations == [] and answer.mode == "classes"
    yes = ask(stores, DOCTOR, ON_METFORMIN, "Is he on sugar tablets?")  # the same patient, a class he is on
    assert yes.text.startswith("Yes") and "metformin 500 mg twice daily (A10BA02)" in yes.text


def _patient(stores: RecordStore, *records: Note | HistoryEntry) -> None:
    stores.patients.add(Patient(patient_id=P, name="Class Test"))
    for r in records:
        if isinstance(r, Note):
            stores.notes.add(r)
        else:
            stores.history.add(r)


def test_no_names_the_records_searched_and_the_names_it_could_not_class(stores: RecordStore) -> None:
    _patient(
        stores,
        Note(patient_id=P, timestamp=T0, status=NoteStatus.SIGNED, sections={"plan": "Steam inhalation."}),
        Note(patient_id=P, timestamp=T0 + DAY, status=NoteStatus.DRAFT, sections={"plan": "Review."}),
        HistoryEntry(
            patient_id=P,
            timestamp=T0 + 2 * DAY,
            extracted_text="Tab. Xyzolin 10 mg OD",
            medications=[Medication(name="Xyzolin", strength="10 mg", verified=False)],
        ),
    )
    answer = ask(stores, DOCTOR, P, "any statin?")
    assert answer.text == (
        "No medicine of the class 'statin' (ATC C10AA, C10BA, C10BX) in 2 notes (1 of them a draft) and 1 document.\n"
        "Not classed, check by hand: Xyzolin (name unverified)."
    )


def test_a_class_medicine_only_in_a_draft_or_in_text_is_not_a_no(stores: RecordStore) -> None:
    _patient(
        stores,
        Note(
            patient_id=P,
            timestamp=T0,
            status=NoteStatus.DRAFT,
            sections={"plan": "Start Telma 40 once daily."},
        ),
    )
    answer = ask(stores, DOCTOR, P, "Is she on any BP medicine?")
    assert not answer.text.startswith("No medicine of the class")
    assert answer.text.startswith("Check: these records name a medicine of the class 'blood pressure'")
    assert "[1] Note 2024-03-01 (draft), plan: Start Telma 40 once daily." in answer.text
    assert answer.citations[0].ref == {"patient_id": P, "timestamp": T0, "section": "plan"}


def test_stopped_medicine_of_the_class_is_not_now_with_its_record(stores: RecordStore) -> None:
    _patient(
        stores,
        Note(
            patient_id=P,
            timestamp=T0,
            status=NoteStatus.SIGNED,
            medications=[Medication(name="losartan", strength="50 mg", verified=True)],
        ),
        Note(
            patient_id=P,
            timestamp=T0 + 30 * DAY,
            status=NoteStatus.SIGNED,
            medications=[Medication(name="losartan", status="stopped", verified=True)],
        ),
    )
    answer = ask(stores, DOCTOR, P, "BP medicines?")
    assert answer.text.startswith("Not now — no active medicine of the class 'blood pressure'")
    assert "losartan 50 mg (C09CA01): stopped, last recorded 2024-03-31 (note 2024-03-31) [1] [2]" in answer.text
    assert [c.ref["timestamp"] for c in answer.citations[:2]] == [T0, T0 + 30 * DAY]


def test_llm_gets_the_class_facts_and_must_cite_a_class_medicine(stores: RecordStore) -> None:
    seed_demo(stores)
    seen: list[tuple[str, list[Passage]]] = []

    def good(question: str, passages: list[Passage]) -> tuple[str, list[str]]:
        seen.append((question, passages))
        return "Yes, telmisartan 40 mg once daily.", [passages[0].id]

    answer = ask(stores, DOCTOR, ON_TELMISARTAN, QUESTION, llm=good)
    assert answer.mode == "llm" and answer.citations[0].ref["line"] == 0
    question, passages = seen[0]
    assert "telmisartan is a 'blood pressure' medicine (C09CA07)" in question and passages[0].id in question

    def off_topic(question: str, passages: list[Passage]) -> tuple[str, list[str]]:
        return "See the plan.", [passages[-1].id] if len(passages) > 1 else []

    fallback = ask(stores, DOCTOR, ON_TELMISARTAN, QUESTION, llm=off_topic)
    assert fallback.mode == "classes" and fallback.text.startswith("Yes") and "did not cite" in fallback.note

    def down(question: str, passages: list[Passage]) -> tuple[str, list[str]]:
        raise ProviderUnavailable("model server timed out")

    offline = ask(stores, DOCTOR, ON_TELMISARTAN, QUESTION, llm=down)
    assert offline.mode == "classes" and "model server timed out" in offline.note


def test_audit_line_says_how_many_classes_not_which(stores: RecordStore) -> None:
    seed_demo(stores)
    ask(stores, DOCTOR, ON_TELMISARTAN, "any antidepressant?")
    event = stores.audit.query(patient_id=ON_TELMISARTAN).items[0]
    assert event.action == "ask" and "mode=classes" in event.detail and "classes=1" in event.detail
    assert "antidepressant" not in event.detail


def test_ask_command_prints_json_with_citations_as_the_operator(
    stores: RecordStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed_demo(stores)
    app = SimpleNamespace(
        stores=stores,
        ask_cache=AskIndexCache,  # the command asks through the app's cache, whose zone names the days
        episodes=lambda: SimpleNamespace(metric_passages=None),
        answerer=lambda: None,
    )
    monkeypatch.setattr("backend.bootstrap.build_app", lambda: app)
    assert main(["ask", "--patient", ON_TELMISARTAN, "--json", QUESTION]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["answer"].startswith("Yes") and "telmisartan 40 mg" in printed["answer"]
    assert printed["citations"][0]["kind"] == "note" and printed["citations"][0]["ref"]["patient_id"] == ON_TELMISARTAN
    event = stores.audit.query(patient_id=ON_TELMISARTAN).items[0]
    assert (event.action, event.actor, event.role) == ("ask", "(command line)", "operator")

    assert main(["ask", "--patient", ON_TELMISARTAN, QUESTION]) == 0
    text = capsys.readouterr().out
    assert "Sources:\n[1] Note " in text and "telmisartan" in text
    assert main(["ask", "--patient", "PAT_ffffffff", QUESTION]) == 2
    assert "error:" in capsys.readouterr().err
