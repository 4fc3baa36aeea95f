"""The per-patient passage index behind Ask: what is indexed, when it is rebuilt, and whether a citation resolves.

Passages: each sentence of each note section, each medication line (notes and history entries), each ~400-character
chunk of a document's extracted text, and optional anomaly-day summaries. The index is cached per patient and
rebuilt when a note or history entry was added or changed (checked with cheap key queries on every ask).

Who builds it: a patient with hundreds of notes and documents takes most of a second to index, so in a process
that serves pages or the API a background thread (``backend.worker.ask_index``) builds and refreshes the cache
when notes, documents or health data change, and marks the cache ``refreshed_in_background``. A question then
only reads the cache; when the patient's index is missing or stale it is answered at once from an index of the
patient's newest records only (:data:`RECENT_RECORDS` notes and as many documents), saying so, and the thread
is asked to build the full one. A patient with no more records than that gets the full index either way. Where
no such thread runs (the command line, benchmarks), the question builds the full index itself, as before.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from typing import Any, Literal

from backend.domain.errors import NotFound
from backend.domain.models import HistoryEntry, Note, NoteStatus, now_ms
from backend.domain.reconcile import day_of
from backend.domain.search_index import Bm25Index
from backend.domain.timeline import local_day_start_ms
from backend.ports import RecordStore
from backend.services.timeline import all_history, all_notes

CitationKind = Literal["note", "document", "metric_day"]
MetricPassages = Callable[[str], list[Mapping[str, Any]]]  # patient_id -> [{day, metric, text}]

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CHUNK_CHARS = 400
RECENT_RECORDS = 50  # notes (and documents) a question searches while the full index is being built
PARTIAL_NOTICE = (
    "This patient's full search index is still being built: this answer searched the newest {n} notes and "
    "{n} documents only. Ask again in a moment to search everything."
)


@dataclass
class Passage:
    id: str
    kind: CitationKind
    ref: dict[str, Any]
    label: str
    text: str
    score: float = 0.0


@dataclass
class PatientIndex:
    passages: list[Passage]
    index: Bm25Index
    built_at: int
    heads: tuple[int | None, int | None]
    metric_fp: str
    note_versions: dict[int, int] = field(default_factory=dict)  # timestamp -> version of each indexed note
    groups: list[list[Passage]] = field(default_factory=list)  # passages sharing one indexed text, newest first
    notice: str = ""  # set when the index covers only the newest records (see the module docstring)
    tz: tzinfo = UTC  # the clinic's zone its labels name days in, and in which a health-data day begins


@dataclass
class AskIndexCache:
    """Per-patient indexes, reused while the patient's records are unchanged (LRU, thread-safe).

    Build one per process (e.g. in ``App.engines``) and pass it to :func:`ask`. ``tz`` is the clinic's zone:
    the days in the cached citation labels are its calendar days (bootstrap gives it the configured zone).
    """

    max_patients: int = 16
    tz: tzinfo = UTC
    _items: OrderedDict[str, PatientIndex] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    builds: int = 0
    # Set by the background builder when it starts: questions then read the cache and never build a full index.
    refreshed_in_background: bool = False
    _wanted: OrderedDict[str, None] = field(default_factory=OrderedDict)
    _wake: threading.Condition = field(default_factory=threading.Condition)

    def patients(self) -> list[str]:
        """The patients whose index is cached (the builder refreshes these when their records change)."""
        with self._lock:
            return list(self._items)

    def want(self, patient_id: str) -> None:
        """Ask the background builder for ``patient_id``'s full index (a page that found it missing or stale)."""
        with self._wake:
            self._wanted[patient_id] = None
            self._wake.notify_all()

    def prepare(self, patient_id: str) -> None:
        """A page opened for ``patient_id``: have the builder start on its index before the first question."""
        if self.refreshed_in_background and self.get(patient_id) is None:
            self.want(patient_id)

    def take_wanted(self, timeout: float) -> list[str]:
        """The builder's side: the patients asked for, oldest request first (waits up to ``timeout`` for one)."""
        with self._wake:
            if not self._wanted:
                self._wake.wait(timeout)
            wanted = list(self._wanted)
            self._wanted.clear()
            return wanted

    def get(self, patient_id: str) -> PatientIndex | None:
        with self._lock:
            hit = self._items.get(patient_id)
            if hit is not None:
                self._items.move_to_end(patient_id)
            return hit

    def put(self, patient_id: str, entry: PatientIndex) -> None:
        with self._lock:
            self.builds += 1
            self._items[patient_id] = entry
            self._items.move_to_end(patient_id)
            while len(self._items) > self.max_patients:
                self._items.popitem(last=False)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text or "") if len(s.strip()) > 2]


def _med_line(m: Any) -> str:
    parts = [m.name, m.strength, m.form, m.route, m.frequency, m.duration, m.instructions]
    line = " ".join(p for p in parts if p)
    extra = [
        f"written as {m.verbatim}" if m.verbatim and m.verbatim != m.name else "",
        m.status or "",
        "" if m.verified else "name unverified",
    ]
    return f"Medication: {line}" + "".join(f"; {e}" for e in extra if e)


