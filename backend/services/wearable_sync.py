"""The daily wearable sync: for every patient linked to an Ultrahuman account, one day of data ->
daily metrics -> anomaly episodes -> their explanations, with a report per patient.

Idempotent at two levels. The day's lease row (``wearable-sync:YYYY-MM-DD`` in the record store) lets one
process at a time sync a day and, once a run has imported every patient, marks the day done so no process
runs it again. Inside a run, a patient whose day is already stored is skipped without calling the API; an
import writes its day with upserts keyed by patient, metric and day, so it replaces, never doubles. A run with
failures releases the lease instead of finishing it: the next run (the scheduler's retry or the command line)
fetches only the patients that failed. One patient's failure (a rejected token, an API still failing after
the client's backoff, an unreadable answer) is reported with its reason and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from backend.domain.errors import CopilotError
from backend.domain.models import Patient, Role
from backend.domain.sync_schedule import lease_name
from backend.ports import RecordStore
from backend.services.access import OPERATOR, Permission, Principal, record, require
from backend.services.anomalies import EpisodeCache
from backend.services.metrics import DayFetcher, import_ultrahuman
from backend.services.paging import every

log = logging.getLogger(__name__)

# The sync acts as the machine's operator (audited "(command line)", role "operator") with a nurse's grants.
SYNC_PRINCIPAL = Principal(OPERATOR, Role.NURSE)
LEASE_MS = 15 * 60 * 1000  # renewed after each patient; one patient takes at most a few minutes with retries
SOURCE = "ultrahuman"
Status = Literal["imported", "skipped", "failed"]


@dataclass(frozen=True)
class PatientSync:
    """What the sync did for one patient."""

    patient_id: str
    status: Status
    reason: str = ""
    values_written: int = 0
    episodes: tuple[Mapping[str, Any], ...] = ()  # anomaly episodes covering the day, with their explanations


@dataclass
class SyncReport:
    """One run's outcome: ``ran`` is False when the day was done already (``already_done``) or another process
    holds it."""

    day: str
    ran: bool
    note: str = ""
    already_done: bool = False
    patients: list[PatientSync] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {"imported": 0, "skipped": 0, "failed": 0}
        for p in self.patients:
            out[p.status] += 1
        return out

    @property
    def failed(self) -> bool:
        return any(p.status == "failed" for p in self.patients)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``--json``)."""
        return {
            "day": self.day,
            "ran": self.ran,
            "already_done": self.already_done,
            "note": self.note,
            "counts": self.counts(),
            "patients": [{**asdict(p), "episodes": [dict(e) for e in p.episodes]} for p in self.patients],
        }


@dataclass
class WearableSyncDeps:
    """What a sync needs: the stores, the API client (built from the settings' partner token) and a clock."""

    stores: RecordStore
    blobs: Any  # BlobStore
    client: DayFetcher
    now_ms: Callable[[], int]
    owner: str  # this process, as the lease names it (host, pid, random)
    episodes: Callable[[str], Sequence[Mapping[str, Any]]] | None = None  # default: the rule-based detector


def _linked_patients(stores: RecordStore, page_size: int = 200) -> Iterator[Patient]:
    """Every patient with an Ultrahuman account, newest first (one pass over the patient list)."""
    patients = every(lambda cursor: stores.patients.list_page(cursor, page_size))
    yield from (p for p in patients if p.ultrahuman_email)


def sync_wearables(deps: WearableSyncDeps, day: date, principal: Principal = SYNC_PRINCIPAL) -> SyncReport:
    """Sync ``day`` for every linked patient, at most once across processes; never raises for one patient.

    Raises:
        PermissionDenied: ``principal`` may not import health data.
    """
    require(principal, Permission.IMPORT_METRICS)
    leases, name = deps.stores.leases, lease_name(day)
    if leases is not None and leases.acquire(name, deps.owner, deps.now_ms(), LEASE_MS) is None:
        held = leases.get(name)
        if held is not None and held.done:
            return SyncReport(
                day.isoformat(), ran=False, note=f"{day} was synced already; nothing to do.", already_done=True
            )
        return SyncReport(
            day.isoformat(), ran=False, note=f"another process is syncing {day}; this run left it to that one."
        )
    report = SyncReport(day.isoformat(), ran=True)
    episodes = deps.episodes or EpisodeCache(deps.stores).episodes
    for patient in _linked_patients(deps.stores):
        report.patients.append(_sync_one(deps, principal, patient, day, episodes))
        if leases is not None and leases.acquire(name, deps.owner, deps.now_ms(), LEASE_MS) is None:
            report.note = "another process took this day over (this run was too slow); it stopped here."
            return report
    counts = report.counts()
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())
    record(deps.stores.audit, principal, "wearables.sync", detail=f"{day}: {summary}")
    if leases is not None:
        if report.failed:
            leases.release(name, deps.owner)  # a later run retries the failed patients only
        else:
            leases.finish(name, deps.owner, deps.now_ms(), summary)
    report.note = report.note or (
        f"{summary}; the next run retries the failed patients." if report.failed else f"{summary}."
    )
    return report


def _sync_one(
    deps: WearableSyncDeps,
    principal: Principal,
    patient: Patient,
    day: date,
    episodes: Callable[[str], Sequence[Mapping[str, Any]]],
) -> PatientSync:
    pid, iso = patient.patient_id, day.isoformat()
    if any(d.source == SOURCE for d in deps.stores.metrics.days(pid, start=iso, end=iso)):
        return PatientSync(pid, "skipped", f"{iso} is imported already")
    try:
        imported = import_ultrahuman(
            principal, deps.stores, deps.blobs, pid, deps.client, patient.ultrahuman_email or "", day, day
        )
    except CopilotError as e:
        return PatientSync(pid, "failed", e.message)
    except Exception as e:  # one patient's unexpected error must not stop the others; the trace goes to the log
        log.exception("wearable sync of %s for %s failed", pid, iso)
        return PatientSync(pid, "failed", f"unexpected error ({type(e).__name__}); see the server log")
    if imported.days_written == 0:
        return PatientSync(pid, "skipped", f"no data for {iso} (the ring was not worn or not synced yet)")
    try:
        found = tuple(e for e in episodes(pid) if str(e["start_day"]) <= iso <= str(e["end_day"]))
    except Exception:  # the data is stored; the episodes are recomputed on the next read anyway
        log.exception("anomaly episodes of %s failed after the sync", pid)
        found = ()
    return PatientSync(pid, "imported", values_written=imported.days_written, episodes=found)
