"""Ask a question about ONE patient and get an answer that cites that patient's records.

Retrieval is BM25 over the patient's passages (note sentences, medication lines, document text chunks and,
when given, anomaly-day summaries). The patient is fixed by the ``patient_id`` argument: the index holds only
that patient's records, so no wording of the question can reach another patient's data.
Offline the answer is extractive; an optional ``llm`` may phrase it, but only when every citation it gives is
one of the retrieved passages. Every citation is checked against the store before it is returned.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from backend.adapters.bm25_index import Bm25Index
from backend.domain.errors import CopilotError, NotFound, ValidationFailed
from backend.domain.models import HistoryEntry, Note, NoteStatus, now_ms
from backend.domain.reconcile import day_of, reconcile
from backend.domain.text import name_tokens
from backend.domain.timeline import day_start_ms
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.timeline import all_history, all_notes, medication_sources

CitationKind = Literal["note", "document", "metric_day"]
MetricPassages = Callable[[str], list[Mapping[str, Any]]]  # patient_id -> [{day, metric, text}]
Llm = Callable[[str, list["Passage"]], tuple[str, list[str]]]  # (question, passages) -> (text, cited passage ids)

NO_ANSWER = "No record of this patient mentions that."
MAX_QUESTION = 1000
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CHUNK_CHARS = 400


@dataclass
class Passage:
    id: str
    kind: CitationKind
    ref: dict[str, Any]
    label: str
    text: str
    score: float = 0.0


@dataclass(frozen=True)
class Citation:
    passage_id: str
    kind: CitationKind
    ref: dict[str, Any]
    label: str
    snippet: str


@dataclass
class Answer:
    text: str
    citations: list[Citation]
    passages: list[Passage]
    mode: Literal["extractive", "llm", "none"] = "extractive"
    note: str = ""  # why the generated answer was not used, if it was not


@dataclass
class _PatientIndex:
    passages: list[Passage]
    index: Bm25Index
    built_at: int
    heads: tuple[int | None, int | None]
    metric_fp: str
    note_versions: dict[int, int] = field(default_factory=dict)  # timestamp -> version of each indexed note
    groups: list[list[Passage]] = field(default_factory=list)  # passages sharing one indexed text, newest first


@dataclass
class AskIndexCache:
    """Per-patient indexes, reused while the patient's records are unchanged (LRU, thread-safe).

    Build one per process (e.g. in ``App.engines``) and pass it to :func:`ask`.
    """

    max_patients: int = 16
    _items: OrderedDict[str, _PatientIndex] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    builds: int = 0

    def get(self, patient_id: str) -> _PatientIndex | None:
        with self._lock:
            hit = self._items.get(patient_id)
            if hit is not None:
                self._items.move_to_end(patient_id)
            return hit

    def put(self, patient_id: str, entry: _PatientIndex) -> None:
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


def note_passages(note: Note) -> list[Passage]:
    """One passage per sentence of each section, and one per medication line."""
    day = day_of(note.timestamp)
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


def history_passages(entry: HistoryEntry) -> list[Passage]:
    """One passage per medication line and per ~400-character chunk of the document's text."""
    day = day_of(entry.timestamp)
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
    stores: RecordStore, patient_id: str, entry: _PatientIndex, heads: tuple[int | None, int | None], metric_fp: str
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
) -> _PatientIndex:
    """The patient's passages and BM25 index, rebuilt only when a note/document was added or changed."""
    rows = list(metric_passages(patient_id)) if metric_passages else []
    metric_fp = hashlib.sha256(
        repr([(r.get("day"), r.get("metric"), r.get("text")) for r in rows]).encode()
    ).hexdigest()
    heads = _heads(stores, patient_id)
    hit = cache.get(patient_id) if cache else None
    if hit is not None and _fresh(stores, patient_id, hit, heads, metric_fp):
        return hit
    built_at = now_ms()
    notes = all_notes(stores, patient_id)
    passages = [p for n in notes for p in note_passages(n)]
    passages += [p for e in all_history(stores, patient_id) for p in history_passages(e)]
    passages += _metric_passages(patient_id, rows)
    # Identical texts (the same prescription line every month) are indexed once: faster to build, and
    # boilerplate repeated across records does not dilute the rarity of real findings.
    by_text: dict[str, list[Passage]] = {}
    for p in passages:
        by_text.setdefault(_index_text(p), []).append(p)
    groups = [sorted(g, key=_recency, reverse=True) for g in by_text.values()]
    index = Bm25Index(list(by_text))
    entry = _PatientIndex(passages, index, built_at, heads, metric_fp, {n.timestamp: n.version for n in notes}, groups)
    if cache is not None:
        cache.put(patient_id, entry)
    return entry


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


