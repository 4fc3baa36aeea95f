"""A signed note -> the after-visit summary the patient takes home (pure: no I/O beyond the rule files).

Only facts of the signed note appear: the reason for the visit and the conditions named in the signed text,
the vital signs of the signed objective section, the medication table the clinician signed, and the
follow-up the signed plan states. What the note lacks is left out, never guessed: a frequency that names no
time of day ("once daily", "every 8 hours", "as needed") is shown in words, not put in a column. Warning signs
are general safety-net advice for a condition the note names, labelled as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta, tzinfo
from functools import cache

from backend.domain import clock_format
from backend.domain.drafting.render import tried_words
from backend.domain.drafting.rules import diagnoses as diagnosis_lexicon
from backend.domain.drafting.rules import negation_cues, phrase_regex, sections
from backend.domain.drafting.text import normalise, split_sentences
from backend.domain.drafting.vitals import find_vitals
from backend.domain.errors import ValidationFailed
from backend.domain.medications import fields as med_fields
from backend.domain.models import Medication, Note, NoteStatus
from backend.domain.text import fold
from backend.domain.visit_summary_lang import Language, rules

SLOTS = ("morning", "afternoon", "night")
_WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_SLOT_TEXT = re.compile(r"\s*(?:½|1/2|0?\.5|\d)(?:\s*[-–+]\s*(?:½|1/2|0?\.5|\d)){2,3}\s*")
_DURATION = re.compile(r"(\d+) (day|week|month|year)s?")
_TEMPERATURE_UNIT = re.compile(r"°|\b[cf]\b|celsius|fahrenheit|degrees?", re.IGNORECASE)


class DraftNotAllowed(ValidationFailed):
    """A visit summary is made from a signed note only."""


@dataclass(frozen=True)
class MedicineRow:
    """One medicine of the schedule table; ``slots`` maps morning/afternoon/night to the dose or the taken mark."""

    name: str
    as_written: str | None
    slots: dict[str, str]
    when: str | None  # a frequency that is not a time of day, in words
    food: str | None
    duration: str | None


@dataclass(frozen=True)
class VisitSummary:
    """Everything the patient's page shows, in the chosen language; ``notices`` are for the clinician only."""

    language: Language
    patient_name: str
    visit_date: str
    doctor: str | None
    reason: str | None
    conditions: list[str]
    measurements: list[tuple[str, str]]
    medicines: list[MedicineRow]
    stopped: list[str]
    warning_signs: list[str]
    follow_up: str | None
    follow_up_as_written: str | None
    notices: list[str] = field(default_factory=list)


def _sentences(text: str) -> list[str]:
    return [text[a:b].strip() for a, b in split_sentences(text or "") if text[a:b].strip()]


def format_date(day: date, lang: Language) -> str:
    """A date in the language's words ("12 March 2025", "12 मार्च 2025")."""
    meta = lang.data["meta"]
    return str(meta["date"]).format(day=day.day, month=meta["months"][day.month - 1], year=day.year)


# --- medicines ------------------------------------------------------------------------------------------------


def frequency_words(frequency: str, lang: Language) -> str:
    """A canonical frequency in the patient's words; numbers and times are kept, unknown text stays as written."""
    table = lang.table("frequency")
    if frequency in table:
        return str(table[frequency])
    if frequency.endswith(" as needed"):
        base = frequency.removesuffix(" as needed")
        return str(table["{schedule} as needed"]).format(schedule=frequency_words(base, lang))
    for pattern, key, slot in (
        (r"every (\d+) hours", "every {n} hours", "n"),
        (r"every (\d+) minutes", "every {n} minutes", "n"),
        (r"once daily at (.+)", "once daily at {t}", "t"),
    ):
        m = re.fullmatch(pattern, frequency)
        if m:
            return str(table[key]).format(**{slot: m.group(1)})
    return frequency


def _written_slots(med: Medication) -> list[str] | None:
    """The per-slot doses when the medicine was written "1-0-1"-style and still has that frequency."""
    found = med_fields.frequency(med.verbatim or "")
    if found is None or found.value != med.frequency:
        return None  # edited since, or not a slot pattern: the canonical frequency decides
    span = (med.verbatim or "")[found.start : found.end]
    if not _SLOT_TEXT.fullmatch(span):
        return None
    parts = [p.strip() for p in re.split(r"\s*[-–+]\s*", span.strip())]
    if len(parts) == 4:  # morning-noon-night-bedtime: bedtime is the night column unless both are taken
        if _taken(parts[2]) and _taken(parts[3]):
            return None
        parts = [parts[0], parts[1], parts[2] if _taken(parts[2]) else parts[3]]
    return parts


def _taken(part: str) -> bool:
    return part not in {"0", ""}


