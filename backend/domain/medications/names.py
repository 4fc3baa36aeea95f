"""Drug-name lookup: brand table, INN table, then the drug dictionary (exact only).

Order of trust: the curated brand table (Indian brands and combinations) first, then the
INN/synonym table, then the dictionary. Dictionary canonical names are US-style and are
shown as INN names (paracetamol, salbutamol) through ``inn_names.csv``.

Corrections are narrow on purpose, because a wrong drug is worse than an unverified one:
- OCR digit repair ("Metf0rmin" -> metformin, "Dol0" -> Dolo) when the repaired word is known;
- a near miss only for a single word of >= 6 letters at edit distance 1 from exactly one
  known drug with the same first letter. Anything else stays verbatim and unverified.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from backend.domain.medications import dictionary
from backend.domain.medications.lexicon import brand_key, brands, inn_names, stoplist, vocab

MIN_FUZZY_LENGTH = 6
MIN_SIMILARITY = 0.8
_OCR_DIGITS = {"0": ("o",), "1": ("l", "i"), "5": ("s",), "8": ("b",), "|": ("l",)}
_SALTS = frozenset(
    {"hydrochloride", "hcl", "tartrate", "succinate", "maleate", "mesylate", "besylate", "fumarate", "hyclate"}
)
_SPLIT_COMBO = re.compile(r"\s*(?:/|,\s*and\s+|\s+and\s+|,\s*|\s+\+\s+)\s*")


@dataclass(frozen=True)
class DrugMatch:
    """A recognised drug name.

    Attributes:
        generic: INN/generic display name; combinations joined with " + ".
        components: the generic names of the ingredients, in label order.
        source: "brand" (curated table), "inn" (INN/synonym table) or "dictionary".
        corrected_from: the spelling that was read when the name was corrected, else None.
        bare_unit: unit implied by a bare number after the name ("Dolo 650" -> mg), if any.
        ambiguous: the name is also an ordinary English word (e.g. the brand "Pan").
    """

    generic: str
    components: tuple[str, ...]
    source: str
    corrected_from: str | None = None
    bare_unit: str | None = None
    ambiguous: bool = False
    drugbank_ids: tuple[str, ...] = field(default=(), compare=False)


def _base(name: str) -> str:
    """``name`` without an organic salt suffix ("tolterodine tartrate" -> "tolterodine")."""
    words = name.split()
    return " ".join(words[:-1]) if len(words) > 1 and words[-1] in _SALTS else name


def _to_inn(name: str) -> tuple[str, ...]:
    """INN components of one dictionary canonical name (splits combinations, drops salt suffixes)."""
    table = inn_names()
    name = _base(name)
    if name in table:
        return table[name]
    parts = [p for p in _SPLIT_COMBO.split(name) if p]
    if len(parts) == 1:
        return (name,)
    out: list[str] = []
    for part in parts:
        out.extend(table.get(_base(part), (_base(part),)))
    return tuple(out)


def _bare_unit(components: tuple[str, ...]) -> str:
    units = vocab().get("bare_units", {})
    return str(units.get(components[0], "mg")) if len(components) == 1 else "mg"


def _make(components: tuple[str, ...], source: str, **extra: object) -> DrugMatch:
    return DrugMatch(generic=" + ".join(components), components=components, source=source, **extra)  # type: ignore[arg-type]


def exact_lookup(text: str) -> DrugMatch | None:
    """Exact lookup of a name (one or more words) in the brand, INN and drug dictionary tables."""
    norm = " ".join(text.lower().strip(string.punctuation + " ").split())
    if norm.endswith("'s"):
        norm = norm[:-2]
    if len(norm) < 3 or norm in stoplist() or not re.search(r"[a-z]", norm):
        return None
    brand = brands().get(brand_key(norm))
    if brand is not None:
        return _make(brand.generics, "brand", bare_unit=brand.bare_unit, ambiguous=brand.ambiguous)
    inn = inn_names().get(norm)
    if inn is not None:
        return _make(inn, "inn", bare_unit=_bare_unit(inn))
    found = dictionary.canonicals(norm)
    if not found:
        return None
    components = _to_inn(found[0])
    ids = tuple(i for i in (dictionary.drugbank_id(c) for c in found) if i)
    return _make(components, "dictionary", bare_unit=_bare_unit(components), drugbank_ids=ids)


def _ocr_repairs(token: str) -> list[str]:
    """Spellings of ``token`` with OCR digit confusions inside a word undone (letters on the left)."""
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9|]*[A-Za-z0-9|]", token) or not re.search(r"[0-9|]", token):
        return []
    if re.fullmatch(r"[A-Za-z]+\d{2,}", token):  # "Telma40": a strength glued on, not OCR noise
        return []
    variants = [""]
    for ch in token:
        options = _OCR_DIGITS.get(ch, (ch,))
        variants = [v + o for v in variants for o in options][:16]
    return [v for v in variants if v != token]


def _edits1(word: str) -> set[str]:
    letters = string.ascii_lowercase
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in letters]
    inserts = [a + c + b for a, b in splits for c in letters]
    return set(deletes + transposes + replaces + inserts)


def near_miss(token: str) -> DrugMatch | None:
    """A correction of a misspelt single word, only when it is unambiguous and very close."""
    word = token.lower()
    if len(word) < MIN_FUZZY_LENGTH or not word.isalpha() or word in stoplist():
        return None
    hits: dict[tuple[str, ...], str] = {}
    for candidate in _edits1(word):
        if candidate[0] != word[0] or len(candidate) < MIN_FUZZY_LENGTH:
            continue
        if SequenceMatcher(None, word, candidate).ratio() < MIN_SIMILARITY:
            continue
        match = exact_lookup(candidate)
        if match is not None:
            hits.setdefault(match.components, candidate)
    if len(hits) != 1:  # none, or two different drugs within one edit: do not guess
        return None
    match = exact_lookup(next(iter(hits.values())))
    if match is None:
        return None
    return _make(match.components, match.source, corrected_from=token, bare_unit=match.bare_unit)


def lookup_name(token: str, *, correct: bool = True) -> DrugMatch | None:
    """Recognise a drug name: brand table, INN table, then the dictionary (exact).

    Args:
        token: a name as written ("Dolo", "Pan-D", "acetaminophen", "Metf0rmin").
        correct: also try OCR digit repair and the single-edit near-miss rule.

    Returns:
        The match (``corrected_from`` set when the spelling was corrected), or None when unknown.
    """
    match = exact_lookup(token)
    if match is not None or not correct:
        return match
    stripped = token.strip(string.punctuation.replace("|", "") + " ")
    for repaired in _ocr_repairs(stripped):
        match = exact_lookup(repaired)
        if match is not None:
            return _make(match.components, match.source, corrected_from=stripped, bare_unit=match.bare_unit)
    return near_miss(stripped)
