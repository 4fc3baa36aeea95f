"""Ask a question about ONE patient and get an answer that cites that patient's records.

Retrieval is BM25 over the patient's passages (note sentences, medication lines, document text chunks and,
when given, anomaly-day summaries). The patient is fixed by the ``patient_id`` argument: the index holds only
that patient's records, so no wording of the question can reach another patient's data.
Offline the answer is extractive; an optional ``llm`` may phrase it, but only when every citation it gives is
one of the retrieved passages. Every citation is checked against the store before it is returned.

A question about a class of medicines ("any blood pressure medicine?", "statins", "sugar tablets") is answered
first from the reconciled medication list and the class table (``ask_classes``), then by the retrieved passages.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any, Literal

from backend.domain.drug_classes import asked_classes
from backend.domain.errors import CopilotError, ValidationFailed
from backend.domain.models import NoteStatus
from backend.domain.reconcile import day_of, reconcile
from backend.domain.text import name_tokens
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.ask_classes import ClassFacts, cited_passages, class_facts, facts_context, facts_text
from backend.services.ask_index import (
    AskIndexCache,
    CitationKind,
    MetricPassages,
    Passage,
    PatientIndex,
    citation_exists,
    patient_index,
    recency,
)
from backend.services.paging import every
from backend.services.timeline import all_history, all_notes, medication_sources

Llm = Callable[[str, list[Passage]], tuple[str, list[str]]]  # (question, passages) -> (text, cited passage ids)

NO_ANSWER = "No record of this patient mentions that."
MAX_QUESTION = 1000
__all__ = [
    "NO_ANSWER",
    "Answer",
    "AskIndexCache",
    "Citation",
    "Passage",
    "PatientMatch",
    "ask",
    "citation_exists",
    "search_by_medication_or_diagnosis",
]


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
    mode: Literal["extractive", "llm", "none", "classes"] = "extractive"
    note: str = ""  # why the generated answer was not used, if it was not


def _retrieve(
    stores: RecordStore, patient_id: str, entry: PatientIndex, question: str, top_k: int, min_score: float
) -> list[Passage]:
    """Best passages (ties: newest first), each the newest record holding that text whose citation resolves."""
    ranked = [
        (score, entry.groups[i]) for i, score in entry.index.search(question, entry.index.size) if score > min_score
    ]
    ranked.sort(key=lambda c: (-round(c[0], 3), -recency(c[1][0], entry.tz)))
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
    tz: tzinfo | None = None,
) -> Answer:
    """Answer ``question`` from the records of ``patient_id`` only, with checked citations.

    Args:
        stores: the record store.
        principal: needs Permission.ASK.
        patient_id: the one patient whose records are searched (never taken from the question).
        question: free text, at most 1,000 characters.
        cache: per-process index cache; None builds the index for this call. With a cache, the days the answer
            names are the clinic's days in the cache's zone (``AskIndexCache.tz``: its labels are shared).
        metric_passages: ``f(patient_id) -> [{day, metric, text}]`` summaries of anomaly days.
        llm: ``f(question, passages) -> (text, cited passage ids)``; used only if its citations are retrieved passages.
        top_k: passages retrieved (and shown).
        max_sentences: passages quoted in the extractive answer.
        min_score: BM25 score below which a passage is not relevant.
        tz: the clinic's zone for a call without a cache (``Settings.clinic_tz``); None there means UTC.

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
    zone = cache.tz if cache is not None else (tz or UTC)
    entry = patient_index(stores, patient_id, cache, metric_passages, zone)
    hits = _retrieve(stores, patient_id, entry, question, top_k, min_score)
    classes = asked_classes(question)
    if classes:
        facts = class_facts(stores, patient_id, entry, classes, zone)
        answer = _class_answer(question, facts, hits, llm, max_sentences)
    else:
        answer = _answer(question, hits, llm, max_sentences)
    if entry.notice:  # only the newest records were searched (the full index is being built): say so
        answer.note = f"{answer.note} {entry.notice}".strip()
    cited = ",".join(c.passage_id for c in answer.citations)
    # What happened, not what was asked: the question is clinical text, and admins read the audit trail (the
    # classes asked about would say what the question was about, so only their number is logged).
    record(
        stores.audit,
        principal,
        "ask",
        patient_id,
        f"mode={answer.mode} question_chars={len(question)} classes={len(classes)} "
        f"passages={len(answer.passages)} cited={cited}",
    )
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