def schedule(med: Medication, lang: Language) -> tuple[dict[str, str], str | None]:
    """(slot -> what to take, words for a frequency that is not a time of day); both empty without a frequency."""
    if not med.frequency:
        return {}, None
    written = _written_slots(med)
    if written is not None:
        return {
            s: ("½" if p in {"1/2", ".5", "0.5"} else p) for s, p in zip(SLOTS, written, strict=True) if _taken(p)
        }, None
    slots = rules()["schedule"].get(med.frequency)
    if slots:
        mark = lang.label("taken")
        return dict.fromkeys(slots, mark), None
    return {}, frequency_words(med.frequency, lang)


def _food(instructions: str | None, lang: Language) -> str | None:
    if not instructions:
        return None
    table = lang.table("instructions")
    return "; ".join(str(table.get(p.strip(), p.strip())) for p in instructions.split(";") if p.strip())


def duration_words(text: str | None, lang: Language) -> str | None:
    """ "5 days" -> "5 days" / "5 दिन"; a duration in another form stays as written."""
    if not text:
        return None
    m = _DURATION.fullmatch(text.strip().lower())
    if not m:
        return text
    one, many = lang.table("duration")[m.group(2)]
    return str(one if m.group(1) == "1" else many).format(n=m.group(1))


def _medicine_name(med: Medication) -> tuple[str, str | None]:
    name = " ".join(x for x in (med.name, med.strength, med.form) if x)
    verbatim = (med.verbatim or "").strip()
    shown = verbatim if verbatim and fold(verbatim) not in fold(name) and len(verbatim) <= 40 else None
    return name, shown


def _medicines(meds: list[Medication], lang: Language) -> tuple[list[MedicineRow], list[str], list[str]]:
    rows: list[MedicineRow] = []
    stopped: list[str] = []
    notices: list[str] = []
    for med in meds:
        if not med.name.strip() or med.status == "declined" or tried_words(med) is not None:
            # declined (refused, not taken, to avoid) or tried earlier without help: the patient's sheet never tells
            # them to take it, nor to stop a medicine they do not take; the clinician's note keeps it with the reason
            continue
        name, as_written = _medicine_name(med)
        if med.found_by == "sounds_like" and not med.verified:
            notices.append(lang.notice("unconfirmed", name=med.name))
        elif not med.verified:
            notices.append(lang.notice("unverified", name=med.name))
        if med.status == "stopped":
            stopped.append(name)
            continue
        slots, when = schedule(med, lang)
        rows.append(
            MedicineRow(
                name, as_written, slots, when, _food(med.instructions, lang), duration_words(med.duration, lang)
            )
        )
    return rows, stopped, notices


# --- conditions, reason, measurements, follow-up --------------------------------------------------------------


