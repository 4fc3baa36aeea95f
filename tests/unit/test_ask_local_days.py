"""Ask names the clinic's days: a note signed at 00:30 in Kolkata is cited as that day, not the UTC day before.

Every instant is pinned near midnight in a non-UTC zone, where the UTC day and the clinic's day differ. The zone
reaches Ask through its index cache (bootstrap gives the cache the configured zone), and the cross-patient search
takes it as an argument.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from backend.domain.models import HistoryEntry, Medication, MetricDay, Note, NoteStatus, Patient, Role
from backend.domain.timeline import day_start_ms
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.ask import AskIndexCache, ask, search_by_medication_or_diagnosis
from backend.services.ask_index import history_passages, recency, refresh_index
from tests.fakes.records import fake_record_store
from tests.helpers.clinic_time import KOLKATA, LATER, NEW_YORK, VISIT, at_ms

LOS_ANGELES = ZoneInfo("America/Los_Angeles")

DOCTOR = Principal("dr", Role.DOCTOR)
PID = "PAT_0000aaaa"


def _med(name: str, strength: str) -> Medication:
    return Medication(name=name, verbatim=f"{name} {strength}", strength=strength, verified=True)


def _stores() -> RecordStore:
    stores = fake_record_store()
    stores.patients.add(Patient(patient_id=PID, name="Ram Kumar"))
    for ts, strength in ((VISIT, "40 mg"), (LATER, "80 mg")):
        stores.notes.add(
            Note(
                patient_id=PID,
                timestamp=ts,
                status=NoteStatus.SIGNED,
                sections={"assessment": "Essential hypertension.", "plan": f"Telmisartan {strength} once daily."},
                medications=[_med("telmisartan", strength)],
                updated_at=ts,
            )
        )
    return stores


def test_a_cited_note_is_labelled_with_the_clinics_day() -> None:
    answer = ask(_stores(), DOCTOR, PID, "telmisartan plan", cache=AskIndexCache(tz=KOLKATA))
    labels = {c.label for c in answer.citations}
    assert "Note 2026-04-02, plan" in labels and "Note 2026-03-09, plan" in labels
    assert not any("2026-03-08" in label or "2026-04-01" in label for label in labels)
    assert "[1] Note 2026-04-02, plan: Telmisartan 80 mg once daily." in answer.text


def test_without_the_clinics_zone_the_same_note_falls_on_the_utc_day() -> None:
    # The default (no zone given) is UTC: the test above is not passing by accident.
    answer = ask(_stores(), DOCTOR, PID, "telmisartan plan", cache=AskIndexCache())
    assert "Note 2026-04-01, plan" in {c.label for c in answer.citations}


def test_a_class_answer_says_since_and_last_recorded_on_the_clinics_days() -> None:
    answer = ask(_stores(), DOCTOR, PID, "Is he on any blood pressure medicine?", cache=AskIndexCache(tz=KOLKATA))
    assert answer.mode == "classes"
    assert "since at least 2026-03-09 (first recorded, note)" in answer.text
    assert "last recorded 2026-04-02 (note 2026-04-02)" in answer.text
    assert "2026-03-08" not in answer.text and "2026-04-01" not in answer.text


def test_the_background_builder_labels_with_its_caches_zone() -> None:
    stores, cache = _stores(), AskIndexCache(tz=KOLKATA)
    entry = refresh_index(stores, PID, cache)
    assert {p.label for p in entry.passages if p.id.startswith("note:")} == {
        "Note 2026-03-09, assessment",
        "Note 2026-03-09, plan",
        "Note 2026-03-09, medications",
        "Note 2026-04-02, assessment",
        "Note 2026-04-02, plan",
        "Note 2026-04-02, medications",
    }
    # A question then reads that cached index (the builder runs) and cites the same days.
    cache.refreshed_in_background = True
    answer = ask(stores, DOCTOR, PID, "telmisartan plan", cache=cache)
    assert answer.citations[0].label == "Note 2026-04-02, plan"
    assert cache.builds == 1


def test_a_document_is_labelled_with_its_upload_day_in_the_clinic_or_its_own_date() -> None:
    uploaded = HistoryEntry(patient_id=PID, timestamp=VISIT, document_key="blob-1", medications=[_med("x", "5 mg")])
    assert history_passages(uploaded, KOLKATA)[0].label == "Document 2026-03-09, line 1"
    # A dated document is that day in every zone, even west of UTC where 00:00 UTC is the evening before.
    dated = HistoryEntry(
        patient_id=PID,
        timestamp=day_start_ms("2026-03-09"),
        document_key="blob-2",
        document_date="2026-03-09",
        medications=[_med("x", "5 mg")],
    )
    assert history_passages(dated, NEW_YORK)[0].label == "Document 2026-03-09, line 1"


def test_a_dated_document_starts_a_course_on_its_own_date_west_of_utc() -> None:
    stores = fake_record_store()
    stores.patients.add(Patient(patient_id=PID, name="Ram Kumar"))
    stores.history.add(
        HistoryEntry(
            patient_id=PID,
            timestamp=at_ms("2026-03-20T10:00", NEW_YORK),  # uploaded later; the prescription is dated 9 March
            document_key="blob-2",
            document_date="2026-03-09",
            medications=[_med("amlodipine", "5 mg")],
        )
    )
    answer = ask(stores, DOCTOR, PID, "any blood pressure medicine?", cache=AskIndexCache(tz=NEW_YORK))
    assert "amlodipine 5 mg (C08CA01): since at least 2026-03-09 (first recorded, document)" in answer.text


def test_the_search_across_patients_names_the_clinics_days() -> None:
    (match,) = search_by_medication_or_diagnosis(_stores(), DOCTOR, "telmisartan", tz=KOLKATA)
    assert match.evidence == ["telmisartan 80 mg (active, last seen 2026-04-02)"]
    (by_diagnosis,) = search_by_medication_or_diagnosis(_stores(), DOCTOR, "hypertension", tz=KOLKATA)
    assert by_diagnosis.evidence[0] == "note 2026-04-02: Essential hypertension."


def test_without_a_cache_the_zone_given_names_the_days() -> None:
    # The command line or a bench that builds the index per call passes the clinic's zone itself.
    answer = ask(_stores(), DOCTOR, PID, "telmisartan plan", tz=KOLKATA)
    labels = {c.label for c in answer.citations}
    assert "Note 2026-04-02, plan" in labels and "Note 2026-03-09, plan" in labels
    assert not any("2026-04-01" in label or "2026-03-08" in label for label in labels)
    classes = ask(_stores(), DOCTOR, PID, "Is he on any blood pressure medicine?", tz=KOLKATA)
    assert "since at least 2026-03-09 (first recorded, note)" in classes.text


def test_a_cached_index_keeps_its_own_zone_whatever_zone_a_call_names() -> None:
    # The cache's labels are shared by every question: one zone per cache, the configured one.
    answer = ask(_stores(), DOCTOR, PID, "telmisartan plan", cache=AskIndexCache(tz=KOLKATA), tz=NEW_YORK)
    assert "Note 2026-04-02, plan" in {c.label for c in answer.citations}


def _health_rows(patient_id: str) -> list[dict[str, str]]:
    return [{"day": "2026-03-09", "metric": "resting_hr", "text": "2026-03-09 to 2026-03-09: resting HR up."}]


def test_a_health_data_day_is_cited_by_its_date_and_begins_at_the_clinics_midnight() -> None:
    stores = fake_record_store()
    stores.patients.add(Patient(patient_id=PID, name="Ram Kumar"))
    stores.metrics.upsert_days([MetricDay(patient_id=PID, metric="resting_hr", day="2026-03-09", value=78.0)])
    answer = ask(stores, DOCTOR, PID, "resting HR", metric_passages=_health_rows, tz=LOS_ANGELES)
    (cited,) = answer.citations
    assert cited.label == "Health data 2026-03-09, resting hr" and cited.ref["day"] == "2026-03-09"
    # West of UTC, 00:00 UTC of the 9th is the afternoon of the 8th: a note written at 20:00 on the 8th must rank
    # as older than the health data of the 9th, as it is on the clinic's calendar.
    evening_before = at_ms("2026-03-08T20:00", LOS_ANGELES)
    (passage,) = answer.passages
    assert recency(passage, LOS_ANGELES) == at_ms("2026-03-09T00:00", LOS_ANGELES) > evening_before
    assert recency(passage) < evening_before  # at 00:00 UTC it would not (the assertion above is not by chance)