def _recency(p: Passage) -> int:
    if "timestamp" in p.ref:
        return int(p.ref["timestamp"])
    return day_start_ms(str(p.ref.get("day", "1970-01-01")))


def _index_text(p: Passage) -> str:
    section = str(p.ref.get("section", ""))  # "plan", "assessment" ... so "what is the plan?" finds plans
    return " ".join(f"{section} {p.text}".lower().split())


def _retrieve(
    stores: RecordStore, patient_id: str, entry: _PatientIndex, question: str, top_k: int, min_score: float
) -> list[Passage]:
    """Best passages (ties: newest first), each the newest record holding that text whose citation resolves."""
    ranked = [
        (score, entry.groups[i]) for i, score in entry.index.search(question, entry.index.size) if score > min_score
    ]
    ranked.sort(key=lambda c: (-round(c[0], 3), -_recency(c[1][0])))
    hits: list[Passage] = []
    for score, group in ranked:
        p = next((p for p in group if citation_exists(stores, patient_id, p)), None)
        if p is not None:
            hits.append(Passage(p.id, p.kind, p.ref, p.label, p.text, round(score, 4)))
        if len(hits) == top_k:
            break
    return hits


def _cite(p: Passage) -> Citation:
    return Citation(p.id, p.kind, dict(p.ref), p.label, p.text[:300])


def _extractive(hits: list[Passage], max_sentences: int) -> tuple[str, list[Citation]]:
    chosen = hits[:max_sentences]
    lines = [f"[{i}] {p.label}: {p.text}" for i, p in enumerate(chosen, start=1)]
    return "From this patient's records:\n" + "\n".join(lines), [_cite(p) for p in chosen]


def ask(
    stores: RecordStore,
    principal: Principal,
    patient_id: str,
    question: str,
    *,
    cache: AskIndexCache | None = None,
    metric_passages: MetricPassages | None = None,
    llm: Llm | None = None,
    top_k: int = 8,
    max_sentences: int = 3,
    min_score: float = 0.0,
) -> Answer:
    """Answer ``question`` from the records of ``patient_id`` only, with checked citations.

    Args:
        stores: the record store.
        principal: needs Permission.ASK.
        patient_id: the one patient whose records are searched (never taken from the question).
        question: free text, at most 1,000 characters.
        cache: per-process index cache; None builds the index for this call.
        metric_passages: ``f(patient_id) -> [{day, metric, text}]`` summaries of anomaly days.
        llm: ``f(question, passages) -> (text, cited passage ids)``; used only if its citations are retrieved passages.
        top_k: passages retrieved (and shown).
        max_sentences: passages quoted in the extractive answer.
        min_score: BM25 score below which a passage is not relevant.

    Returns:
        Answer(text, citations, passages, mode, note).
    """
    require(principal, Permission.ASK)
    question = (question or "").strip()
    if not question:
        raise ValidationFailed("Type a question about this patient first.")
    if len(question) > MAX_QUESTION:
        raise ValidationFailed(f"The question is {len(question):,} characters long; keep it under {MAX_QUESTION:,}.")
    stores.patients.get(patient_id)
    entry = patient_index(stores, patient_id, cache, metric_passages)
    hits = _retrieve(stores, patient_id, entry, question, top_k, min_score)
    answer = _answer(question, hits, llm, max_sentences)
    cited = ",".join(c.passage_id for c in answer.citations)
    record(stores.audit, principal, "ask", patient_id, f"mode={answer.mode} q={question[:200]!r} cited={cited}")
    return answer