def _class_answer(
    question: str, facts: list[ClassFacts], hits: list[Passage], llm: Llm | None, max_sentences: int
) -> Answer:
    """The class facts first, then the best other passages; an LLM may phrase it if it cites a class medicine."""
    class_passages = cited_passages(facts)
    others = [p for p in hits if p.id not in {c.id for c in class_passages}][:max_sentences]
    passages = class_passages + others
    note = ""
    members = {p.id for f in facts for cm in f.active for p in cm.passages}
    if llm is not None and members:
        try:
            text, cited_ids = llm(f"{question}\n\nFacts: {facts_context(facts)}", passages)
            by_id = {p.id: p for p in passages}
            if text.strip() and cited_ids and all(c in by_id for c in cited_ids) and members & set(cited_ids):
                return Answer(text.strip(), [_cite(by_id[c]) for c in dict.fromkeys(cited_ids)], passages, "llm")
            note = "The generated answer did not cite the class's medicines; showing the medication list's answer."
        except CopilotError as e:
            note = f"The language model is unavailable ({e.message}); showing the medication list's answer."
    numbers = {p.id: i for i, p in enumerate(passages, start=1)}
    text = facts_text(facts, numbers)
    if others:
        text += "\n\nOther passages of this patient's records:\n" + "\n".join(
            f"[{numbers[p.id]}] {p.label}: {p.text}" for p in others
        )
    return Answer(text, [_cite(p) for p in passages], passages, "classes", note)


@dataclass(frozen=True)
class PatientMatch:
    patient: Any  # Patient
    evidence: list[str]


def _term_in(term_words: list[str], text: str) -> bool:
    words = name_tokens(text)
    return all(any(w.startswith(t) for w in words) for t in term_words)


def search_by_medication_or_diagnosis(
    stores: RecordStore, principal: Principal, term: str, limit: int = 50, tz: tzinfo = UTC
) -> list[PatientMatch]:
    """Patients whose reconciled medications or signed notes' assessments/diagnoses mention ``term``.

    "Who is on metformin?" -> every patient with metformin in the reconciled list (active or stopped, said in the
    evidence), or a signed note whose assessment or diagnoses match. Each word of ``term`` must start a word.
    The evidence names the clinic's days in ``tz``.

    Cost: walks every patient (``list_page``) and reads each one's notes and history with key queries:
    O(patients + records). Fine for a clinic's SQLite store (thousands of records); a larger deployment needs a
    medication/diagnosis index written at sign/digitize time.
    """
    require(principal, Permission.ASK)
    words = name_tokens(term or "")
    if not words or sum(len(w) for w in words) < 3:
        raise ValidationFailed("Type at least 3 letters of a medication or diagnosis.")
    out: list[PatientMatch] = []
    for patient in every(lambda cursor: stores.patients.list_page(cursor, 200)):
        evidence = _patient_evidence(stores, patient.patient_id, words, tz)
        if evidence:
            out.append(PatientMatch(patient, evidence))
            if len(out) >= limit:
                break
    # The term with the patients it matched would say who has which diagnosis: only the lengths, the count and
    # which patients were shown are logged, tied together by a search id.
    search_id = secrets.token_hex(4)
    found = out[:limit]
    record(
        stores.audit,
        principal,
        "search.cross_patient",
        detail=f"search={search_id} term_chars={len(term.strip())} patients={len(found)}",
    )
    for match in found:
        record(
            stores.audit,
            principal,
            "search.match",
            match.patient.patient_id,
            f"search={search_id} evidence={len(match.evidence)}",
        )
    return out[:limit]


def _patient_evidence(stores: RecordStore, patient_id: str, words: list[str], tz: tzinfo) -> list[str]:
    notes = all_notes(stores, patient_id)
    evidence = []
    for med in reconcile(medication_sources(notes, all_history(stores, patient_id)), tz=tz):
        if _term_in(words, med.name) or any(_term_in(words, v) for v in med.verbatim):
            dose = " ".join(x for x in (med.strength, med.frequency) if x)
            evidence.append(f"{med.name} {dose} ({med.status}, last seen {med.last_day})".replace("  ", " "))
    for n in notes:
        if n.status is not NoteStatus.SIGNED:
            continue
        texts = [n.sections.get("assessment", ""), *(d.text for d in n.diagnoses)]
        hit = next((t for t in texts if t and _term_in(words, t)), None)
        if hit:
            evidence.append(f"note {day_of(n.timestamp, tz)}: {' '.join(hit.split())[:160]}")
    return evidence
