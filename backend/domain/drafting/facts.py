"""Structured fields read from the sentences of a consultation: chief complaint, diagnoses, allergies, follow-up."""

from __future__ import annotations

import re

from backend.domain.drafting.context import about_family, mention_context
from backend.domain.drafting.negation import find_findings, find_symptoms
from backend.domain.drafting.rules import diagnoses as diagnosis_lexicon
from backend.domain.drafting.rules import phrase_regex, sections
from backend.domain.drafting.units import Unit
from backend.domain.note_content import CitedText, Diagnosis

# A relative's turn goes on: "my sister has stomach problems. she has IBS." (the patient speaks of her as she)
_RELATIVE_SUBJECT = re.compile(r"^(?:(?:and|so|well|yeah|um|uh|also)[\s,]+)*(?:she|he|they|her|his|their)\b")
_CC_STOP = re.compile(r"\s*(?:[,.?!;]| who | which | that | and i | so | because | since | but | as well)")
_CC_LEADING = re.compile(
    r"^(?:(?:a|an|the|your|her|his|my|their|the patient's|some|this|that|evaluation of|follow-up of)\s+)+"
)


def chief_complaint(units: list[Unit]) -> CitedText | None:
    """The reason for the visit, from the clinician's words ("here for ...") or the patient's first complaint.

    Returns:
        The complaint with its segments, or None when the transcript does not say.
    """
    rules = sections()["chief_complaint"]
    for unit in units:
        if unit.speaker == "patient":
            continue
        m = rules["regex"].search(unit.norm)
        if not m:
            continue
        rest = unit.norm[m.end() :]
        stop = _CC_STOP.search(rest)
        phrase = _CC_LEADING.sub("", (rest[: stop.start()] if stop else rest).strip())
        words = phrase.split()
        if 1 <= len(words) <= 8 and not re.match(r"^(?:a |an )?(?:visit|appointment|today|now|me)\b", phrase):
            return CitedText(text=phrase, segment_ids=list(unit.segment_ids))
    for i, unit in enumerate(units):
        if unit.speaker != "patient" and rules["question_regex"].search(unit.norm):
            for answer in units[i + 1 : i + 4]:
                if answer.speaker == "patient":
                    present = [f for f in find_symptoms(answer.norm) if f.present and not f.hypothetical]
                    if present:
                        return CitedText(text=present[0].name, segment_ids=list(answer.segment_ids))
    for unit in units:
        if unit.speaker == "patient" and not unit.question:
            present = [f for f in find_symptoms(unit.norm) if f.present and not f.hypothetical]
            if present:
                return CitedText(text=present[0].name, segment_ids=list(unit.segment_ids))
    return None


def follow_up(units: list[Unit]) -> CitedText | None:
    """When the patient should come back ("come back in two weeks" -> "in 2 weeks"), from the clinician."""
    for unit in reversed(units):
        if unit.speaker == "patient" or unit.question:
            continue
        for regex in sections()["follow_up"]["compiled"]:
            m = regex.search(unit.norm)
            if m:
                when = m.group("when").strip()
                text = when if re.match(r"^(?:next|tomorrow|as needed|if)", when) else f"in {when}"
                return CitedText(text=text, segment_ids=list(unit.segment_ids))
    return None


def allergies(units: list[Unit]) -> list[CitedText]:
    """Allergies stated in the transcript; "no known drug allergies" is kept as such."""
    rules = sections()["allergies"]
    found: list[CitedText] = []
    for unit in units:
        if unit.question:
            continue
        if rules["none_regex"].search(unit.norm):
            found.append(CitedText(text="no known drug allergies", segment_ids=list(unit.segment_ids)))
            continue
        for regex in rules["compiled"]:
            for m in regex.finditer(unit.norm):
                what = m.group("what").strip(" ,")
                if what and len(what.split()) <= 6:
                    found.append(CitedText(text=what, segment_ids=list(unit.segment_ids)))
    return found


def diagnoses(units: list[Unit]) -> list[Diagnosis]:
    """Conditions the transcript says the patient has (never inferred), with certainty.

    Left out: negated mentions ("no history of diabetes", in NegEx scope), a relative's ("my mother has breast
    cancer", or "she has ..." right after a sentence about a relative), someone else's ("people with asthma"),
    what is not a diagnosis ("risk of stroke", "colon cancer screening", "CVA tenderness") and suppositions ("if
    it were a stroke"), and questions.

    Returns:
        One ``Diagnosis`` per condition, merged by name ("possible" and unverified unless once stated plainly).
    """
    uncertain = phrase_regex(sections()["diagnosis_certainty"]["uncertain"])
    merged: dict[str, Diagnosis] = {}
    relative_before = False  # the previous sentence of the same turn named a relative
    for i, unit in enumerate(units):
        same_turn = i > 0 and units[i - 1].turn == unit.turn
        carried = (
            same_turn and relative_before and unit.speaker == "patient" and bool(_RELATIVE_SUBJECT.match(unit.norm))
        )
        relative_before = about_family(unit.norm) or carried
        if unit.question:
            continue
        for finding in find_findings(unit.norm, diagnosis_lexicon()):
            # (the symptom rules' "if" reaches the sentence's end; the context's reach is shorter, for conditions)
            if not finding.present or carried:
                continue
            if not mention_context(unit.norm, finding.start, finding.end, unit.speaker).patients:
                continue
            name = finding.name
            possible = bool(uncertain.search(unit.norm))
            shown = diagnosis_lexicon().display(name)  # "GERD", not "gerd"
            item = merged.setdefault(name, Diagnosis(text=shown, certainty="possible", unverified=True))
            if not possible:
                item.certainty, item.unverified = "stated", False
            for sid in unit.segment_ids:
                if sid not in item.segment_ids:
                    item.segment_ids.append(sid)
    return list(merged.values())
