"""Medicine classes as data: which classes a drug belongs to, and which classes a question asks about (pure).

The rows (generic -> WHO ATC codes and plain class names) are in ``backend/data/drug_classes.csv``; the classes
(label, ATC groups, the words that name them) in ``backend/data/drug_class_words.toml``. A medication name is
resolved to its ingredients through the same tables the parser uses (INN synonyms, the brand table), never by
fuzzy matching: a name the tables do not know has no class, and callers say so rather than guess.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import cache

from backend.domain.medications.lexicon import DATA_DIR, brand_key, brands, inn_names
from backend.domain.text import fold, name_tokens

# Salt and ester words a typed name may carry ("amlodipine besylate"): the class is the base drug's.
_SALTS = frozenset(
    [
        "sodium",
        "potassium",
        "calcium",
        "magnesium",
        "hydrochloride",
        "hcl",
        "tartrate",
        "succinate",
        "maleate",
        "mesylate",
        "besylate",
        "besilate",
        "fumarate",
        "hyclate",
        "citrate",
        "acetate",
        "phosphate",
        "propionate",
        "dipropionate",
        "furoate",
        "valerate",
        "bromide",
        "sulfate",
    ]
)

Words = tuple[str, ...]


@dataclass(frozen=True)
class DrugClass:
    """One class of ``drug_class_words.toml``."""

    id: str
    label: str
    atc: tuple[str, ...]
    words: tuple[Words, ...]
    cue_words: tuple[Words, ...]
    same_class: bool

    @property
    def atc_text(self) -> str:
        """The class's ATC groups for a sentence ("ATC C02, C03, C07"), or "" when it has none."""
        return f"ATC {', '.join(self.atc)}" if self.atc else ""


@dataclass(frozen=True)
class DrugRow:
    """One row of ``drug_classes.csv``."""

    generic: str
    atc: tuple[str, ...]
    classes: tuple[str, ...]


@dataclass(frozen=True)
class ClassMention:
    """A class named in a question, by which words, and whether it needs a medication word to count."""

    drug_class: DrugClass
    said: str
    needs_cue: bool


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _words(text: str) -> Words:
    return tuple(_singular(w) for w in name_tokens(text))


@cache
def class_table() -> dict[str, DrugClass]:
    """Every class by id, in the file's order (narrow same-class groups first)."""
    with open(DATA_DIR / "drug_class_words.toml", "rb") as f:
        data = tomllib.load(f)
    out: dict[str, DrugClass] = {}
    for c in data["class"]:
        out[c["id"]] = DrugClass(
            id=c["id"],
            label=c["label"],
            atc=tuple(c.get("atc", [])),
            words=tuple(_words(w) for w in c.get("words", [])),
            cue_words=tuple(_words(w) for w in c.get("cue_words", [])),
            same_class=bool(c.get("same_class", False)),
        )
    return out


@cache
def class_words() -> frozenset[str]:
    """Single words that name a medicine class by themselves ("statin", "steroid", "inhaler"), singular."""
    return frozenset(w[0] for c in class_table().values() for w in c.words if len(w) == 1)


def names_a_class(word: str) -> bool:
    """True when ``word`` ("statins", "Steroid") names a medicine class, not one medicine: what was said."""
    return _singular(fold(word)) in class_words()


@cache
def _medication_words() -> tuple[Words, ...]:
    with open(DATA_DIR / "drug_class_words.toml", "rb") as f:
        data = tomllib.load(f)
    return tuple(_words(w) for w in data["question"]["medication_words"])


