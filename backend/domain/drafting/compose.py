"""Choose and rewrite the sentences of the consultation that belong in the note, and route them to its parts."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from backend.domain.drafting.negation import find_symptoms
from backend.domain.drafting.rules import diagnoses, sections, stopwords, text_rules
from backend.domain.drafting.text import Pronouns, content_words, is_chit_chat, strip_fillers, tidy, to_third_person
from backend.domain.drafting.units import Unit
from backend.domain.drafting.vitals import find_vitals

_ROUTED = ("exam", "results", "assessment", "plan")
# Phases of a visit: history (0) -> examination (1) -> assessment and plan (3). Results may be discussed at any
# time, so they do not move the phase; a statement without cues belongs to the phase the visit is in.
_PHASE_OF = {"exam": 1, "assessment": 3, "plan": 3}
_PHASE_DEFAULT = {0: "hpi", 1: "exam", 3: "plan"}
_AUX = re.compile(r"^(are|were|do|did|have|has|can|is|will|would)\s+you\s+(.+)$")
_STRONG_PLAN = re.compile(
    r"\b(?:i am going to|we are going to|i will|we will|prescribe|order|refer|recommend|follow up|come back|let us)\b"
)


@dataclass
class Candidate:
    """A sentence proposed for the note."""

    kind: str
    text: str
    segment_ids: list[int]
    order: float
    score: float
    words: int = 0
    unverified: bool = False
    notes: list[str] = field(default_factory=list)
    speaker: str = "doctor"
    past_history: bool = False  # said after the visit moved on from the history (examination, assessment, plan)


def guess_sex(units: list[Unit]) -> str | None:
    """ "female"/"male" when the transcript says so ("a 58 year old male", "she"), else None."""
    text = " ".join(u.norm for u in units if u.speaker != "patient")
    explicit = re.search(r"\b\d+[- ]year[- ]old (female|woman|lady|girl|male|man|gentleman|boy)\b", text)
    if explicit:
        return "female" if explicit.group(1) in {"female", "woman", "lady", "girl"} else "male"
    female = len(re.findall(r"\b(?:she|her|hers|herself|mrs|ms|miss|ma'am)\b", text))
    male = len(re.findall(r"\b(?:he|him|his|himself|mr|sir)\b", text))
    if female >= 2 and female > 1.5 * male:
        return "female"
    if male >= 2 and male > 1.5 * female:
        return "male"
    return None


def _clinical_hits(norm: str) -> int:
    hits = len(find_symptoms(norm)) + len(diagnoses().find(norm)) + len(find_vitals(norm))
    return hits + len(re.findall(r"\b\d+(?:\.\d+)?\b", norm))


def _route(norm: str, phase: int) -> str:
    """Part of the note for a clinician's statement: the strongest cue, else the part the visit is in."""
    table = sections()
    scores = {kind: table[kind]["weight"] * len(table[kind]["regex"].findall(norm)) for kind in _ROUTED}
    if table["plan"]["imperative_regex"].match(norm):
        return "plan"  # an instruction ("keep taking ... for the swelling") whatever findings it names
    strong_plan = bool(_STRONG_PLAN.search(norm))
    if strong_plan:
        scores["plan"] += 2.0  # "come back ... to recheck your blood pressure" is a plan, not an exam finding
    if phase == 0 and not strong_plan:
        scores["plan"] = 0.0  # while taking the history, "taking"/"diet" are history, not plan
        scores["assessment"] *= 0.5
    best = max(scores, key=lambda k: scores[k])
    if scores[best] > 0:
        return best
    return _PHASE_DEFAULT[phase]


def _answer_polarity(answer: Unit) -> str | None:
    rules = text_rules()
    words = re.sub(r"[^\w' ]", " ", answer.norm).split()
    if not words or len(words) > 8:
        return None
    for n in range(min(4, len(words)), 0, -1):
        head = " ".join(words[:n])
        if head in rules["no_set"]:
            return "no"
        if head in rules["yes_set"]:
            return "yes"
    return None


