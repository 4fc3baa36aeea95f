"""Read who a document is for and when it was written from its text (OCR or a PDF's text layer).

A header names its patient in many ways — "Name: Kavita Joshi  Age: 52 F", "Pt: Mr. R. Kumar 45/M",
"Patient Name - Sita Devi", "Patient: John A. Smith  DOB: 04/12/1961  MRN: 00123456" — and carries a
printed date beside other dates (a follow-up, a birth date). Each line is cut at the labels it holds
(cue words as data); a label's value is the text up to the next label. Phones and IDs count only in the
patient's block (from the patient line until the prescription starts): a letterhead's phone or a doctor's
registration number is not the patient's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from backend.domain.document_identity.cues import cues
from backend.domain.document_identity.dates import FoundDate, find_dates, swapped
from backend.domain.errors import ValidationFailed
from backend.domain.patients import normalise_phone

_SEPARATOR = re.compile(r"\s*(?:[:\-–—=|;]+|\.(?!\d))\s*")
# A name ends at a number (an age) but not at a digit inside a word ("Josh1": OCR for "Joshi").
_NAME_STOP = re.compile(r"(?<![^\W\d_])\d|[,|()\[\]{}:;]|\s{3,}|\t")
_NAME_CHARS = re.compile(r"^[^\W\d_][\w.'’\- ]*$")
_AGE = re.compile(r"(?<![\d/.])(\d{1,3})(?:\s*([a-z/]+(?: old)?))?", re.IGNORECASE)
_AGE_SEX = re.compile(
    r"(?<![\w/])(\d{1,3})\s*(y|yrs?|years?|m|mo|mths?|months?|d|days?)?\s*[/,\- ]\s*([a-z]+)\b"
    r"|(?<![\w/])([a-z]+)\s*[/,]\s*(\d{1,3})\s*(y|yrs?|years?)?\b"
    r"|(?<![\w/])(\d{1,3})\s*(y|yrs?)?\s*([mf])\b",
    re.IGNORECASE,
)
_PHONE = re.compile(r"\+?\d[\d\s\-()]{6,18}\d")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/]{2,30}")
_TITLE_AHEAD = re.compile(r"\s*([A-Za-z/]+)\.?\s")
DateKind = str  # "printed" | "unlabelled" | "follow_up" | "birth" | "future"


@dataclass(frozen=True)
class DocumentDate:
    """A date on the document: its day, the text it was read from and what kind of date it is."""

    day: date
    text: str  # the line it is on, trimmed
    kind: DateKind
    ambiguous: bool = False  # day and month could be exchanged (both 12 or less)


@dataclass(frozen=True)
class DocumentIdentity:
    """What a document says about its patient and its date (None: not stated)."""

    name: str | None = None
    age: int | None = None  # years (an infant's months or days: 0)
    sex: str | None = None  # female | male | other
    phone: str | None = None  # E.164 when it is a valid number, else as written
    patient_ref: str | None = None  # an ID / UHID / MRN as written
    dob: date | None = None
    date: DocumentDate | None = None  # the document's own date (proposed to the clinician)
    other_dates: tuple[DocumentDate, ...] = field(default_factory=tuple)

    @property
    def stated(self) -> bool:
        return any(v is not None for v in (self.name, self.age, self.sex, self.phone, self.patient_ref, self.dob))


@dataclass
class _Labelled:
    field: str
    start: int
    end: int  # end of label and separator
    value: str = ""


def _labels_in(line: str) -> list[_Labelled]:
    """Non-overlapping labels of ``line``, longest first where two start together."""
    c = cues()
    hits: list[_Labelled] = []
    for name, pattern in c.labels.items():
        for m in pattern.finditer(line):
            sep = _SEPARATOR.match(line, m.end())
            end = sep.end() if sep else m.end()
            if name == "name" and not _name_label_ok(line, m, sep is not None and sep.group(0).strip() != ""):
                continue
            hits.append(_Labelled(name, m.start(), end))
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    chosen: list[_Labelled] = []
    for h in hits:
        if chosen and h.start < chosen[-1].end:
            continue
        chosen.append(h)
    for i, h in enumerate(chosen):
        stop = chosen[i + 1].start if i + 1 < len(chosen) else len(line)
        h.value = line[h.end : stop].strip()
    return chosen


def _name_label_ok(line: str, m: re.Match[str], has_separator: bool) -> bool:
    """A generic word ("patient", "name") is a label only with a separator or a title after it."""
    c = cues()
    label = " ".join(re.findall(r"[a-z']+", m.group(0).lower()))
    if has_separator or label in c.plain_name:
        return True
    ahead = _TITLE_AHEAD.match(line, m.end())
    return bool(ahead and ahead.group(1).lower() in c.titles)


def _clean_name(value: str) -> tuple[str | None, str]:
    """The name at the start of ``value`` and the rest (which may hold "45/M")."""
    c = cues()
    relation = c.relations.search(value)
    head = value[: relation.start()] if relation else value
    stop = _NAME_STOP.search(head)
    name, rest = (head[: stop.start()], value[stop.start() :]) if stop else (head, value[len(head) :])
    name = name.strip(" .-–—'")
    # A trailing sex letter ("Kavita Joshi F") belongs to the rest.
    tail = re.search(r"\s([MFmf])$", name)
    if tail:
        name, rest = name[: tail.start()].strip(), tail.group(1) + " " + rest
    if not name or not _NAME_CHARS.match(name) or sum(ch.isalpha() for ch in name) < 2 or len(name.split()) > 6:
        return None, value
    return name, rest


def _sex_word(word: str | None) -> str | None:
    return cues().sexes.get(word.lower().strip(".")) if word else None


def _age_value(number: str, unit: str | None) -> int | None:
    value = int(number)
    kind = cues().age_units.get((unit or "").lower().strip("."), "years")
    if kind != "years":
        return 0
    return value if value <= 120 else None


def _read_age_sex(text: str, bare_number: bool = True) -> tuple[int | None, str | None]:
    """ "45/M", "45 yrs / Female", "M/45", "52 F", "52Y F"; a bare "52" only when ``bare_number``."""
    for m in _AGE_SEX.finditer(text):
        if m.group(1):
            sex = _sex_word(m.group(3))
            if sex is None:
                if m.group(3).lower() not in cues().age_units:
                    continue
                return _age_value(m.group(1), m.group(3)), None  # "8 months": the word is the unit
            return _age_value(m.group(1), m.group(2)), sex
        if m.group(4) and _sex_word(m.group(4)):
            return _age_value(m.group(5), m.group(6)), _sex_word(m.group(4))
        if m.group(7):
            return _age_value(m.group(7), m.group(8)), _sex_word(m.group(9))
    m2 = _AGE.search(text)
    if m2 and (bare_number or (m2.group(2) or "").lower() in cues().age_units):
        unit = m2.group(2)
        sex = _sex_word(unit)
        return _age_value(m2.group(1), None if sex else unit), sex
    return None, None


def _read_phone(value: str, region: str) -> str | None:
    m = _PHONE.search(value)
    if not m:
        return None
    try:
        return normalise_phone(m.group(0), region)
    except ValidationFailed:
        return None  # a fax or a clinic extension that is not a phone number of this region


def _read_ref(value: str) -> str | None:
    m = _ID.search(value)
    return m.group(0).strip("-/") if m and any(ch.isdigit() for ch in m.group(0)) else None


class _Reader:
    def __init__(self, region: str, today: date) -> None:
        self.region = region
        self.today = today
        self.month_first = region.upper() in cues().month_first_regions
        self.values: dict[str, object] = {}
        self.dates: list[DocumentDate] = []

    def keep(self, key: str, value: object) -> None:
        if value is not None and key not in self.values:
            self.values[key] = value

    def dates_of(self, text: str, line: str, kind: DateKind) -> list[FoundDate]:
        found = find_dates(text, self.today, self.month_first)
        for f in found:
            day, what = f.day, kind
            if kind in ("printed", "unlabelled") and day > self.today:
                other = swapped(f)
                if other is not None and other <= self.today:
                    day = other  # the region's order gives a future date: the other order is the one
                else:
                    what = "future"
            self.dates.append(DocumentDate(day, " ".join(line.split())[:120], what, f.ambiguous))
        return found

    def read_line(self, line: str, in_block: bool) -> None:
        labels = _labels_in(line)
        first = labels[0].start if labels else len(line)
        if line[:first].strip():
            self.dates_of(line[:first], line, "unlabelled")
        for h in labels:
            self.read_label(h, line, in_block or h.field == "name")

    def read_label(self, h: _Labelled, line: str, in_block: bool) -> None:
        if h.field == "name":
            name, rest = _clean_name(h.value)
            self.keep("name", name)
            age, sex = _read_age_sex(rest, bare_number=False) if rest.strip() else (None, None)
            if sex is None and rest.split():
                sex = _sex_word(rest.split()[0])  # "Anita Desai  F"
            self.keep("age", age)
            self.keep("sex", sex)
        elif h.field in ("age_sex", "age"):
            age, sex = _read_age_sex(h.value)
            self.keep("age", age)
            self.keep("sex", sex)
        elif h.field == "sex":
            self.keep("sex", _sex_word(h.value.split()[0]) if h.value.split() else None)
        elif h.field == "dob":
            found = self.dates_of(h.value, line, "birth")
            self.keep("dob", found[0].day if found else None)
        elif h.field == "phone" and in_block:
            self.keep("phone", _read_phone(h.value, self.region))
        elif h.field == "id" and in_block:
            self.keep("patient_ref", _read_ref(h.value))
        elif h.field == "date":
            self.dates_of(h.value, line, "printed")
        elif h.field == "follow_up":
            self.dates_of(h.value, line, "follow_up")


def _patient_block(lines: list[str]) -> tuple[int, int]:
    """Lines from the first patient line until the prescription part starts (at most 6 lines)."""
    c = cues()
    start = next(
        (i for i, line in enumerate(lines) if any(h.field in ("name", "age_sex") for h in _labels_in(line))), None
    )
    if start is None:
        return 0, 0
    end = start + 1
    while end < min(len(lines), start + 6) and not c.section_start.match(lines[end]):
        end += 1
    return start, end


def read_identity(text: str, region: str = "IN", today: date | None = None) -> DocumentIdentity:
    """What the document says about its patient and date.

    Args:
        text: the document's text, one line per printed line.
        region: the clinic's region (ISO 3166 code): phone numbers without a country code are read in it,
            and numeric dates are read month first in regions that write them so (the US).
        today: the reference day (future dates are not the document's date; two-digit years).

    Returns:
        A :class:`DocumentIdentity`; fields the document does not state are None.
    """
    today = today or date.today()
    lines = [line for line in text.splitlines() if line.strip()]
    block_start, block_end = _patient_block(lines)
    reader = _Reader(region, today)
    header_end = max(block_end, min(len(lines), cues().header_lines))
    for i, line in enumerate(lines):
        in_block = block_start <= i < block_end
        if i < header_end or in_block:
            reader.read_line(line, in_block)
        else:
            # Below the header only labelled dates count (a follow-up date in the advice).
            for h in _labels_in(line):
                if h.field in ("date", "follow_up"):
                    reader.read_label(h, line, False)
    return _identity(reader)


def _identity(reader: _Reader) -> DocumentIdentity:
    v = reader.values
    printed = [d for d in reader.dates if d.kind == "printed"]
    unlabelled = [d for d in reader.dates if d.kind == "unlabelled"]
    candidates = printed or unlabelled
    own = candidates[0] if candidates else None
    others = tuple(d for d in reader.dates if d is not own and d.day != (own.day if own else None))
    return DocumentIdentity(
        name=v.get("name"),  # type: ignore[arg-type]
        age=v.get("age"),  # type: ignore[arg-type]
        sex=v.get("sex"),  # type: ignore[arg-type]
        phone=v.get("phone"),  # type: ignore[arg-type]
        patient_ref=v.get("patient_ref"),  # type: ignore[arg-type]
        dob=v.get("dob"),  # type: ignore[arg-type]
        date=own,
        other_dates=others,
    )
