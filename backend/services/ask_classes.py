"""Ask about a class of medicines ("Is she on any blood pressure medicine?") from the reconciled medication list.

Lexical retrieval cannot know that telmisartan is a blood-pressure medicine; the class table does. The answer
lists the patient's medicines of the class (dose, since when, from which record), each cited by its medication
line. "No" is said only when nothing of the class is on the reconciled list *and* no record's text names a
medicine of the class, and it says what was searched and which names could not be classed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, tzinfo

from backend.domain.drug_classes import DrugClass, atc_in_class, class_named_in, classes_of, is_classified
from backend.domain.models import HistoryEntry, Note, NoteStatus
from backend.domain.reconcile import ActiveMed, MedSource, day_of, reconcile, source_day
from backend.domain.text import fold
from backend.ports import RecordStore
from backend.services.ask_index import Passage, PatientIndex, citation_exists, recency
from backend.services.timeline import all_history, all_notes, medication_sources

MAX_MENTIONS = 3


@dataclass
class ClassMed:
    """One medicine of the asked class, with the medication lines that show it."""

    med: ActiveMed
    atc: tuple[str, ...]
    passages: list[Passage]
    since_day: str = ""  # the clinic's day the current course started (a dated document: its own date)


@dataclass
class ClassFacts:
    """What the patient's records hold of one class."""

    drug_class: DrugClass
    active: list[ClassMed] = field(default_factory=list)
    stopped: list[ClassMed] = field(default_factory=list)
    mentions: list[Passage] = field(default_factory=list)  # free text naming a class medicine (no list has it)
    searched: str = ""
    unclassified: list[str] = field(default_factory=list)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _searched(notes: list[Note], history: list[HistoryEntry]) -> str:
    drafts = sum(n.status is NoteStatus.DRAFT for n in notes)
    note_text = _plural(len(notes), "note") + (f" ({drafts} of them a draft)" if drafts else "")
    return f"{note_text} and {_plural(len(history), 'document')}"


def _line_ids(notes: list[Note], history: list[HistoryEntry]) -> dict[tuple[str, int, str], str]:
    """(kind, record timestamp, folded drug name) -> the passage id of that record's first line of the drug."""
    out: dict[tuple[str, int, str], str] = {}
    for n in notes:
        for i, m in enumerate(n.medications):
            out.setdefault(("note", n.timestamp, fold(m.name).strip()), f"note:{n.timestamp}:med:{i}")
    for e in history:
        for i, m in enumerate(e.medications):
            out.setdefault(("document", e.timestamp, fold(m.name).strip()), f"doc:{e.timestamp}:med:{i}")
    return out


def _med_passages(
    stores: RecordStore,
    patient_id: str,
    med: ActiveMed,
    line_ids: dict[tuple[str, int, str], str],
    by_id: dict[str, Passage],
) -> list[Passage]:
    """The medication lines of the course's start and of the latest record (one when they are the same)."""
    refs = [r for r in (med.since_ref, med.sources[-1] if med.sources else None) if r is not None]
    out: list[Passage] = []
    for ref in refs:
        pid = line_ids.get((str(ref.get("kind")), int(ref.get("timestamp", 0)), fold(med.name).strip()))
        p = by_id.get(pid or "")
        if p is not None and p not in out and citation_exists(stores, patient_id, p):
            out.append(p)
    return out


def _since_day(med: ActiveMed, sources: list[MedSource], tz: tzinfo) -> str:
    """The day a person reads for the course's start: its source's day (a dated document keeps its own date)."""
    source = next((s for s in sources if s.ref == med.since_ref), None)
    return source_day(source, tz) if source is not None else day_of(med.since, tz)


def class_facts(
    stores: RecordStore, patient_id: str, entry: PatientIndex, classes: list[DrugClass], tz: tzinfo = UTC
) -> list[ClassFacts]:
    """The patient's medicines of each class, from signed notes and documents, and free-text mentions.

    Args:
        stores: the record store.
        patient_id: the patient (the caller checked the principal may ask about them).
        entry: the patient's passage index (the citations are its passages).
        classes: the classes the question asks about.
        tz: the clinic's zone: "since" and "last recorded" name its calendar days.
    """
    notes, history = all_notes(stores, patient_id), all_history(stores, patient_id)
    sources = medication_sources(notes, history)
    meds = reconcile(sources, tz=tz)
    line_ids = _line_ids(notes, history)
    by_id = {p.id: p for p in entry.passages}
    searched = _searched(notes, history)
    unclassified = [m.name + ("" if m.verified else " (name unverified)") for m in meds if not is_classified(m.name)]
    out = []
    for c in classes:
        facts = ClassFacts(c, searched=searched, unclassified=unclassified)
        for m in meds:
            if c.id in classes_of(m.name):
                passages = _med_passages(stores, patient_id, m, line_ids, by_id)
                found = ClassMed(m, atc_in_class(m.name, c.id), passages, _since_day(m, sources, tz))
                (facts.active if m.status == "active" else facts.stopped).append(found)
        if not facts.active:
            facts.mentions = _mentions(stores, patient_id, entry, c, facts)
        out.append(facts)
    return out


def _mentions(
    stores: RecordStore, patient_id: str, entry: PatientIndex, c: DrugClass, facts: ClassFacts
) -> list[Passage]:
    shown = {p.id for m in facts.stopped for p in m.passages}
    listed = [m.med.name for m in facts.stopped]
    hits = [p for p in entry.passages if p.id not in shown and _names_unlisted(p.text, c.id, listed)]
    hits.sort(key=lambda p: recency(p, entry.tz), reverse=True)
    return [p for p in hits if citation_exists(stores, patient_id, p)][:MAX_MENTIONS]