def _question_answer(question: Unit, answer: Unit, pronouns: Pronouns) -> Candidate | None:
    """A short answer to a yes/no question as a statement.

    "Any fever?" + "no." -> "The patient denies fever."; "are you taking your meds?" + "yes" -> "... is taking ...".
    """
    polarity = _answer_polarity(answer)
    if polarity is None:
        return None
    body = strip_fillers(question.norm).rstrip("?. ")
    ids = question.segment_ids + [s for s in answer.segment_ids if s not in question.segment_ids]
    if find_symptoms(body):
        rest = text_rules()["question_regex"].sub("", body, count=1)
        rest = re.sub(r"^(?:any|some)\s+", "", to_third_person(rest, "doctor", pronouns))
        if not rest or len(rest.split()) > 10:
            return None
        verb = "denies" if polarity == "no" else "reports"
        return Candidate("ros", tidy(f"{pronouns.subject} {verb} {rest}"), ids, question.index, 0.0)
    m = _AUX.match(body)
    if not m or len(m.group(2).split()) > 12:
        return None
    aux, rest = m.groups()
    negated = {"can": "cannot", "will": "will not", "would": "would not"}.get(aux, f"{aux} not")
    statement = f"you {aux if polarity == 'yes' else negated} {rest}"
    if aux == "do" and polarity == "yes":
        statement = f"you {rest}"
    return Candidate("hpi", tidy(to_third_person(statement, "doctor", pronouns)), ids, question.index, 0.0)


def candidates(units: list[Unit], pronouns: Pronouns) -> list[Candidate]:
    """Every sentence worth considering for the note, rewritten, routed and scored (higher = more informative)."""
    stop = stopwords()
    out: list[Candidate] = []
    consumed: set[int] = set()
    phase = 0
    for i, unit in enumerate(units):
        if unit.index in consumed:
            continue
        if unit.question:
            nxt = units[i + 1] if i + 1 < len(units) else None
            if unit.speaker in {"doctor", "unknown"} and nxt is not None and nxt.speaker == "patient":
                qa = _question_answer(unit, nxt, pronouns)
                if qa is not None:
                    qa.score = 2.0 + len([w for w in content_words(qa.text) if w not in stop])
                    out.append(qa)
                    consumed.add(nxt.index)
            continue
        cleaned = strip_fillers(unit.norm)
        if not cleaned or is_chit_chat(cleaned):
            continue
        words = content_words(cleaned)
        content = [w for w in words if w not in stop]
        clinical = _clinical_hits(cleaned)
        if len(words) < 3 or len(content) < 2 or (len(content) < 3 and not clinical):
            continue
        if unit.speaker == "doctor":
            kind = _route(cleaned, phase)
            if kind in _PHASE_OF and _PHASE_OF[kind] > phase and (kind != "plan" or phase > 0 or clinical == 0):
                phase = max(phase, _PHASE_OF[kind])
            bonus = 2.0 if kind in _ROUTED else 0.0
        else:
            kind, bonus = "hpi", (0.0 if phase == 0 else -2.0)
        speaker = "patient" if unit.speaker in {"patient", "unknown"} else unit.speaker
        text = tidy(to_third_person(cleaned, speaker, pronouns))
        score = len(content) + 2.0 * clinical + bonus
        out.append(Candidate(kind, text, list(unit.segment_ids), unit.index, score, speaker=unit.speaker,
                             past_history=phase > 0 or kind in {"assessment", "plan"}))  # fmt: skip
    for cand in out:
        cand.words = len(cand.text.split())
    return out


def select(cands: list[Candidate], budget: int) -> list[Candidate]:
    """The most informative candidates (score per square-root word) within ``budget`` words, in transcript order."""
    ranked = sorted(cands, key=lambda c: c.score / math.sqrt(max(c.words, 1)), reverse=True)
    chosen: list[Candidate] = []
    used = 0
    for cand in ranked:
        if used + cand.words > budget and chosen:
            continue
        chosen.append(cand)
        used += cand.words
    return sorted(chosen, key=lambda c: c.order)
