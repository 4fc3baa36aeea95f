"""Facts of the offline draft against the clinician's note: every medication and diagnosis, with a verdict.

Each consultation is drafted from its tagged text; every medication (name, strength, frequency) and every diagnosis
of the draft is judged against the reference note — supported, partly (right drug, a dose or frequency the note does
not give; a broader or narrower diagnosis) or unsupported — and listed with the transcript words it came from.

Both sides are read by the same code, so the matching is fair both ways: drug names by the drug dictionary (generic
components: "Lasix" in the note is the draft's furosemide), strengths and frequencies by the medication parser,
diagnoses by the drafter's condition lexicon and by WHO ICD-10 codes (``backend.domain.icd10``), so "high blood
pressure" in the draft is the note's "Essential hypertension". The note's diagnoses are its non-negated lexicon
mentions outside family history and risks, and its Assessment headings with an ICD-10 code.

ACI-Bench (``--aci``): whole notes, medications and diagnoses scored. MTS-Dialog (``--mts``): a row is one section
of a note, so only its kind is scored: medications on MEDICATIONS rows, diagnoses on ASSESSMENT, DIAGNOSIS and
PASTMEDICALHX rows.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.domain import icd10
from backend.domain.drafting import draft_note
from backend.domain.drafting.context import mention_context
from backend.domain.drafting.drug_context import drug_context
from backend.domain.drafting.negation import find_findings
from backend.domain.drafting.rules import diagnoses as diagnosis_lexicon
from backend.domain.medications import extract_mentions
from backend.domain.models import Segment
from backend.domain.note_content import Diagnosis, Medication, NoteContent
from backend.evals.notes import dialogue_to_segments, mts_dialogue_to_segments, read_mts_rows, read_rows

MTS_MEDICATION_SECTIONS = frozenset({"MEDICATIONS"})
MTS_DIAGNOSIS_SECTIONS = frozenset({"ASSESSMENT", "DIAGNOSIS", "PASTMEDICALHX"})
_FAMILY = re.compile(
    r"\b(?:family history|mother|father|mom|dad|sister|brother|son|daughter|aunt|uncle|grandmother|grandfather|"
    r"grandparents?|cousin|sibling|siblings|parents?|runs in the family)\b",
    re.IGNORECASE,
)
_RISK = re.compile(r"\b(?:risks?|complications?|side effects?)\b", re.IGNORECASE)
_ALLERGY = re.compile(r"\ballerg", re.IGNORECASE)
_SECTION_HEADING = re.compile(r"^\s*[A-Z][A-Z /&-]{3,}:?\s*$")
_HEADING = re.compile(r"^\s*(?:\d+[.)]\s*)?([A-Za-z][A-Za-z0-9 ,'/-]{2,80}?)\s*[.:]?\s*$")
_ASSESSMENT_START = re.compile(r"^\s*(?:ASSESSMENT|IMPRESSION)\b", re.IGNORECASE | re.MULTILINE)
_SENTENCE = re.compile(r"(?<=[.?!])\s+|\n+")  # not inside "2.5 mg" or "0.1%"


@dataclass
class RefMed:
    """A drug the reference note names, with every strength and frequency the note gives it."""

    strengths: set[str] = field(default_factory=set)
    frequencies: set[str] = field(default_factory=set)


@dataclass
class RefFacts:
    """What the reference note says: drugs by generic component, diagnoses by name and by ICD-10 category."""

    meds: dict[str, RefMed] = field(default_factory=dict)
    diagnoses: set[str] = field(default_factory=set)  # canonical names and heading texts
    codes: dict[str, str] = field(default_factory=dict)  # ICD-10 category (3 characters) -> the note's words
    denied: set[str] = field(default_factory=set)  # canonical names the note mentions only negated


def components(name: str) -> list[str]:
    """Generic components of a medication name ("amlodipine + valsartan" -> both), lower-cased."""
    return [c.strip().lower() for c in name.split(" + ") if c.strip()]


def _number(raw: str) -> str:
    raw = raw.strip().rstrip(".")
    return raw.rstrip("0").rstrip(".") if "." in raw else raw


def strength_key(strength: str | None) -> str | None:
    """A strength as number and unit ("20 mg" and "20mg" -> "20 mg"; "0.50 mg" -> "0.5 mg"; "400/80")."""
    if not strength:
        return None
    m = re.match(r"\s*([\d.]+(?:\s*/\s*[\d.]+)*)\s*([a-zA-Zµ%]*)", strength)
    if not m:
        return strength.strip().lower()
    number = "/".join(_number(part) for part in m.group(1).split("/"))
    return f"{number} {m.group(2).lower()}".strip()


def _code(text: str) -> str | None:
    found = icd10.suggest(text)
    return found.code[:3] if found else None


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def _sentences_outside(note: str, heading: re.Pattern[str]) -> list[str]:
    """The note's sentences outside the sections whose heading matches ``heading`` and without its words."""
    out: list[str] = []
    inside = False
    for line in note.splitlines():
        if _SECTION_HEADING.match(line):
            inside = bool(heading.search(line))
            continue
        if not inside:
            out += [s for s in _sentences(line) if not heading.search(s)]
    return out