@cache
def drug_table() -> dict[str, DrugRow]:
    """Every row of ``drug_classes.csv`` by generic name ('#' lines are the file's header comment)."""
    with open(DATA_DIR / "drug_classes.csv", newline="", encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    out: dict[str, DrugRow] = {}
    for row in csv.DictReader(lines):
        generic = row["generic"].strip().lower()
        out[generic] = DrugRow(
            generic=generic,
            atc=tuple((row["atc"] or "").split()),
            classes=tuple(c.strip() for c in (row["classes"] or "").split(";") if c.strip()),
        )
    return out


def _resolve(part: str) -> tuple[str, ...] | None:
    table = drug_table()
    if part in table:
        return (part,)
    if part in inn_names():
        return inn_names()[part]
    brand = brands().get(brand_key(part))
    if brand is not None:
        return brand.generics
    words = part.split()
    while len(words) > 1 and words[-1] in _SALTS:
        words = words[:-1]
        if " ".join(words) in table:
            return (" ".join(words),)
    return None


def ingredients(name: str) -> list[tuple[str, DrugRow | None]]:
    """The ingredients of a medication name, each with its row (None: not in the class table).

    "telmisartan + hydrochlorothiazide" -> two rows; "Telma-H" (a brand) -> the same two; "Xyzolin" -> one
    ingredient with no row.
    """
    out: list[tuple[str, DrugRow | None]] = []
    for raw in fold(name).split("+"):
        part = " ".join(raw.split())
        if not part:
            continue
        resolved = _resolve(part)
        if resolved is None:
            out.append((part, None))
            continue
        out.extend((g, drug_table().get(g)) for g in resolved)
    return out


def classes_of(name: str) -> tuple[str, ...]:
    """Class ids of a medication name (every ingredient's), in the class table's order; () when unknown."""
    have = {c for _, row in ingredients(name) if row for c in row.classes}
    return tuple(c for c in class_table() if c in have)


def is_classified(name: str) -> bool:
    """True when every ingredient of the name has a row (possibly with no class, like an ointment base)."""
    parts = ingredients(name)
    return bool(parts) and all(row is not None for _, row in parts)


def atc_in_class(name: str, class_id: str) -> tuple[str, ...]:
    """The ATC codes of the name's ingredients that place it in ``class_id`` (all codes of those ingredients
    when the class is given by use rather than by ATC group)."""
    prefixes = class_table()[class_id].atc
    codes: list[str] = []
    for _, row in ingredients(name):
        if row is None or class_id not in row.classes:
            continue
        hit = [a for a in row.atc if any(a.startswith(p) for p in prefixes)] or list(row.atc)
        codes.extend(a for a in hit if a not in codes)
    return tuple(codes)


@cache
def names_of_class(class_id: str) -> tuple[Words, ...]:
    """Every name the tables know for medicines of the class (generics, synonyms, unambiguous brands), as words.

    Used to find a class's medicine in free text (a note's plan, a document's text) that no medication list
    holds. Brands that are also English words ("Pan") are left out: in free text they are mostly the word.
    """
    members = {g for g, row in drug_table().items() if class_id in row.classes}
    names = set(members)
    names |= {n for n, inn in inn_names().items() if set(inn) & members}
    names |= {b.brand.lower() for b in brands().values() if not b.ambiguous and set(b.generics) & members}
    return tuple(sorted({_words(n) for n in names if name_tokens(n)}))


def class_named_in(text: str, class_id: str) -> str | None:
    """The first name of a medicine of the class found in free text ("Start Telma 40 today" -> "telma"), or None."""
    tokens = _words(text)
    found = [(span[0], " ".join(n)) for n in names_of_class(class_id) for span in _find(n, tokens)[:1]]
    return min(found)[1] if found else None


def _find(words: Words, tokens: Words) -> list[tuple[int, int]]:
    n = len(words)
    return [(i, i + n) for i in range(len(tokens) - n + 1) if tokens[i : i + n] == words] if n else []


@cache
def _multiword_drug_names() -> tuple[Words, ...]:
    # Drug names whose words include a class word ("folic acid", "vitamin b complex"): the question names the
    # drug, not the class. Single words are left alone ("insulin" is both).
    names = set(drug_table()) | set(inn_names())
    return tuple(w for w in (_words(n) for n in names) if len(w) > 1)


def classes_in_question(question: str) -> list[ClassMention]:
    """Every class a question's words name, in the order they are said.

    Longest words win: in "uric acid" the class is gout, not acid/stomach. A cue word ("BP", "sugar",
    "pain") gives ``needs_cue=True``: it asks about medicines only beside a medication word.
    """
    raw = name_tokens(question)
    tokens = tuple(_singular(w) for w in raw)
    masked: set[int] = set()
    for drug in _multiword_drug_names():
        for start, end in _find(drug, tokens):
            masked.update(range(start, end))
    hits: list[tuple[int, int, DrugClass, bool]] = []
    for c in class_table().values():
        for kind, terms in ((False, c.words), (True, c.cue_words)):
            for term in terms:
                for start, end in _find(term, tokens):
                    if not masked & set(range(start, end)):
                        hits.append((start, end, c, kind))
    hits.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
    kept: list[tuple[int, int, DrugClass, bool]] = []
    for h in hits:
        inside_other = any(
            k[0] <= h[0] and h[1] <= k[1] and k[2].id != h[2].id and k[1] - k[0] > h[1] - h[0] for k in kept
        )
        if not inside_other:
            kept.append(h)
    out: dict[str, ClassMention] = {}
    for start, end, c, needs_cue in sorted(kept, key=lambda h: h[0]):
        said = " ".join(raw[start:end])
        prev = out.get(c.id)
        if prev is None or (prev.needs_cue and not needs_cue):
            out[c.id] = ClassMention(c, said, needs_cue)
    return sorted(out.values(), key=lambda m: next(h[0] for h in kept if h[2].id == m.drug_class.id))


def has_medication_word(question: str) -> bool:
    """True when the question speaks of medicines ("medicine", "tablets", "taking", "on any" ...)."""
    tokens = _words(question)
    return any(_find(w, tokens) for w in _medication_words())


def asked_classes(question: str) -> list[DrugClass]:
    """The classes a question asks about: "BP medicine", "statins", "sugar tablets", "any blood thinner?".

    A class word counts alone; a condition or measurement word counts only with a medication word, so
    "What was her BP?" asks for a reading, not a medicine.
    """
    mentions = classes_in_question(question)
    cue = has_medication_word(question)
    return [m.drug_class for m in mentions if cue or not m.needs_cue]
