"""Import wearable health data: a file (CSV, Ultrahuman JSON, Apple Health, FHIR) or the Ultrahuman API.

Order of work, so a refused import leaves nothing behind: detect the format (a wrong file type is
refused before anything is read) -> parse, check and aggregate in memory -> upsert the daily values.
The raw file is not kept: the daily values are the record, and a file may hold minute-level readings or
other patients' rows (a long CSV), so no one patient's record could name it and retention could never
find it. Re-importing the same file writes the same rows
(upserts keyed by patient, metric and day), so it is idempotent; the report says how many changed.
A day's value comes from the latest import that covers that day.
"""

from __future__ import annotations

import io
import json
from datetime import date, tzinfo
from typing import Protocol

import pandas as pd

from backend.domain.errors import NotFound, UnsupportedInput
from backend.domain.metrics import DAY_COLUMNS, ImportLog, ImportReport, aggregate, load_catalog, temperature_deviation
from backend.domain.models import MetricDay
from backend.formats.importers import FORMATS, HEAD_BYTES, detect_format, read_samples
from backend.ports import BlobStore, RecordStore
from backend.services.access import Permission, Principal, record, require


class DayFetcher(Protocol):
    """What :func:`import_ultrahuman` needs of the API client (the Ultrahuman adapter's ``backfill``)."""

    def backfill(self, email: str, start: date, end: date) -> dict[str, dict[str, object]]: ...


def import_file(
    stores: RecordStore,
    blobs: BlobStore,
    patient_id: str | None,
    data: bytes,
    filename: str = "",
    fmt: str | None = None,
    tz: str | tzinfo | None = None,
) -> ImportReport:
    """Import one file's samples as daily values (no permission check: see :func:`import_metrics`).

    Args:
        blobs: unused (the raw file is not kept, see the module's docstring); kept so callers need not change.
        patient_id: the patient chosen in the UI; None only for long CSVs naming registered patients per row.
        fmt: one of ``FORMATS``; None detects it from the content.
        tz: time zone that dates the days and reads naive timestamps; None uses the file's own
            (Ultrahuman ``latest_time_zone``, Apple offsets), else UTC.

    Raises:
        UnsupportedInput: a file type or layout we do not import (nothing is stored).
    """
    if not data:
        raise UnsupportedInput("The file is empty (0 bytes). Choose the file again and re-upload it.")
    fmt = fmt or detect_format(data[:HEAD_BYTES], filename)
    if fmt not in FORMATS:
        raise UnsupportedInput(f"Unknown import format '{fmt}'. Choose one of: {', '.join(FORMATS)}.")
    catalog = load_catalog()
    log = ImportLog()
    frames = read_samples(io.BytesIO(data), fmt, log, tz or "UTC")
    # Streamed: each frame is aggregated per day and dropped; the file's own zone is known once its first block is read.
    result = aggregate(frames, catalog, log, patient_id, lambda: tz or log.tz_hint or "UTC")
    days = _only_registered(stores, result.days, patient_id, log)
    report = ImportReport.from_log(fmt, filename, log)
    report.duplicates = result.duplicates
    if days.empty:
        report.notes.append("Nothing was imported: no valid readings in this file.")
        return report
    days = pd.concat([days, _derived_temperature(stores, days)], ignore_index=True)
    report.days_unchanged = _unchanged(stores, days)
    report.days_written = stores.metrics.upsert_days(_metric_days(days, fmt))
    report.imported_samples = result.samples
    report.patient_ids = sorted(days["patient_id"].unique().tolist())
    report.days_by_metric = {str(k): int(v) for k, v in days.groupby("metric")["day"].size().items()}
    report.first_day, report.last_day = str(days["day"].min()), str(days["day"].max())
    report.already_imported = report.days_unchanged == report.days_written
    return report


def import_metrics(
    principal: Principal,
    stores: RecordStore,
    blobs: BlobStore,
    patient_id: str | None,
    data: bytes,
    filename: str = "",
    fmt: str | None = None,
    tz: str | tzinfo | None = None,
) -> ImportReport:
    """Import a health-data file for a patient, with the permission check and an audit line.

    Raises:
        PermissionDenied: the user's role may not import health data.
        NotFound: ``patient_id`` is not a registered patient.
        UnsupportedInput: a wrong file type (nothing stored).
    """
    require(principal, Permission.IMPORT_METRICS)
    if patient_id is not None:
        stores.patients.get(patient_id)
    report = import_file(stores, blobs, patient_id, data, filename, fmt, tz)
    kind = upload_kind(filename)
    for pid in report.patient_ids or ([patient_id] if patient_id else []):
        record(stores.audit, principal, "metrics.import", pid, f"{kind} {len(data)} bytes: {report.summary()}")
    return report


def upload_kind(filename: str) -> str:
    """What the audit trail says of an uploaded health-data file: its extension, never its name.

    People name exports after the patient, so the name would put a patient's name into the audit trail.
    """
    return filename.rsplit(".", 1)[-1].lower()[:10] if "." in filename else "file"