def _medication_sentences(note: str) -> list[str]:
    """The note's sentences outside its allergy section and allergy sentences (drugs named there are not taken)."""
    return _sentences_outside(note, _ALLERGY)


def reference_facts(note: str) -> RefFacts:
    """Drugs and diagnoses of a clinician's note, read as the draft's are."""
    ref = RefFacts()
    affirmed: set[str] = set()
    mentioned: set[str] = set()
    for sentence in _medication_sentences(note):
        mentions = extract_mentions(sentence)
        for n, mention in enumerate(mentions):
            med = mention.medication
            left = mentions[n - 1].end if n else 0
            right = mentions[n + 1].start if n + 1 < len(mentions) else len(sentence)
            # what the drafter does not count as a medication is not counted in the note either ("B12 level")
            if not med.verified or drug_context(sentence.lower(), mention.start, mention.end, left, right).skip:
                continue
            for name in components(med.name):
                item = ref.meds.setdefault(name, RefMed())
                if key := strength_key(med.strength):
                    item.strengths.add(key)
                if med.frequency:
                    item.frequencies.add(med.frequency.lower())
    assessment = _ASSESSMENT_START.search(note)
    # A note names conditions that are not the patient's too: a relative's, a risk ("risks include stroke").
    for sentence in _sentences_outside(note, _FAMILY):
        if _RISK.search(sentence):
            continue
        low = sentence.lower()
        for finding in find_findings(low, diagnosis_lexicon()):  # the drafter's negation scope, both ways
            mentioned.add(finding.name)
            if finding.present and mention_context(low, finding.start, finding.end, "doctor").patients:
                affirmed.add(finding.name)
    ref.denied = mentioned - affirmed
    for name in affirmed:
        ref.diagnoses.add(name)
        if code := _code(name):
            ref.codes.setdefault(code, name)
    if assessment:
        for line in note[assessment.end() :].splitlines():
            m = _HEADING.match(line)
            if not m or len(m.group(1).split()) > 8:
                continue
            code = _code(m.group(1))
            if code:
                ref.diagnoses.add(m.group(1).strip().lower())
                ref.codes.setdefault(code, m.group(1).strip().lower())
    return ref


def _heard(draft_ids: list[int], segments: list[Segment], words: list[str]) -> str:
    """The words of the cited segments around the first of ``words`` found there (the whole segment otherwise)."""
    texts = [s.text for s in segments if s.id in set(draft_ids)]
    for text in texts:
        for word in words:
            i = text.lower().find(word.lower())
            if i >= 0:
                return text[max(0, i - 60) : i + len(word) + 60].strip()
    return texts[0][:160] if texts else ""


