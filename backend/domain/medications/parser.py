"""Medication lines and mentions -> :class:`backend.domain.models.Medication`.

``parse_line`` reads one prescription/list line ("Tab. Dolo 650 1-0-1 x 5 days after food");
``parse_lines`` does that for each line of an OCR text; ``extract_mentions`` finds every
drug named in free text (a dialogue turn) and fills its fields from the surrounding clause.

``Medication.name`` is the INN/generic ("paracetamol", combinations "a + b") when the name
is known, else the name exactly as written with ``verified=False``. ``verbatim`` holds the
name as written; ``evidence.quote`` the line or clause it came from.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from backend.domain.medications import fields
from backend.domain.medications.lexicon import cue_patterns, stoplist
from backend.domain.medications.names import DrugMatch, exact_lookup, lookup_name
from backend.domain.medications.ocr_digits import read_numbers
from backend.domain.medications.strengths import strength_flags
from backend.domain.models import Evidence, Medication

MAX_WORDS = 4
_TOKEN = re.compile(r"[A-Za-z0-9µ|][A-Za-z0-9µ|'’\-]*")
_GLUED = re.compile(r"([A-Za-z]{3,})(\d{2,}(?:\.\d+)?[A-Za-z%]{0,4})")  # "Dolo650", "Atenolol50mg"
_JOINER = re.compile(r",|\b(?:and|but|then|plus|also|as well as)\b", re.IGNORECASE)
_COMBINE = re.compile(r"\s*(?:\+|/|&|and|with|plus)\s*", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.!?;](?=\s|$)|\n")
_ABBREVIATIONS = frozenset(
    {"tab", "tabs", "cap", "caps", "syp", "syr", "inj", "dr", "mr", "mrs", "ms", "vs", "no", "oint"}
)
_NUMBER_AFTER = re.compile(
    r"[\s-]*(\d{1,4}(?:\.\d+)?)(?![\d./-]|\s*[-–+]\s*\d)(?!\s?(?:times?\b|x\s*(?:\d|daily|a day)))"
    r"(?!\s*(?:units?|u|puffs?|drops?|ml|sprays?|mg|mcg|g|iu|%|tabs?|tablets?|caps?|capsules?|min|mins|minutes?)(?![A-Za-z]))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


@dataclass
class MedMention:
    """A drug named in free text, with its character span and the fields read from its clause."""

    start: int
    end: int
    medication: Medication


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    surface: str
    match: DrugMatch


def tokenize(text: str) -> list[Token]:
    """Word tokens with spans; a strength glued to a name ("Dolo650") is split in two."""
    tokens: list[Token] = []
    for m in _TOKEN.finditer(text):
        word = m.group(0).rstrip("-'’")
        glued = _GLUED.fullmatch(word)
        if glued:
            tokens.append(Token(glued.group(1), m.start(), m.start() + len(glued.group(1))))
            tokens.append(Token(glued.group(2), m.start() + len(glued.group(1)), m.start() + len(word)))
        else:
            tokens.append(Token(word, m.start(), m.start() + len(word)))
    return tokens


def _is_cue_word(word: str) -> bool:
    for table in ("forms", "routes", "instructions"):
        for _, pattern in cue_patterns(table):
            if pattern.fullmatch(word):
                return True
    return word.lower() in stoplist()


def _lookup_token(token: str, correct: bool) -> tuple[DrugMatch | None, int]:
    """Match of one token and how many of its characters the name uses."""
    match = exact_lookup(token)
    if match is None and "-" in token:
        head, _, tail = token.partition("-")
        # "Dolo-650" is Dolo 650 mg, but "Pan-D" is a different product from "Pan": letters stop it.
        if tail.replace(".", "").isdigit():
            head_match = exact_lookup(head)
            if head_match is not None:
                return head_match, len(head)
    if match is None and correct and not _is_cue_word(token):
        match = lookup_name(token, correct=True)
    return match, len(token)


def find_names(text: str, *, correct: bool = False, strict_ambiguous: bool = True) -> list[_Hit]:
    """Known drug names in ``text``, longest match first, left to right.

    Args:
        text: any text.
        correct: allow OCR repair and near-miss corrections of single words.
        strict_ambiguous: skip brand names that are English words ("Pan") unless capitalised mid-sentence.
    """
    tokens = tokenize(text)
    hits: list[_Hit] = []
    i = 0
    while i < len(tokens):
        found: _Hit | None = None
        for k in range(min(MAX_WORDS, len(tokens) - i), 0, -1):
            window = tokens[i : i + k]
            gaps = [text[a.end : b.start] for a, b in itertools.pairwise(window)]
            if any(g.strip(" -") for g in gaps):
                continue  # never join words across punctuation
            surface = text[window[0].start : window[-1].end]
            if _is_form_phrase(surface):
                continue
            if k == 1:
                match, used = _lookup_token(surface, correct)
            else:
                match, used = exact_lookup(surface), len(surface)
            if match is None:
                continue
            if match.ambiguous and strict_ambiguous and not _trusted_ambiguous(text, window[0]):
                continue
            end = window[0].start + used
            found = _Hit(window[0].start, end, text[window[0].start : end], match)
            i += k
            break
        if found is None:
            i += 1
        else:
            hits.append(found)
    return hits


def _trusted_ambiguous(text: str, token: Token) -> bool:
    before = text[: token.start].rstrip()
    return token.text[:1].isupper() and bool(before) and before[-1] not in ".!?:\n"


def _is_suffix(word: str) -> bool:
    if fields.frequency(word) is not None or fields.duration(word) is not None:
        return False
    return (word.isupper() and word.isalpha() and len(word) <= 3) or word.lower() in {"plus", "forte", "kid", "ds"}


def _unknown_name(text: str) -> tuple[int, int] | None:
    """Span of an unrecognised name: the word(s) after a form word, or a leading capitalised word of a dose line."""
    tokens = tokenize(text)
    words = [t for t in tokens if not t.text[0].isdigit()]
    form = fields.form(text)
    if form is not None:
        after = [t for t in words if t.start >= form.end and not _is_cue_word(t.text)]
        if after and after[0].text[0].isalpha():
            end = after[0].end
            for nxt in after[1:]:  # product suffixes: "Ascoril LS", "Glucoryl M", "Nexito Plus"
                if text[end : nxt.start].strip() or not _is_suffix(nxt.text):
                    break
                end = nxt.end
            return after[0].start, end
    has_dose = any(f(text) is not None for f in (fields.strength, fields.frequency))
    if has_dose and words and words[0].start == tokens[0].start:
        first = words[0]
        is_label = text[first.end : first.end + 1] == ":"  # "Advice: ...", "Diet: ..." head a line, they are not drugs
        if first.text[0].isupper() and len(first.text) >= 3 and not _is_cue_word(first.text) and not is_label:
            return first.start, first.end
    return None


def _fill(med_text: str, name_span: tuple[int, int], match: DrugMatch | None, anchor: int) -> dict[str, str | None]:
    """Fields of one medication from ``med_text``; ``name_span`` is blanked out first."""
    rest = med_text[: name_span[0]] + " " * (name_span[1] - name_span[0]) + med_text[name_span[1] :]
    out: dict[str, str | None] = {}
    dur = fields.duration(rest)
    rest = fields.mask(rest, dur)
    freq = fields.frequency(rest)
    rest = fields.mask(rest, freq)
    strength = fields.strength(rest)
    if (strength is None or fields.is_dose_amount(strength.value)) and match is not None and match.bare_unit:
        bare = _NUMBER_AFTER.match(med_text, name_span[1])  # adjacent in the original text, not across masks
        if bare:
            strength = fields.Found(f"{bare.group(1)} {match.bare_unit}", bare.start(1), bare.end(1))
    rest = fields.mask(rest, strength)
    route = fields.route(rest)
    inst = fields.instructions(fields.mask(rest, route))
    form = fields.form(rest)
    stat = fields.status(rest, anchor)
    for key, found in (("strength", strength), ("form", form), ("route", route), ("frequency", freq)):
        out[key] = found.value if found else None
    out["duration"] = dur.value if dur else None
    out["instructions"] = inst.value if inst else None
    out["status"] = stat.value if stat else None
    if out["route"] is None and out["form"] in {"drops"}:
        ear = re.search(r"\bear\b", med_text, re.IGNORECASE)
        eye = re.search(r"\beyes?\b", med_text, re.IGNORECASE)
        out["route"] = "otic" if ear else "ophthalmic" if eye else None
    return out


def _medication(text: str, span: tuple[int, int], match: DrugMatch | None, quote: str) -> Medication:
    surface = text[span[0] : span[1]]
    values = _fill(text, span, match, span[0])
    if match is None:
        return Medication.model_validate(
            {"name": surface, "verbatim": surface, "verified": False, "found_by": "unknown",
             "evidence": Evidence(quote=quote), **values}
        )  # fmt: skip
    return Medication.model_validate(
        {
            "name": match.generic,
            "verbatim": surface,
            "verified": True,
            "found_by": "brand" if match.source == "brand" else "dictionary",
            "corrected_from": match.corrected_from,
            "evidence": Evidence(quote=quote),
            **values,
        }
    )


def _combine(text: str, hits: list[_Hit]) -> tuple[tuple[int, int], DrugMatch, list[str]]:
    """Merge names joined by "+", "/", "and" ("Paracetamol + Codeine") into one combination.

    A strength may follow each component ("Metformin 500mg + Glimepiride 1mg"): then the third value holds
    every component's strength in order, so none is lost; else it is empty.
    """
    first = hits[0]
    components = list(first.match.components)
    end = first.end
    corrected = first.match.corrected_from
    strengths: list[str] = []
    for nxt in hits[1:]:
        gap = text[end : nxt.start]
        own = fields.strength(gap)
        joiner = fields.mask(gap, own) if own else gap
        if not _COMBINE.fullmatch(joiner) or not joiner.strip():
            break
        if own is not None and len(strengths) == len(components) - 1:
            strengths.append(own.value)
        components.extend(c for c in nxt.match.components if c not in components)
        end = nxt.end
        corrected = corrected or nxt.match.corrected_from
    if end == first.end:
        return (first.start, first.end), first.match, []
    if strengths:
        last = fields.strength(text[end:])
        strengths = [*strengths, last.value] if last and len(strengths) == len(components) - 1 else []
    merged = DrugMatch(" + ".join(components), tuple(components), first.match.source, corrected, "mg")
    return (first.start, end), merged, strengths


def _is_form_phrase(surface: str) -> bool:
    """ "Eye drops", "ointment", "inhaler": a dosage form or route, never a drug's name."""
    return any(p.fullmatch(surface) for table in ("forms", "routes") for _, p in cue_patterns(table))