def _names_unlisted(text: str, class_id: str, listed: list[str]) -> bool:
    """Whether ``text`` names a medicine of the class besides those the answer already lists.

    The "check" lines say no list has the medicine: a note's "simvastatin stopped for muscle pain" beside a listed
    stopped simvastatin is not one. Only the listed names themselves are taken out: a brand name stays a mention.
    """
    rest = fold(text)
    for name in listed:
        rest = re.sub(rf"\b{re.escape(fold(name).strip())}\b", " ", rest)
    return class_named_in(rest, class_id) is not None


def _dose(m: ActiveMed) -> str:
    return " ".join(x for x in (m.name, m.strength, m.frequency) if x)


def _marks(passages: list[Passage], numbers: dict[str, int]) -> str:
    return "".join(f" [{numbers[p.id]}]" for p in passages)


def _active_line(cm: ClassMed, numbers: dict[str, int]) -> str:
    m = cm.med
    kind = str(m.since_ref.get("kind", "record")) if m.since_ref else "record"
    # "first recorded" only says when a record first named the drug: the patient may have been on it before.
    since = "since at least" if m.since_word == "first recorded" else "since"
    atc = f" ({' '.join(cm.atc)})" if cm.atc else ""
    line = f"{_dose(m)}{atc}: {since} {cm.since_day} ({m.since_word}, {kind})"
    if m.last_seen != m.since:
        line += f", last recorded {m.last_day} ({m.last_source})"
    if not m.verified:
        line += ", name unverified"
    if m.conflict:
        line += f"; {m.conflict_detail}"
    return line + _marks(cm.passages, numbers)


def _stopped_line(cm: ClassMed, numbers: dict[str, int]) -> str:
    m = cm.med
    atc = f" ({' '.join(cm.atc)})" if cm.atc else ""
    # a declined drug was never taken: it says so, and why, rather than "stopped"
    said = f"declined ({m.status_reason})" if m.status == "declined" and m.status_reason else m.status
    return f"{_dose(m)}{atc}: {said}, last recorded {m.last_day} ({m.last_source}){_marks(cm.passages, numbers)}"


def _not_taken(f: ClassFacts) -> tuple[list[ClassMed], list[ClassMed]]:
    """The class's medicines off the list: ``(stopped, declined)``. A declined one was offered and never started,
    so it is listed under its own words, never under "stopped earlier"."""
    declined = [cm for cm in f.stopped if cm.med.status == "declined"]
    return [cm for cm in f.stopped if cm.med.status != "declined"], declined


def cited_passages(facts: list[ClassFacts]) -> list[Passage]:
    """Every passage the class answer cites, in the order it cites them."""
    out: list[Passage] = []
    for f in facts:
        stopped, declined = _not_taken(f)
        for p in [p for cm in f.active + stopped + declined for p in cm.passages] + f.mentions:
            if p not in out:
                out.append(p)
    return out


STOPPED_HEADING = "stopped earlier:"
DECLINED_HEADING = "offered, not started (declined):"


def facts_text(facts: list[ClassFacts], numbers: dict[str, int]) -> str:
    """The class answer, one block per class; ``numbers`` gives each cited passage its [n]."""
    blocks = []
    for f in facts:
        c, atc = f.drug_class, f" ({f.drug_class.atc_text})" if f.drug_class.atc else ""
        stopped, declined = _not_taken(f)
        off_list = [(STOPPED_HEADING, stopped), (DECLINED_HEADING, declined)]
        # Without an active one and with one kind off the list, its heading ends the "not now" line.
        headed = bool(f.active) or (bool(stopped) and bool(declined))
        lines: list[str] = []
        if f.active:
            lines.append(f"Yes — medicines of the class '{c.label}'{atc} on the reconciled medication list:")
            lines += [f"- {_active_line(cm, numbers)}" for cm in f.active]
        elif f.stopped:
            only = next(heading for heading, meds in off_list if meds)
            lines.append(
                f"Not now — no active medicine of the class '{c.label}'{atc}" + ("." if headed else f"; {only}")
            )
        for heading, meds in off_list:
            if meds and headed:
                lines.append(heading[0].upper() + heading[1:])
            lines += [f"- {_stopped_line(cm, numbers)}" for cm in meds]
        if not f.active and f.mentions:
            lines.append(
                f"Check: these records name a medicine of the class '{c.label}'{atc} that no signed note or "
                "document lists:"
            )
            lines += [f"- [{numbers[p.id]}] {p.label}: {p.text}" for p in f.mentions]
        elif not f.active and not f.stopped:
            lines.append(f"No medicine of the class '{c.label}'{atc} in {f.searched}.")
        if not f.active and f.unclassified:
            lines.append(f"Not classed, check by hand: {', '.join(f.unclassified)}.")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def facts_context(facts: list[ClassFacts]) -> str:
    """The class facts in one paragraph, for a language model that phrases the answer."""
    parts = []
    for f in facts:
        label = f.drug_class.label
        for cm in f.active:
            ids = ", ".join(p.id for p in cm.passages)
            parts.append(
                f"{cm.med.name} is a '{label}' medicine ({' '.join(cm.atc)}), active since {cm.since_day} "
                f"({cm.med.since_word}); passages {ids}."
            )
        for cm in f.stopped:
            # "declined" alone reads to a model like "stopped": say it was never started
            status = "declined (offered, never started)" if cm.med.status == "declined" else cm.med.status
            parts.append(
                f"{cm.med.name} is a '{label}' medicine, {status}; passages {', '.join(p.id for p in cm.passages)}."
            )
        if not f.active and not f.stopped:
            parts.append(f"No '{label}' medicine is on the reconciled medication list ({f.searched}).")
    return " ".join(parts)
