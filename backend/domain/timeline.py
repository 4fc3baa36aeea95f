"""One chronological stream of a patient's notes, medication lists, documents and anomaly episodes (pure).

Items are ordered newest first by ``(timestamp, kind, key)``; the paging cursor is the sort key of the last
item shown, so a note added while a doctor pages does not shift or repeat the items that follow.

Some items are days, not instants: an anomaly episode (wearable days are dates on the clinic's calendar) and a
document dated on paper. Their ``timestamp`` is 00:00 UTC of the date (a stable sort key, shown unshifted), but a
date filter matches them by date against the clinic's days of its bounds: 00:00 UTC is the evening before west
of UTC, where an instant filter would miss a document dated that day (and take in the next day's anomaly).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Literal

from backend.domain import clock_format
from backend.domain.errors import ValidationFailed
from backend.domain.models import HistoryEntry, Note
from backend.domain.plural import counted

Kind = Literal["note", "medications", "document", "anomaly"]
KINDS: tuple[Kind, ...] = ("note", "medications", "document", "anomaly")
_SUMMARY_CHARS = 240


@dataclass(frozen=True)
class TimelineItem:
    """One entry of the timeline. ``ref`` locates the record (patient_id + timestamp, or days for anomalies)."""

    kind: Kind
    timestamp: int
    title: str
    summary: str
    ref: dict[str, Any]
    status: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> tuple[int, str, str]:
        return (
            self.timestamp,
            self.kind,
            str(self.ref.get("timestamp", self.ref.get("start_day", ""))) + str(self.ref.get("metric", "")),
        )


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str | None = None
    total: int = 0  # items matching the filters (all pages)


def day_start_ms(day: str | date) -> int:
    """Epoch ms of 00:00 UTC of an ISO day."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000)


def local_day_start_ms(day: str | date, tz: tzinfo) -> int:
    """Epoch ms of 00:00 of an ISO day on the clinic's wall clock (where a wearable day begins there)."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return int(datetime(d.year, d.month, d.day, tzinfo=tz).timestamp() * 1000)


def _clip(text: str, n: int = _SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def history_time_ms(entry: HistoryEntry) -> int:
    """When a history entry belongs on the timeline: the document's own date once confirmed, else the upload."""
    return day_start_ms(entry.document_date) if entry.document_date else entry.timestamp


def note_items(notes: Iterable[Note]) -> list[TimelineItem]:
    """Notes with their version links: ``amends`` (older version) and ``amended_by`` (newer versions)."""
    notes = list(notes)
    amended_by: dict[int, list[int]] = {}
    for n in notes:
        if n.amends is not None:
            amended_by.setdefault(n.amends, []).append(n.timestamp)
    out = []
    for n in notes:
        headline = n.chief_complaint.text if n.chief_complaint else ""
        body = n.sections.get("assessment") or n.sections.get("subjective") or next(iter(n.sections.values()), "")
        status = n.status.value
        if n.timestamp in amended_by:
            status = f"{status} (amended)"
        title = "Amendment" if n.amends is not None else "Note"
        ref: dict[str, Any] = {"patient_id": n.patient_id, "timestamp": n.timestamp, "version": n.version}
        if n.amends is not None:
            ref["amends"] = n.amends
        if n.timestamp in amended_by:
            ref["amended_by"] = sorted(amended_by[n.timestamp])
        detail = {
            "author": n.author,
            "signer": n.signer,
            "signed_at": n.signed_at,
            "medications": [m.name for m in n.medications],
            "has_audio": bool(n.audio_key),
            "speech": n.speech,  # the engine that transcribed it (a SpeechEngine), None on older notes
        }
        summary = _clip(f"{headline}. {body}" if headline else body)
        out.append(
            TimelineItem(
                "note", n.timestamp, f"{title}: {headline}" if headline else title, summary, ref, status, detail
            )
        )
    return out


