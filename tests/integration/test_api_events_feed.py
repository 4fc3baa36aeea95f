"""The change log in SQLite and the events made from it (no HTTP): the log is written in the store's own
transaction (a failed write logs nothing), ids only grow, anomaly episodes come from newly imported days,
and each event reaches only roles that may read what it points to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.adapters.records.sqlite import open_sqlite_store
from backend.domain.errors import ConcurrentUpdate, PermissionDenied
from backend.domain.models import Job, JobStatus, Patient, Role
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.anomalies import EpisodeCache
from backend.services.change_feed import events_after, start_position
from backend.services.demo_metrics import write_demo_metrics

PID = "PAT_fe000001"
NURSE, DOCTOR, ADMIN = (Principal(r.value, r) for r in (Role.NURSE, Role.DOCTOR, Role.ADMIN))


@pytest.fixture
def stores(tmp_path: Path) -> RecordStore:
    s = open_sqlite_store(tmp_path / "copilot.sqlite3")
    s.patients.add(Patient(patient_id=PID, name="Meera Nair", phone="+919800000001"))
    return s


def test_a_refused_write_logs_no_change(stores: RecordStore) -> None:
    assert stores.changes is not None
    job = Job(job_id="JOB_fe00000000000001", kind="scribe", patient_id=PID, blob_key="audio/00/" + "0" * 64)
    stores.jobs.add(job)
    with pytest.raises(ConcurrentUpdate):
        stores.jobs.update(job.model_copy(update={"status": JobStatus.READY}), expected_version=job.version + 7)
    assert [(c.kind.value, c.state) for c in stores.changes.read_after(0)] == [("job", "queued")]


def test_new_health_data_with_an_illness_episode_is_one_anomaly_event(stores: RecordStore) -> None:
    assert stores.changes is not None
    cache = EpisodeCache(stores)
    start = start_position(stores.changes, NURSE, None)
    write_demo_metrics(stores, PID, seed=3, days=60)  # seed % 3 == 0: an episode 5-9 days before today
    events, position = events_after(stores.changes, NURSE, start, cache.episodes)
    anomalies = [e for e in events if e.type == "anomaly.episode"]
    assert {e.patient_id for e in anomalies} == {PID}
    assert {"illness", "resting_hr"} <= {e.data["metric"] for e in anomalies}  # the synthetic illness
    assert all(e.data["start_day"] <= e.data["end_day"] for e in anomalies)
    assert position == stores.changes.last_id()
    assert events_after(stores.changes, NURSE, position, cache.episodes) == ([], position)  # read once

    write_demo_metrics(stores, "PAT_fe000002", seed=1, days=60)  # no episode, and another patient
    later, _ = events_after(stores.changes, DOCTOR, position, cache.episodes)
    assert [e.type for e in later] == []  # nothing new for the first patient, no episode in the second's days


def test_roles_that_may_not_read_patients_get_no_events(stores: RecordStore) -> None:
    assert stores.changes is not None
    with pytest.raises(PermissionDenied):
        start_position(stores.changes, ADMIN, None)
    with pytest.raises(PermissionDenied):
        events_after(stores.changes, ADMIN, 0)
    with pytest.raises(PermissionDenied):
        events_after(stores.changes, None, 0)  # type: ignore[arg-type]


def test_the_log_prunes_old_changes_but_ids_keep_growing(stores: RecordStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from backend.adapters.records.sqlite import changes as log

    assert stores.changes is not None
    monkeypatch.setattr(log, "PRUNE_EVERY", 5)
    monkeypatch.setattr(log, "KEEP_ROWS", 3)
    monkeypatch.setattr(log, "KEEP_MS", -1)  # every change counts as old
    for n in range(10):
        stores.jobs.add(Job(job_id=f"JOB_fe0000000000{n:04d}", kind="scribe", patient_id=PID, blob_key="k"))
    kept = [c.id for c in stores.changes.read_after(0)]
    assert kept == [8, 9, 10]  # pruned at ids 5 and 10, keeping the last 3 each time
    assert stores.changes.last_id() == 10