def note_passages(note: Note, tz: tzinfo = UTC) -> list[Passage]:
    """One passage per sentence of each section, and one per medication line.

    Args:
        note: the note.
        tz: the clinic's zone: the label names the note's day there (00:30 in Kolkata is that day).
    """
    day = day_of(note.timestamp, tz)
    draft = " (draft)" if note.status is NoteStatus.DRAFT else ""
    out = []
    for section, text in note.sections.items():
        for i, sentence in enumerate(_sentences(text)):
            ref = {"patient_id": note.patient_id, "timestamp": note.timestamp, "section": section}
            out.append(
                Passage(f"note:{note.timestamp}:{section}:{i}", "note", ref, f"Note {day}{draft}, {section}", sentence)
            )
    for i, med in enumerate(note.medications):
        ref = {"patient_id": note.patient_id, "timestamp": note.timestamp, "section": "medications", "line": i}
        out.append(
            Passage(f"note:{note.timestamp}:med:{i}", "note", ref, f"Note {day}{draft}, medications", _med_line(med))
        )
    return out


def history_passages(entry: HistoryEntry, tz: tzinfo = UTC) -> list[Passage]:
    """One passage per medication line and per ~400-character chunk of the document's text.

    Args:
        entry: the history entry.
        tz: the clinic's zone: the label names the upload's day there, or a dated document's own date (that
            day in every zone, as on the timeline and the medication list).
    """
    day = entry.document_date or day_of(entry.timestamp, tz)
    what = "Document" if entry.document_key else "Medication list"
    out = []
    for i, med in enumerate(entry.medications):
        ref = {"patient_id": entry.patient_id, "timestamp": entry.timestamp, "line": i}
        out.append(
            Passage(f"doc:{entry.timestamp}:med:{i}", "document", ref, f"{what} {day}, line {i + 1}", _med_line(med))
        )
    chunk, chunks = "", []
    for line in (entry.extracted_text or "").splitlines():
        if chunk and len(chunk) + len(line) > _CHUNK_CHARS:
            chunks.append(chunk)
            chunk = ""
        chunk = f"{chunk}\n{line}".strip()
    if chunk:
        chunks.append(chunk)
    for j, text in enumerate(chunks):
        ref = {"patient_id": entry.patient_id, "timestamp": entry.timestamp, "chunk": j}
        out.append(Passage(f"doc:{entry.timestamp}:text:{j}", "document", ref, f"{what} {day}, text", text))
    return out


def _metric_passages(patient_id: str, rows: list[Mapping[str, Any]]) -> list[Passage]:
    out = []
    for r in rows:
        day, metric = str(r["day"]), str(r.get("metric", ""))
        ref = {"patient_id": patient_id, "day": day, "metric": metric}
        out.append(
            Passage(
                f"metric:{day}:{metric}",
                "metric_day",
                ref,
                f"Health data {day}, {metric.replace('_', ' ')}",
                str(r["text"]),
            )
        )
    return out


def _heads(stores: RecordStore, patient_id: str) -> tuple[int | None, int | None]:
    notes = stores.notes.list_for_patient(patient_id, None, 1).items
    history = stores.history.list_for_patient(patient_id, None, 1).items
    return (notes[0].timestamp if notes else None, history[0].timestamp if history else None)


def _fresh(
    stores: RecordStore, patient_id: str, entry: PatientIndex, heads: tuple[int | None, int | None], metric_fp: str
) -> bool:
    if entry.heads != heads or entry.metric_fp != metric_fp:
        return False
    changed = stores.notes.changed_since(entry.built_at, 200)
    # A full page means we cannot tell whether this patient is among the changes: rebuild to be safe.
    if len(changed) >= 200:
        return False
    return all(entry.note_versions.get(n.timestamp) == n.version for n in changed if n.patient_id == patient_id)


def patient_index(
    stores: RecordStore,
    patient_id: str,
    cache: AskIndexCache | None = None,
    metric_passages: MetricPassages | None = None,
    tz: tzinfo | None = None,
) -> PatientIndex:
    """The patient's passages and BM25 index, rebuilt only when a note/document was added or changed.

    With a cache that a background builder refreshes, a missing or stale index is not rebuilt here: the
    question gets an index of the newest records (``notice`` says so when that is not all of them) and the
    builder is asked for the full one. Labels name the days in the cache's zone (its index is shared, so its
    zone wins); without a cache, in ``tz`` (UTC when that is None too).
    """
    rows = list(metric_passages(patient_id)) if metric_passages else []
    metric_fp = _metric_fingerprint(rows)
    heads = _heads(stores, patient_id)
    hit = cache.get(patient_id) if cache else None
    if hit is not None and _fresh(stores, patient_id, hit, heads, metric_fp):
        return hit
    if cache is not None and cache.refreshed_in_background:
        entry = _recent_index(stores, patient_id, rows, heads, metric_fp, cache.tz)
        if entry.notice:
            cache.want(patient_id)  # a partial index is never cached as if it were the whole
        else:
            cache.put(patient_id, entry)
        return entry
    built_at = now_ms()
    notes, history = all_notes(stores, patient_id), all_history(stores, patient_id)
    zone = cache.tz if cache is not None else (tz or UTC)
    entry = _build(patient_id, notes, history, rows, built_at, heads, metric_fp, zone)
    if cache is not None:
        cache.put(patient_id, entry)
    return entry