def history_items(entries: Iterable[HistoryEntry], tz: tzinfo = UTC) -> list[TimelineItem]:
    """A history entry with a stored original is a document; without one it is a medication list.

    Args:
        entries: the patient's history entries.
        tz: the clinic's zone: a document's upload day in its title is the clinic's calendar day.
    """
    out = []
    for e in entries:
        meds = ", ".join(
            m.name + (f" {m.strength}" if m.strength else "") + ("" if m.verified else " (unverified)")
            for m in e.medications
        )
        ref: dict[str, Any] = {"patient_id": e.patient_id, "timestamp": e.timestamp}
        detail: dict[str, Any] = {"source": e.source, "medication_count": len(e.medications)}
        if e.source == "referral":  # a letter written here: a document with no original file
            out.append(
                TimelineItem(
                    "document", e.timestamp, "Referral letter", _clip(e.extracted_text), ref, "referral", detail
                )
            )
        elif e.document_key:
            ref["document_key"] = e.document_key
            detail["document_mime"] = e.document_mime
            title = f"Document ({counted(len(e.medications), 'medication')})"
            if e.document_date:
                uploaded = clock_format.day(e.timestamp, tz).isoformat()
                title += f" · dated {e.document_date}, uploaded {uploaded}"
                detail.update(document_date=e.document_date, uploaded_at=e.timestamp)
            summary = _clip(meds or e.extracted_text)
            out.append(TimelineItem("document", history_time_ms(e), title, summary, ref, "digitized", detail))
        else:
            out.append(
                TimelineItem(
                    "medications",
                    e.timestamp,
                    f"Medication list ({counted(len(e.medications), 'medication')})",
                    _clip(meds),
                    ref,
                    e.source,
                    detail,
                )
            )
    return out


def anomaly_items(patient_id: str, episodes: Iterable[Mapping[str, Any]]) -> list[TimelineItem]:
    """Anomaly episodes (``start_day``, ``end_day``, ``metric``, ``explanation``), placed at their first day."""
    out = []
    for ep in episodes:
        start, end = str(ep["start_day"]), str(ep.get("end_day") or ep["start_day"])
        metric = str(ep.get("metric", ""))
        ref = {"patient_id": patient_id, "start_day": start, "end_day": end, "metric": metric}
        span = start if start == end else f"{start} to {end}"
        title = f"Anomaly: {metric.replace('_', ' ')} ({span})"
        out.append(
            TimelineItem("anomaly", day_start_ms(start), title, _clip(str(ep.get("explanation", ""))), ref, "episode")
        )
    return out


def item_days(item: TimelineItem) -> tuple[date, date] | None:
    """The first and last calendar day of an item that is days (an anomaly episode, a dated document); else None."""
    if item.kind == "anomaly":
        return date.fromisoformat(str(item.ref["start_day"])), date.fromisoformat(str(item.ref["end_day"]))
    if item.detail.get("document_date"):
        dated = date.fromisoformat(str(item.detail["document_date"]))
        return dated, dated
    return None


def in_range(item: TimelineItem, start_ms: int | None, end_ms: int | None, tz: tzinfo = UTC) -> bool:
    """Whether ``item`` falls between the bounds (inclusive epoch ms; None: open).

    An instant is compared as an instant; an item that is days counts when any of its days is one of the clinic's
    days (in ``tz``) from the start bound's to the end bound's.
    """
    days = item_days(item)
    if days is None:
        return (start_ms is None or item.timestamp >= start_ms) and (end_ms is None or item.timestamp <= end_ms)
    first, last = days
    return (start_ms is None or last >= clock_format.day(start_ms, tz)) and (
        end_ms is None or first <= clock_format.day(end_ms, tz)
    )


def encode_cursor(key: tuple[int, str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[int, str, str] | None:
    if not cursor:
        return None
    try:
        ts, kind, tie = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return int(ts), str(kind), str(tie)
    except (ValueError, TypeError) as e:
        raise ValidationFailed("This page link is no longer valid; reload the timeline from the start.") from e


def select_page(
    items: Iterable[TimelineItem],
    kinds: set[str] | None = None,
    start_ms: int | None = None,
    end_ms: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
    tz: tzinfo = UTC,
) -> TimelinePage:
    """Filter by kind and by time (inclusive; see :func:`in_range`, days in ``tz``), sort, page."""
    if kinds is not None and (unknown := set(kinds) - set(KINDS)):
        raise ValidationFailed(f"Unknown timeline kind(s): {', '.join(sorted(unknown))}. Use: {', '.join(KINDS)}.")
    if limit < 1:
        raise ValidationFailed("The page size must be at least 1.")
    chosen = [it for it in items if (kinds is None or it.kind in kinds) and in_range(it, start_ms, end_ms, tz)]
    chosen.sort(key=lambda it: it.sort_key, reverse=True)
    after = decode_cursor(cursor)
    rest = [it for it in chosen if it.sort_key < after] if after else chosen
    page = rest[:limit]
    nxt = encode_cursor(page[-1].sort_key) if len(rest) > limit else None
    return TimelinePage(items=page, next_cursor=nxt, total=len(chosen))
