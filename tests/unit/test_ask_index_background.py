"""The Ask index built off the page: with a background builder, a question never builds a big patient's full
index; it answers from the newest records, says so and asks for the full index; the builder (driven step by
step) builds it, and rebuilds cached indexes when the change feed says the patient's records changed.
"""

from __future__ import annotations

from backend.domain.changes import Change, ChangeKind
from backend.domain.models import HistoryEntry, Medication, Note, NoteStatus, Patient, Role
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.ask import AskIndexCache, ask
from backend.services.ask_index import RECENT_RECORDS
from backend.worker.ask_index import AskIndexer, changed_patients

DOCTOR = Principal("dr", Role.DOCTOR)
BIG, SMALL = "PAT_0000b160", "PAT_00005a11"
T0 = 1_709_251_200_000  # 2024-03-01
DAY = 86_400_000


def _note(pid: str, day: int, plan: str) -> Note:
    return Note(patient_id=pid, timestamp=T0 + day * DAY, status=NoteStatus.SIGNED, sections={"plan": plan})


def _seed(stores: RecordStore) -> None:
    stores.patients.add(Patient(patient_id=BIG, name="Ram Kumar"))
    stores.patients.add(Patient(patient_id=SMALL, name="Sita Devi"))
    # The oldest note alone mentions warfarin; the newest ones are routine.
    stores.notes.add(_note(BIG, 0, "Started warfarin 5 mg once daily."))
    for day in range(1, RECENT_RECORDS + 10):
        stores.notes.add(_note(BIG, day, f"Routine review number {day}. Continue the same medicines."))
    stores.history.add(
        HistoryEntry(
            patient_id=SMALL,
            timestamp=T0,
            document_key="img/1",
            extracted_text="Tab. Amlodipine 5 mg OD",
            medications=[Medication(name="amlodipine", strength="5 mg", verified=True)],
        )
    )


def _background_cache() -> AskIndexCache:
    cache = AskIndexCache()
    cache.refreshed_in_background = True  # as the builder thread marks the cache when it starts
    return cache


def test_a_big_patients_question_reads_the_newest_records_and_says_so(stores: RecordStore) -> None:
    _seed(stores)
    cache = _background_cache()
    quick = ask(stores, DOCTOR, BIG, "warfarin", cache=cache)
    assert not quick.citations and "newest 50 notes" in quick.note  # the oldest note was not searched: said
    assert ask(stores, DOCTOR, BIG, "routine review", cache=cache).citations  # the newest records answer
    assert cache.builds == 0 and cache.take_wanted(0) == [BIG]  # nothing partial cached; the full one asked for
    indexer = AskIndexer(stores, cache, None, None)
    cache.want(BIG)
    assert indexer.step(0) == [BIG]
    full = ask(stores, DOCTOR, BIG, "warfarin", cache=cache)
    assert [c.ref["timestamp"] for c in full.citations] == [T0] and full.note == ""
    assert cache.builds == 1


def test_a_small_patient_gets_the_whole_index_at_once(stores: RecordStore) -> None:
    _seed(stores)
    cache = _background_cache()
    answer = ask(stores, DOCTOR, SMALL, "amlodipine", cache=cache)
    assert answer.citations and answer.note == ""
    assert cache.builds == 1 and cache.take_wanted(0) == []  # all its records fit: cached, nothing to build


def test_a_stale_index_answers_from_the_newest_records_until_the_builder_refreshes_it(stores: RecordStore) -> None:
    _seed(stores)
    cache = _background_cache()
    indexer = AskIndexer(stores, cache, None, None)
    cache.want(BIG)
    indexer.step(0)
    stores.notes.add(_note(BIG, 100, "Stop warfarin before the dental extraction."))
    stale = ask(stores, DOCTOR, BIG, "dental extraction", cache=cache)
    assert [c.ref["timestamp"] for c in stale.citations] == [T0 + 100 * DAY]  # the new note is found at once
    assert "still being built" in stale.note
    assert indexer.step(0) == [BIG]  # the question asked for a rebuild
    assert ask(stores, DOCTOR, BIG, "dental extraction", cache=cache).note == ""


def test_the_feed_names_the_patients_whose_indexed_records_changed() -> None:
    def change(kind: ChangeKind, pid: str, ref: str = "1") -> Change:
        return Change(kind=kind, patient_id=pid, ref=ref, state="x", at=0)

    changes = [
        change(ChangeKind.NOTE, "PAT_1"),
        change(ChangeKind.AUDIT, "PAT_2", "digitize.save"),
        change(ChangeKind.AUDIT, "PAT_3", "history.read"),  # a read changes nothing
        change(ChangeKind.METRICS, "PAT_4"),
        change(ChangeKind.JOB, "PAT_5"),
        change(ChangeKind.NOTE, "PAT_1"),
        change(ChangeKind.AUDIT, "", "digitize.save"),
    ]
    assert changed_patients(changes) == ["PAT_1", "PAT_2", "PAT_4"]