def refresh_index(
    stores: RecordStore, patient_id: str, cache: AskIndexCache, metric_passages: MetricPassages | None = None
) -> PatientIndex:
    """Build the patient's full index into ``cache`` unless the cached one is fresh (the background builder).

    No access check: it serves the questions that check their own (``ask``), and returns nothing to a user.
    """
    rows = list(metric_passages(patient_id)) if metric_passages else []
    metric_fp = _metric_fingerprint(rows)
    heads = _heads(stores, patient_id)
    hit = cache.get(patient_id)
    if hit is not None and not hit.notice and _fresh(stores, patient_id, hit, heads, metric_fp):
        return hit
    built_at = now_ms()
    notes, history = all_notes(stores, patient_id), all_history(stores, patient_id)
    entry = _build(patient_id, notes, history, rows, built_at, heads, metric_fp, cache.tz)
    cache.put(patient_id, entry)
    return entry


def _recent_index(
    stores: RecordStore,
    patient_id: str,
    rows: list[Mapping[str, Any]],
    heads: tuple[int | None, int | None],
    metric_fp: str,
    tz: tzinfo,
) -> PatientIndex:
    """An index of the newest notes and documents only (key queries with a limit): quick whatever the history."""
    built_at = now_ms()
    notes = stores.notes.list_for_patient(patient_id, None, RECENT_RECORDS)
    history = stores.history.list_for_patient(patient_id, None, RECENT_RECORDS)
    entry = _build(patient_id, notes.items, history.items, rows, built_at, heads, metric_fp, tz)
    if notes.next_cursor or history.next_cursor:
        entry.notice = PARTIAL_NOTICE.format(n=RECENT_RECORDS)
    return entry


def _metric_fingerprint(rows: list[Mapping[str, Any]]) -> str:
    return hashlib.sha256(repr([(r.get("day"), r.get("metric"), r.get("text")) for r in rows]).encode()).hexdigest()


def _build(
    patient_id: str,
    notes: list[Note],
    history: list[HistoryEntry],
    rows: list[Mapping[str, Any]],
    built_at: int,
    heads: tuple[int | None, int | None],
    metric_fp: str,
    tz: tzinfo,
) -> PatientIndex:
    passages = [p for n in notes for p in note_passages(n, tz)]
    passages += [p for e in history for p in history_passages(e, tz)]
    passages += _metric_passages(patient_id, rows)
    # Identical texts (the same prescription line every month) are indexed once: faster to build, and
    # boilerplate repeated across records does not dilute the rarity of real findings.
    by_text: dict[str, list[Passage]] = {}
    for p in passages:
        by_text.setdefault(_index_text(p), []).append(p)
    groups = [sorted(g, key=lambda p: recency(p, tz), reverse=True) for g in by_text.values()]
    index = Bm25Index(list(by_text))
    versions = {n.timestamp: n.version for n in notes}
    return PatientIndex(passages, index, built_at, heads, metric_fp, versions, groups, tz=tz)


def citation_exists(stores: RecordStore, patient_id: str, passage: Passage) -> bool:
    """True when the passage's record is in the store, belongs to ``patient_id`` and still holds the text."""
    ref = passage.ref
    if ref.get("patient_id") != patient_id:
        return False
    try:
        if passage.kind == "note":
            note = stores.notes.get(patient_id, int(ref["timestamp"]))
            if ref.get("section") == "medications":
                return (
                    int(ref["line"]) < len(note.medications)
                    and _med_line(note.medications[int(ref["line"])]) == passage.text
                )
            return passage.text in (note.sections.get(str(ref.get("section")), "") or "")
        if passage.kind == "document":
            entry = stores.history.get(patient_id, int(ref["timestamp"]))
            if "line" in ref:
                return (
                    int(ref["line"]) < len(entry.medications)
                    and _med_line(entry.medications[int(ref["line"])]) == passage.text
                )
            return all(line in entry.extracted_text for line in passage.text.splitlines())
        day = str(ref["day"])
        return bool(stores.metrics.days(patient_id, None, day, day))
    except (NotFound, KeyError, ValueError):
        return False


def recency(p: Passage, tz: tzinfo = UTC) -> int:
    """When the passage's record happened (epoch ms): a health-data day begins at 00:00 of it in ``tz``.

    A wearable day is a date on the clinic's calendar; placed at 00:00 UTC it would rank, west of UTC, behind a
    note written the evening before.
    """
    if "timestamp" in p.ref:
        return int(p.ref["timestamp"])
    return local_day_start_ms(str(p.ref.get("day", "1970-01-01")), tz)


def _index_text(p: Passage) -> str:
    section = str(p.ref.get("section", ""))  # "plan", "assessment" ... so "what is the plan?" finds plans
    return " ".join(f"{section} {p.text}".lower().split())