def parse_line(text: str) -> Medication | None:
    """Parse one prescription or medication-list line.

    Args:
        text: e.g. "Tab. Dolo 650 1-0-1 x 5 days after food" or "Metformin 500mg BD".

    Returns:
        The medication (unknown names kept verbatim with ``verified=False``), or None when the
        line names no drug.
    """
    if not text or not text.strip():
        return None
    read, readings = read_numbers(text)  # "5O mg" -> "50 mg", reported in the flags
    med = _parse_read_line(read, text.strip())
    if med is None:
        return None
    med.flags = [*med.flags, *(r.flag() for r in readings), *strength_flags(med)]
    return med


def _parse_read_line(text: str, quote: str) -> Medication | None:
    hits = find_names(text, correct=True, strict_ambiguous=False)
    if hits:
        span, match, strengths = _combine(text, hits)
        med = _medication(text, span, match, quote)
        if strengths:
            med.strength = " + ".join(strengths)
        # A corrected spelling is trusted only on a line that reads like a prescription: "Lotus Medical
        # Centre" must not become barbital (Medical ~ Medinal) on a letterhead.
        if match.corrected_from and not (med.strength or med.form or med.frequency):
            return None
        return med
    unknown = _unknown_name(text)
    if unknown is None:
        return None
    return _medication(text, unknown, None, quote)