@cache
def _condition_terms() -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex over the summary's condition terms and the drafter's condition lexicon; term -> warning key."""
    warn: dict[str, str] = {}
    for spec in rules()["conditions"].values():
        for term in spec["terms"]:
            warn[term.lower()] = spec["warn"]
    terms = set(warn) | set(diagnosis_lexicon().canonical)
    return phrase_regex(sorted(terms)), warn


@cache
def _uncertain() -> re.Pattern[str]:
    return phrase_regex(list(sections()["diagnosis_certainty"]["uncertain"]))


def _named_conditions(text: str) -> list[tuple[str, bool]]:
    """(term as written, possible?) of every condition named and not negated in ``text``, in order, once each."""
    regex, _ = _condition_terms()
    negated = negation_cues()["pre"]
    out: dict[str, bool] = {}
    for sentence in _sentences(text):
        for m in regex.finditer(sentence):
            before = sentence[max(0, m.start() - 40) : m.start()]
            if negated.search(before[-30:]):
                continue
            possible = bool(_uncertain().search(before)) or sentence.rstrip().endswith("?")
            key = m.group(0)
            out[key] = out.get(key, True) and possible
    return list(out.items())


def _plain_condition(term: str, lang: Language) -> str:
    names = lang.table("condition_names")
    low = term.lower()
    canonical = diagnosis_lexicon().canonical.get(low, low)
    return str(names.get(low) or names.get(canonical) or term)


def _complaint(note: Note) -> str | None:
    """The chief complaint as the note wrote it, when the signed text carries it (the signer saw it)."""
    text = note.chief_complaint.text if note.chief_complaint else ""
    if not text.strip():
        return None
    text = " ".join(text.split())
    if fold(text) not in fold(" ".join(note.sections.values())):
        return None  # only in the draft's working data, never in the text that was signed: leave it out
    return text


def _reason_words(text: str, lang: Language) -> str:
    plain = lang.table("condition_names").get(text.lower())
    return str(plain) if plain else text[0].upper() + text[1:]


def _measurements(note: Note, lang: Language) -> list[tuple[str, str]]:
    labels = lang.table("vitals")
    out: list[tuple[str, str]] = []
    for sentence in _sentences(note.sections.get("objective", "")):
        for v in find_vitals(normalise(sentence)):
            if not v.plausible or v.kind not in labels:
                continue  # an implausible reading is for the clinician to check, not for the patient's page
            unit = v.unit if v.kind != "temperature" or _TEMPERATURE_UNIT.search(sentence) else ""
            item = (str(labels[v.kind]), f"{v.value} {unit}".strip().replace(" %", "%"))
            if item not in out:
                out.append(item)
    return out


def _add(day: date, n: int, unit: str) -> date:
    if unit == "day":
        return day + timedelta(days=n)
    if unit == "week":
        return day + timedelta(weeks=n)
    months = day.month - 1 + n * (12 if unit == "year" else 1)
    year, month = day.year + months // 12, months % 12 + 1
    for d in (day.day, 30, 29, 28):  # 31 January + 1 month -> the last day of February
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _follow_up(note: Note, visit: date, lang: Language) -> tuple[str | None, str | None]:
    patterns = [re.compile(p, re.IGNORECASE) for p in rules()["follow_up"]["patterns"]]
    words = lang.table("follow_up")
    order = ["plan", *(s for s in note.sections if s != "plan")]
    for name in order:
        for sentence in _sentences(note.sections.get(name, "")):
            for pattern in patterns:
                m = pattern.search(sentence)
                if not m:
                    continue
                groups = m.groupdict()
                if groups.get("n"):
                    raw = groups["n"].lower()
                    n = int(raw) if raw.isdigit() else _WORD_NUMBERS[raw]
                    unit = groups["unit"].lower().rstrip("s")
                    when = duration_words(f"{n} {unit}{'' if n == 1 else 's'}", lang) or ""
                    text = str(words["in"]).format(when=when, date=format_date(_add(visit, n, unit), lang))
                else:
                    phrase = groups["phrase"].lower()
                    text = str(words[phrase]).format(date=format_date(visit + timedelta(days=1), lang))
                return text, sentence
    return None, None


def _warning_signs(terms: list[str], lang: Language) -> list[str]:
    _, warn = _condition_terms()
    signs = lang.table("warning_signs")
    keys: list[str] = []
    for term in terms:
        key = warn.get(term.lower())
        if key and key not in keys:
            keys.append(key)
    out: list[str] = []
    for key in keys:
        out.extend(str(s) for s in signs.get(key, []) if str(s) not in out)
    return out


def build_summary(
    note: Note, patient_name: str, lang: Language, doctor: str | None = None, tz: tzinfo = UTC
) -> VisitSummary:
    """The after-visit summary of one signed note.

    Args:
        note: a signed note.
        patient_name: the patient's name as registered.
        lang: the words to use (``visit_summary_lang.choose``).
        doctor: who signed, as the patient knows them (default: the signer's user name).
        tz: the clinic's zone: the visit's day is its calendar day there.

    Raises:
        DraftNotAllowed: the note is a draft.
    """
    if note.status is not NoteStatus.SIGNED:
        raise DraftNotAllowed("This note is a draft. Sign it first: a patient summary is made from signed notes only.")
    visit = clock_format.day(note.timestamp, tz)
    named = _named_conditions(note.sections.get("assessment", ""))
    conditions: list[str] = []
    for term, possible in named:
        shown = _plain_condition(term, lang) + (f" {lang.label('possible')}" if possible else "")
        if shown not in conditions:
            conditions.append(shown)
    complaint = _complaint(note)
    complaint_terms = [t for t, _ in _named_conditions(complaint)] if complaint else []
    medicines, stopped, notices = _medicines(note.medications, lang)
    follow_up, as_written = _follow_up(note, visit, lang)
    return VisitSummary(
        language=lang,
        patient_name=patient_name,
        visit_date=format_date(visit, lang),
        doctor=doctor or note.signer,
        reason=_reason_words(complaint, lang) if complaint else None,
        conditions=conditions,
        measurements=_measurements(note, lang),
        medicines=medicines,
        stopped=stopped,
        warning_signs=_warning_signs([t for t, _ in named] + complaint_terms, lang),
        follow_up=follow_up,
        follow_up_as_written=as_written,
        notices=notices,
    )


def medicine_table(summary: VisitSummary) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the schedule table, shared by the HTML and PDF pages; empty columns are left out."""
    lang = summary.language
    rows = summary.medicines
    optional = [
        ("when", lambda m: m.when),
        ("food", lambda m: m.food),
        ("duration", lambda m: m.duration),
    ]
    shown = [(key, get) for key, get in optional if any(get(m) for m in rows)]
    header = [lang.label("medicine"), *(lang.label(s) for s in SLOTS), *(lang.label(k) for k, _ in shown)]
    body = [
        [
            m.name + (f"\n({m.as_written})" if m.as_written else ""),
            *(m.slots.get(s, "") for s in SLOTS),
            *((get(m) or "") for _, get in shown),
        ]
        for m in rows
    ]
    return header, body
