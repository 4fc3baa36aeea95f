"""Note styles: the same draft re-rendered as the full SOAP note, the brief clinic note or a clinic's template.

A style only selects, orders, shortens and formats what the draft holds: every line it writes comes from one
sentence or one structured field of the draft and carries that item's segment ids — never a new fact.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from backend.domain.drafting.negation import find_symptoms
from backend.domain.drafting.render import render_note_text, tried_words
from backend.domain.drafting.rules import diagnoses as diagnosis_lexicon
from backend.domain.drafting.rules import stopwords
from backend.domain.drafting.shorten import shorten
from backend.domain.drafting.templates import NoteTemplate
from backend.domain.note_content import SOAP_SECTIONS, DraftSentence, Medication, NoteContent

FULL = "full"
# Short structured items say the most per word: they are chosen before narrative sentences of equal value.
_FIELD_BONUS = {"chief_complaint": 100.0, "diagnoses": 8.0, "medications": 6.0, "follow_up": 6.0, "vitals": 4.0,
                "allergies": 4.0, "assessment": 2.0, "plan": 2.0}  # fmt: skip
_NARRATIVE = ("hpi", "ros", "exam", "results", "assessment", "plan")
_WORD = re.compile(r"[a-z0-9]+")
_DUPLICATE_SHARE = 0.8  # a line whose content words are this much inside a chosen line adds nothing


@dataclass(frozen=True)
class StyledLine:
    """One line of a styled note, from one item of the draft (``source``: the field or sentence kind)."""

    text: str
    segment_ids: list[int]
    source: str
    order: float = 0.0
    score: float = 0.0
    unverified: bool = False


@dataclass
class StyledSection:
    """A section of a styled note and the SOAP box its text is edited in."""

    heading: str
    soap: str
    lines: list[StyledLine] = field(default_factory=list)

    @property
    def body(self) -> str:
        """The lines as one paragraph; unverified items end with "[unverified]" as in the full note."""
        return " ".join(f"{ln.text} [unverified]" if ln.unverified else ln.text for ln in self.lines)


@dataclass
class StyledNote:
    """A draft rendered in one style: its sections, the text of each SOAP box and the note as plain text."""

    style: str
    sections: list[StyledSection]
    soap: dict[str, str]
    text: str

    @property
    def lines(self) -> list[StyledLine]:
        """Every line of the note, section by section."""
        return [ln for s in self.sections for ln in s.lines]

    @property
    def words(self) -> int:
        """Length of the note in words."""
        return len(self.text.split())


def full_soap_sections(draft: NoteContent) -> dict[str, str]:
    """The SOAP boxes of the full draft, as the drafter fills them (the chief complaint is not repeated)."""
    return {
        name: " ".join(s.text for s in draft.sentences if s.section == name and s.kind != "chief_complaint")
        for name in SOAP_SECTIONS
    }


def _content(text: str) -> set[str]:
    stop = stopwords()
    return {w for w in _WORD.findall(text.lower()) if w not in stop}


def _informative(text: str) -> float:
    """Content words plus twice the clinical mentions (symptoms, conditions, numbers) of ``text``."""
    norm = text.lower()
    clinical = len(find_symptoms(norm)) + len(diagnosis_lexicon().find(norm)) + len(re.findall(r"\b\d+", norm))
    return len(_content(text)) + 2.0 * clinical


def _medication_text(med: Medication) -> str:
    parts = [med.name[:1].upper() + med.name[1:]]
    parts += [p for p in (med.strength, med.route, med.frequency, med.duration) if p]
    text = " ".join(parts)
    if med.status == "declined":
        return f"Declined: {text}" + (f" — {med.status_reason}." if med.status_reason else ".")
    if tried_words(med) is not None:
        return f"Tried, did not help: {text} — {tried_words(med)}."
    return f"{text} ({med.status})." if med.status else f"{text}."


def _sentence_line(s: DraftSentence, compress: bool) -> StyledLine:
    text = shorten(s.text) if compress else s.text
    return StyledLine(text, list(s.segment_ids), s.kind, float(s.segment_ids[0] if s.segment_ids else 0),
                      unverified=s.unverified)  # fmt: skip


def _field_lines(draft: NoteContent, name: str, compress: bool) -> list[StyledLine]:
    """Candidate lines of one template field, each with the evidence of the item it renders."""
    if name in _NARRATIVE or name == "vitals":
        return [_sentence_line(s, compress) for s in draft.sentences_of(name)]
    out: list[StyledLine] = []
    if name == "chief_complaint":
        said = draft.sentences_of("chief_complaint")
        if said:
            out = [_sentence_line(said[0], False)]
        elif draft.chief_complaint is not None and draft.chief_complaint.text:
            cc = draft.chief_complaint
            out = [StyledLine(cc.text[:1].upper() + cc.text[1:] + ".", list(cc.segment_ids), name)]
    elif name == "diagnoses":
        for d in draft.diagnoses:
            text = d.text[:1].upper() + d.text[1:]
            if d.certainty == "possible":
                text = f"Possible {d.text}"
            out.append(StyledLine(f"{text}.", list(d.segment_ids), name, unverified=d.unverified))
    elif name == "allergies":
        for a in draft.allergies:
            text = a.text if a.text == "no known drug allergies" else f"allergic to {a.text}"
            out.append(StyledLine(text[:1].upper() + text[1:] + ".", list(a.segment_ids), name))
    elif name == "medications":
        for m in draft.medications:
            out.append(StyledLine(_medication_text(m), list(m.evidence.segment_ids), name, unverified=not m.verified))
    elif name == "follow_up":
        fu = draft.follow_up
        if fu is not None and fu.text:
            out = [StyledLine(f"Follow up {fu.text}.", list(fu.segment_ids), name)]
    return [
        StyledLine(ln.text, ln.segment_ids, ln.source, ln.order or float(min(ln.segment_ids, default=0)),
                   unverified=ln.unverified)
        for ln in out
    ]  # fmt: skip


def _scored(line: StyledLine) -> StyledLine:
    words = max(len(line.text.split()), 1)
    score = _informative(line.text) / math.sqrt(words) + _FIELD_BONUS.get(line.source, 0.0)
    return StyledLine(line.text, line.segment_ids, line.source, line.order, score, line.unverified)


def _is_duplicate(line: StyledLine, chosen: list[StyledLine]) -> bool:
    words = _content(line.text)
    if not words:
        return True
    return any(len(words & _content(c.text)) >= _DUPLICATE_SHARE * len(words) for c in chosen)


def render_template(draft: NoteContent, template: NoteTemplate, spoken_words: int) -> StyledNote:
    """The draft in a template's sections, within the template's word budget for this consultation.

    Args:
        draft: the full draft (its sentences, fields and medications are the only source of text).
        template: sections, their fields and the length budget.
        spoken_words: words said in the consultation (the budget is relative to them).

    Returns:
        A ``StyledNote`` whose every line names the draft's segment ids for what it says.
    """
    budget = template.budget.words_for(spoken_words)
    budget -= sum(len(s.heading.split()) for s in template.sections)
    pool: list[tuple[int, StyledLine]] = []
    for index, section in enumerate(template.sections):
        for name in section.fields:
            pool.extend((index, _scored(ln)) for ln in _field_lines(draft, name, template.compress))
    chosen: dict[int, list[StyledLine]] = {i: [] for i in range(len(template.sections))}
    used = 0
    ranked = sorted(pool, key=lambda p: p[1].score, reverse=True)
    # Each section's best line first, so that a short note still has findings and a plan; then by value.
    firsts = {i: next(p for p in ranked if p[0] == i) for i in {p[0] for p in ranked}}
    for index, line in [*sorted(firsts.values(), key=lambda p: p[1].score, reverse=True), *ranked]:
        if line in chosen[index]:
            continue
        words = len(line.text.split()) + line.unverified  # "[unverified]" is shown too
        limit = template.sections[index].max_items
        if limit is not None and len(chosen[index]) >= limit:
            continue
        if used + words > budget or _is_duplicate(line, [ln for lines in chosen.values() for ln in lines]):
            continue
        chosen[index].append(line)
        used += words
    sections: list[StyledSection] = []
    for index, spec in enumerate(template.sections):
        rank: dict[str, int] = {str(name): i for i, name in enumerate(spec.fields)}
        lines = sorted(chosen[index], key=lambda ln: (rank.get(ln.source, 0), ln.order))
        sections.append(StyledSection(spec.heading, spec.soap_section, lines))
    shown = [s for s in sections if s.lines]
    soap = {name: "\n".join(f"{s.heading}: {s.body}" for s in shown if s.soap == name) for name in SOAP_SECTIONS}
    text = "\n".join(f"{s.heading}: {s.body}" for s in shown)
    return StyledNote(template.name, sections, soap, text + ("\n" if text else ""))


def render_full(draft: NoteContent) -> StyledNote:
    """The full SOAP note, exactly as today's drafter renders it."""
    lines = [StyledLine(s.text, list(s.segment_ids), s.kind, unverified=s.unverified) for s in draft.sentences]
    return StyledNote(FULL, [StyledSection("", "", lines)], full_soap_sections(draft), render_note_text(draft))


def render_style(draft: NoteContent, style: str, templates: dict[str, NoteTemplate], spoken_words: int) -> StyledNote:
    """The draft in the named style: ``"full"`` or the name of a template in ``templates``.

    Raises:
        KeyError: when ``style`` is neither ``"full"`` nor a template's name.
    """
    if style == FULL:
        return render_full(draft)
    return render_template(draft, templates[style], spoken_words)