def parse_lines(text: str) -> list[Medication]:
    """One :class:`Medication` per line of ``text`` that names a drug (OCR output, a pasted list)."""
    meds: list[Medication] = []
    for line in text.splitlines():
        line = re.sub(r"^\s*(?:\d{1,2}[.)]|[-*•])\s+", "", line)  # list numbering / bullets
        med = parse_line(line)
        if med is not None:
            meds.append(med)
    return meds


def _sentence_ends(text: str) -> list[int]:
    ends: list[int] = []
    for m in _CLAUSE_END.finditer(text):
        word = re.search(r"([A-Za-z]+)$", text[: m.start()])
        if m.group(0) == "." and word and word.group(1).lower() in _ABBREVIATIONS:
            continue  # "Tab. Dolo" is one clause
        ends.append(m.start())
    return ends


def _clause_bounds(ends: list[int], length: int, start: int, end: int) -> tuple[int, int]:
    left = max((e + 1 for e in ends if e < start), default=0)
    right = min((e for e in ends if e >= end), default=length)
    return left, right


def _split_point(text: str, start: int, end: int) -> tuple[int, int]:
    """Where the gap between two drugs splits: the last "and"/"but"/comma in it, else its edges."""
    last = None
    for m in _JOINER.finditer(text, start, end):
        last = m
    return (last.start(), last.end()) if last else (end, start)


def extract_mentions(text: str) -> list[MedMention]:
    """Every drug mention in free text (exact names only), fields filled from its own clause.

    The clause of a mention runs from the sentence start (or the end of the previous drug in the
    same sentence) to the sentence end (or the start of the next drug), so "stop aspirin and start
    clopidogrel 75 mg daily" gives aspirin/stopped and clopidogrel/started/75 mg/once daily.
    """
    hits = find_names(text, correct=False, strict_ambiguous=True)
    ends = _sentence_ends(text)
    mentions: list[MedMention] = []
    for idx, hit in enumerate(hits):
        left, right = _clause_bounds(ends, len(text), hit.start, hit.end)
        if idx > 0 and hits[idx - 1].end > left:
            left = _split_point(text, hits[idx - 1].end, hit.start)[1]
        if idx + 1 < len(hits) and hits[idx + 1].start < right:
            right = _split_point(text, hit.end, hits[idx + 1].start)[0]
        clause = text[left:right]
        med = _medication(clause, (hit.start - left, hit.end - left), hit.match, clause.strip())
        mentions.append(MedMention(start=hit.start, end=hit.end, medication=med))
    return mentions