def medication_verdict(med: Medication, ref: RefFacts) -> dict[str, Any]:
    """A draft medication judged against the note: supported, partly (a field the note does not give) or not."""
    names = components(med.name)
    found = [ref.meds[n] for n in names if n in ref.meds]
    strength = strength_key(med.strength)
    frequency = med.frequency.lower() if med.frequency else None
    item: dict[str, Any] = {
        "kind": "medication", "name": med.name, "strength": med.strength, "frequency": med.frequency,
        "status": med.status, "verified": med.verified,
    }  # fmt: skip
    if not found or not med.verified:
        item["verdict"] = "unsupported"
        return item
    dose_in_note = {s for r in found for s in r.strengths}
    frequency_in_note = {f for r in found for f in r.frequencies}
    item["dose"] = None if strength is None else ("supported" if strength in dose_in_note else
                                                  "other" if dose_in_note else "unstated")  # fmt: skip
    item["frequency_verdict"] = None if frequency is None else (
        "supported" if frequency in frequency_in_note else "other" if frequency_in_note else "unstated")  # fmt: skip
    partial = item["dose"] in {"other", "unstated"} or item["frequency_verdict"] in {"other", "unstated"}
    item["verdict"] = "partly" if partial else "supported"
    return item


def _words(name: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", name.lower()))


def diagnosis_verdict(dx: Diagnosis, ref: RefFacts) -> dict[str, Any]:
    """A draft diagnosis judged against the note: the same condition (name or ICD-10 category), a broader or
    narrower one ("diabetes" for the note's "type 2 diabetes": partly), one the note denies, or none."""
    item: dict[str, Any] = {"kind": "diagnosis", "name": dx.text, "certainty": dx.certainty}
    name = dx.text.lower()
    code = _code(name)
    if name in ref.diagnoses or (code is not None and code in ref.codes):
        item["verdict"] = "supported"
    elif any(_words(name) <= _words(r) or _words(r) <= _words(name) for r in ref.diagnoses):
        item["verdict"] = "partly"
    else:
        item["verdict"] = "denied in note" if name in ref.denied else "unsupported"
    return item


def reference_found(ref: RefFacts, draft: NoteContent) -> tuple[int, int, int, int]:
    """(drugs of the note, of them in the draft, diagnoses of the note, of them in the draft).

    A note diagnosis counts once per ICD-10 category (else once per name) and is found when the draft has the
    same name, category, or a broader or narrower name.
    """
    drafted = {n for m in draft.medications if m.verified for n in components(m.name)}
    meds_found = sum(1 for name in ref.meds if name in drafted)
    names = {d.text.lower() for d in draft.diagnoses}
    codes = {c for c in (_code(n) for n in names) if c}
    targets: list[tuple[str | None, set[str]]] = [(c, {w}) for c, w in ref.codes.items()]
    coded = set(ref.codes.values())
    targets += [(None, {n}) for n in ref.diagnoses if n not in coded and _code(n) is None]
    found = 0
    for code, words in targets:
        hit = code is not None and code in codes
        hit = hit or any(n in words or any(_words(n) <= _words(w) or _words(w) <= _words(n) for w in words)
                         for n in names)  # fmt: skip
        found += hit
    return len(ref.meds), meds_found, len(targets), found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``eval facts``."""
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--aci", type=Path, help="ACI-Bench CSV with `dialogue` and `note` columns")
    data.add_argument("--mts", type=Path, help="MTS-Dialog CSV (medication and diagnosis sections are scored)")
    parser.add_argument("--limit", type=int, default=None, help="score only the first N rows")
    parser.add_argument("--list", action="store_true", help="print every item with its verdict and source words")


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def score_row(segments: list[Segment], note: str, *, meds: bool = True, dx: bool = True) -> dict[str, Any]:
    """Items of one consultation's draft with their verdicts, and the note's facts the draft has."""
    draft = draft_note(segments)
    ref = reference_facts(note)
    items: list[dict[str, Any]] = []
    if meds:
        for med in draft.medications:
            item = medication_verdict(med, ref)
            item["heard"] = med.evidence.quote[:200]
            items.append(item)
    if dx:
        for diagnosis in draft.diagnoses:
            item = diagnosis_verdict(diagnosis, ref)
            synonyms = [s for s, c in diagnosis_lexicon().canonical.items() if c == diagnosis.text.lower()]
            item["heard"] = _heard(diagnosis.segment_ids, segments, synonyms)
            items.append(item)
    ref_meds, meds_found, ref_dx, dx_found = reference_found(ref, draft)
    return {
        "items": items,
        "ref_meds": ref_meds if meds else 0, "ref_meds_found": meds_found if meds else 0,
        "ref_dx": ref_dx if dx else 0, "ref_dx_found": dx_found if dx else 0,
    }  # fmt: skip


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Precision of medications, their doses and frequencies and of diagnoses; recall of the note's facts."""
    items = [i for r in rows for i in r["items"]]
    meds = [i for i in items if i["kind"] == "medication"]
    dxs = [i for i in items if i["kind"] == "diagnosis"]
    doses = [i["dose"] for i in meds if i.get("dose") in {"supported", "other"}]
    freqs = [i["frequency_verdict"] for i in meds if i.get("frequency_verdict") in {"supported", "other"}]
    ref_meds = sum(r["ref_meds"] for r in rows)
    ref_dx = sum(r["ref_dx"] for r in rows)
    return {
        "medications": len(meds),
        "medication_verdicts": dict(Counter(i["verdict"] for i in meds)),
        "medication_precision": _ratio(sum(i["verdict"] != "unsupported" for i in meds), len(meds)),
        "medication_strict_precision": _ratio(sum(i["verdict"] == "supported" for i in meds), len(meds)),
        # Of the drafted strengths of drugs the note names with a strength: the same strength.
        "dose_precision": _ratio(doses.count("supported"), len(doses)),
        "doses_not_in_note": sum(i.get("dose") == "unstated" for i in meds),
        "frequency_precision": _ratio(freqs.count("supported"), len(freqs)),
        "medication_recall": _ratio(sum(r["ref_meds_found"] for r in rows), ref_meds),
        "reference_medications": ref_meds,
        "diagnoses": len(dxs),
        "diagnosis_verdicts": dict(Counter(i["verdict"] for i in dxs)),
        "diagnosis_precision": _ratio(sum(i["verdict"] in {"supported", "partly"} for i in dxs), len(dxs)),
        "diagnosis_strict_precision": _ratio(sum(i["verdict"] == "supported" for i in dxs), len(dxs)),
        "diagnosis_recall": _ratio(sum(r["ref_dx_found"] for r in rows), ref_dx),
        "reference_diagnoses": ref_dx,
    }


def _print_items(index: int, items: list[dict[str, Any]]) -> None:
    for i in items:
        what = " ".join(str(i[k]) for k in ("name", "strength", "frequency") if i.get(k))
        extra = f" status={i['status']}" if i.get("status") else ""
        extra += f" dose={i['dose']}" if i.get("dose") else ""
        extra += f" certainty={i['certainty']}" if i.get("certainty") else ""
        print(f"row {index} {i['kind']:<10} {i['verdict']:<14} {what}{extra} <- {i['heard']!r}")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Draft every row, judge each medication and diagnosis against its note, print the figures."""
    mts = getattr(args, "mts", None)
    scored: list[dict[str, Any]] = []
    if mts is not None:
        rows = read_mts_rows(mts, None)
        rows = [r for r in rows if r["section"].strip().upper() in MTS_MEDICATION_SECTIONS | MTS_DIAGNOSIS_SECTIONS]
        rows = rows[: args.limit] if args.limit else rows
        for row in rows:
            section = row["section"].strip().upper()
            scored.append(score_row(mts_dialogue_to_segments(row["dialogue"]), row["note"],
                                    meds=section in MTS_MEDICATION_SECTIONS,
                                    dx=section in MTS_DIAGNOSIS_SECTIONS))  # fmt: skip
    else:
        rows = read_rows(args.aci, args.limit)
        scored = [score_row(dialogue_to_segments(r["dialogue"]), r["note"]) for r in rows]
    if getattr(args, "list", False):
        for index, row_scored in enumerate(scored):
            _print_items(index, row_scored["items"])
    result: dict[str, Any] = {"rows": len(rows), "file": (mts or args.aci).name}
    result.update(summarise(scored))
    result["items"] = [dict(i, row=n) for n, r in enumerate(scored) for i in r["items"]]
    return result