def _answer(question: str, hits: list[Passage], llm: Llm | None, max_sentences: int) -> Answer:
    if not hits:
        return Answer(NO_ANSWER, [], [], "none")
    note = ""
    if llm is not None:
        try:
            text, cited_ids = llm(question, hits)
            by_id = {p.id: p for p in hits}
            if cited_ids and all(c in by_id for c in cited_ids) and text.strip():
                return Answer(text.strip(), [_cite(by_id[c]) for c in dict.fromkeys(cited_ids)], hits, "llm")
            note = (
                "The generated answer cited records that were not retrieved (or none); showing the extractive answer."
            )
        except CopilotError as e:
            note = f"The language model is unavailable ({e.message}); showing the extractive answer."
    text, citations = _extractive(hits, max_sentences)
    return Answer(text, citations, hits, "extractive", note)


@dataclass(frozen=True)
class PatientMatch:
    patient: Any  # Patient
    evidence: list[str]


def _term_in(term_words: list[str], text: str) -> bool:
    words = name_tokens(text)
    return all(any(w.startswith(t) for w in words) for t in term_words)


def search_by_medication_or_diagnosis(
    stores: RecordStore, principal: Principal, term: str, limit: int = 50
) -> list[PatientMatch]:
    """Patients whose reconciled medications or signed notes' assessments/diagnoses mention ``term``.

    "Who is on metformin?" -> every patient with metformin in the reconciled list (active or stopped, said in the
    evidence), or a signed note whose assessment or diagnoses match. Each word of ``term`` must start a word.

    Cost: walks every patient (``list_page``) and reads each one's notes and history with key queries:
    O(patients + records). Fine for a clinic's SQLite store (thousands of records); a larger deployment needs a
    medication/diagnosis index written at sign/digitize time.
    """
    require(principal, Permission.ASK)
    words = name_tokens(term or "")
    if not words or sum(len(w) for w in words) < 3:
        raise ValidationFailed("Type at least 3 letters of a medication or diagnosis.")
    out: list[PatientMatch] = []
    cursor: str | None = None
    while len(out) < limit:
        page = stores.patients.list_page(cursor, 200)
        for patient in page.items:
            evidence = _patient_evidence(stores, patient.patient_id, words)
            if evidence:
                out.append(PatientMatch(patient, evidence))
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    record(stores.audit, principal, "search.cross_patient", detail=f"term={term[:100]!r} patients={len(out[:limit])}")
    for match in out[:limit]:
        record(stores.audit, principal, "search.match", match.patient.patient_id, f"term={term[:100]!r}")
    return out[:limit]


def _patient_evidence(stores: RecordStore, patient_id: str, words: list[str]) -> list[str]:
    notes = all_notes(stores, patient_id)
    evidence = []
    for med in reconcile(medication_sources(notes, all_history(stores, patient_id))):
        if _term_in(words, med.name) or any(_term_in(words, v) for v in med.verbatim):
            dose = " ".join(x for x in (med.strength, med.frequency) if x)
            evidence.append(f"{med.name} {dose} ({med.status}, last seen {day_of(med.last_seen)})".replace("  ", " "))
    for n in notes:
        if n.status is not NoteStatus.SIGNED:
            continue
        diagnoses = n.fields.get("diagnoses") or []
        texts = [n.sections.get("assessment", "")] + [
            d.get("text", "") if isinstance(d, dict) else str(d) for d in diagnoses
        ]
        hit = next((t for t in texts if t and _term_in(words, t)), None)
        if hit:
            evidence.append(f"note {day_of(n.timestamp)}: {' '.join(hit.split())[:160]}")
    return evidence