def import_ultrahuman(
    principal: Principal,
    stores: RecordStore,
    blobs: BlobStore,
    patient_id: str,
    client: DayFetcher,
    email: str,
    start: date,
    end: date,
    tz: str | tzinfo | None = None,
) -> ImportReport:
    """Backfill ``start``..``end`` from the Ultrahuman partner API, one call per day.

    Every day is fetched before anything is saved: a rejected token (``CredentialsRejected``) or an
    API that keeps failing (``ProviderUnavailable``) leaves nothing behind. The responses are read as one
    Ultrahuman file (``{"YYYY-MM-DD": response}``); like any imported file, it is not kept.
    """
    require(principal, Permission.IMPORT_METRICS)
    stores.patients.get(patient_id)
    responses = client.backfill(email, start, end)
    data = json.dumps(responses, sort_keys=True, separators=(",", ":")).encode()
    report = import_file(stores, blobs, patient_id, data, f"ultrahuman-api {start}..{end}.json", "ultrahuman", tz)
    record(stores.audit, principal, "metrics.import", patient_id, f"Ultrahuman API {start}..{end}: {report.summary()}")
    return report


def _only_registered(stores: RecordStore, days: pd.DataFrame, patient_id: str | None, log: ImportLog) -> pd.DataFrame:
    """Drop the days of patient ids (from a long CSV) that are not registered, saying so."""
    if patient_id is not None or days.empty:
        return days
    unknown = []
    for pid in days["patient_id"].unique():
        try:
            stores.patients.get(str(pid))
        except NotFound:
            unknown.append(str(pid))
    if unknown:
        log.reject(
            0,
            f"patient_id {', '.join(unknown[:10])} {'is' if len(unknown) == 1 else 'are'} not registered; "
            "register the patient first",
        )
        days = days[~days["patient_id"].isin(unknown)]
    return days


def _derived_temperature(stores: RecordStore, days: pd.DataFrame) -> pd.DataFrame:
    """temperature_dev rows recomputed over each patient's whole nightly temperature series."""
    spec = load_catalog().derived.get("temperature_dev")
    new = days[days["metric"] == "temperature"]
    if spec is None or new.empty:
        return pd.DataFrame(columns=DAY_COLUMNS)
    given = set(map(tuple, days.loc[days["metric"] == "temperature_dev", ["patient_id", "day"]].to_numpy().tolist()))
    parts = []
    for pid, rows in new.groupby("patient_id"):
        stored = [d for d in stores.metrics.days(str(pid), spec.source) if d.day not in set(rows["day"])]
        series = pd.concat(
            [pd.DataFrame([{"patient_id": d.patient_id, "day": d.day, "value": d.value} for d in stored]), rows],
            ignore_index=True,
        )
        parts.append(temperature_deviation(series[["patient_id", "day", "value"]], spec.window_nights, spec.min_nights))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=DAY_COLUMNS)
    keep = [(p, d) not in given for p, d in zip(out["patient_id"], out["day"], strict=True)]
    return out[keep]


def _unchanged(stores: RecordStore, days: pd.DataFrame) -> int:
    """How many of ``days`` are already stored with the same value (a re-import changes nothing)."""
    same = 0
    for pid, rows in days.groupby("patient_id"):
        stored = {
            (d.metric, d.day): d.value
            for d in stores.metrics.days(str(pid), start=str(rows["day"].min()), end=str(rows["day"].max()))
        }
        for metric, day, value in zip(rows["metric"], rows["day"], rows["value"], strict=True):
            old = stored.get((metric, day))
            same += int(old is not None and abs(old - float(value)) < 1e-9)
    return same


def _metric_days(days: pd.DataFrame, fmt: str) -> list[MetricDay]:
    # model_construct: every field was typed above; validating 100k rows again costs seconds.
    return [
        MetricDay.model_construct(
            patient_id=str(p), metric=str(m), day=str(d), value=float(v), unit=str(u), n_samples=int(n), source=fmt
        )
        for p, m, d, v, u, n in zip(
            days["patient_id"], days["metric"], days["day"], days["value"], days["unit"], days["n_samples"], strict=True
        )
    ]


def days_frame(days: list[MetricDay]) -> pd.DataFrame:
    """Stored daily values as the long frame the detector and the figures take (day, metric, value, unit)."""
    return pd.DataFrame(
        {
            "day": pd.to_datetime([d.day for d in days]),
            "metric": [d.metric for d in days],
            "value": [d.value for d in days],
            "unit": [d.unit for d in days],
        }
    )


def patient_days(
    principal: Principal, stores: RecordStore, patient_id: str, start: str | None = None, end: str | None = None
) -> pd.DataFrame:
    """One patient's daily values (long frame) for the metrics page; reading is audited."""
    require(principal, Permission.READ_PATIENTS)
    frame = days_frame(stores.metrics.days(patient_id, start=start, end=end))
    record(stores.audit, principal, "metrics.read", patient_id)
    return frame
