"""Drug names that speech recognition split into ordinary words ("list in April" -> lisinopril?).

Recovered names are hints for drafting, never silent replacements: the transcript keeps what was heard, and a
medication found through a recovered name is unverified, with ``heard_as`` naming the words.

How a name is recovered: every run of 1-4 words of a turn is compared with a reviewed list of primary-care drug
names (``backend/data/recovery_drugs.txt``) by how it sounds (a Metaphone key of the words joined) and how it is
spelt (letters joined, each sound spelt one way: "keraphate" and Carafate both "k?rafate"), by normalised edit
distances (Levenshtein on the keys, insertions/deletions on the letters, which forgive a split "fur oh semide" more
than a wrong letter); the score is their mean. A run is taken only when

- the words around it say "medication" (a strength, "refill", "twice a day" ...: ``recovery_cues.toml``), the
  few words just before it say a name comes next ("you are on", "put you on the"), or it follows a drug name in
  a list ("some Naprosyn, and some flexural");
- none of its words is already a drug name, a number, or an ordinary phrase listed as never replaced;
- a single English word is taken only right after a slot phrase and when it sounds all but the same as a brand
  ("try some singular": Singulair; "alive" is never Aleve), and a run of several words sounds like a long name
  (short names are too easy to hit by chance);
- one drug wins clearly: two different drugs that fit about as well are not guessed between.

A drug name right before a bare unit of time ("Lasix months ago", said "like six months ago") swallowed a
number, and a name taken back for another ("penicillin or, I'm sorry, amoxicillin") was a slip: neither is
drafted (the drafter reads "(unclear)" there; the transcript keeps what was heard).

A dictation word Whisper glued to the name after it ("hey dragon, orderlisinopril") is split off first
(``recovery_cues.toml`` ``[glued]``): the name alone is the heard words, written in with a space.
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import jellyfish
from rapidfuzz.distance import Indel, Levenshtein
from rapidfuzz.process import cdist

from backend.domain.medications.lexicon import DATA_DIR
from backend.domain.medications.names import exact_lookup
from backend.domain.medications.parser import find_names
from backend.domain.models import Segment

MAX_WORDS = 4
_LIST_JOINERS = frozenset({"and", "or", "plus", "also"})  # words that join the names of a list
SLOT_WORDS = 4  # words before the heard ones searched for a slot phrase ("put you on the")
MIN_LETTERS = 5  # fewer letters than this (as sounded) sound like too many things
MIN_SINGLE_SCORE = 0.80  # one unknown word ("lysinoprol", "digaxin", "lassox")
MIN_MULTI_SCORE = 0.85  # several words ("list in April"): ordinary words, so a stricter bar
# One English word ("singular" for Singulair) only right after a slot phrase and only when it sounds all but the
# same: of 160 k English words, those this close to a listed brand are mostly rare ("prosaic", "divan", "lyric").
MIN_ENGLISH_SCORE = 0.95
MIN_MULTI_LETTERS = 0.80  # ... and their letters, not only their sound, must spell it ("trace to one" is not trazodone)
MIN_MULTI_DRUG_LETTERS = 7  # names split into several words are long; short ones match word runs by chance
MIN_KEY_SIMILARITY = 0.70
CLEAR_MARGIN = 0.03  # the best drug must beat the next different drug by this much
MAX_LENGTH_RATIO = 1.35  # of the lengths as sounded
# A single heard word that ends this many different drugs about equally ("metasone": mometasone, betamethasone,
# dexamethasone) is the tail of a name whose start was heard as another word: which drug it was is not known.
MIN_TAIL_SIMILARITY = 0.85
MAX_TAIL_DRUGS = 2
# A bare unit of time right after a drug name, no number between: the name swallowed the number.
_BARE_TIME = re.compile(r"[\s,]*(?:days|weeks|months|years)\b", re.IGNORECASE)
# A name taken back for the next one: "penicillin or, I'm sorry, amoxicillin", "Norvasc, I mean Lasix".
_SELF_REPAIR = re.compile(
    r"[\s,]*(?:(?:or|no)[\s,]+)?(?:i'm sorry|i am sorry|sorry|i mean|rather)[\s,]+(?:(?:the|some)\s+)?", re.IGNORECASE
)
UNCLEAR = "(unclear)"  # what the drafter reads in place of a name that is not one
MIN_GLUED_REST = 4  # letters a name glued to a dictation word ("order...") must keep
ENGLISH_MIN_COUNT = 20  # word-frequency count from which a word is taken as English
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)*")
_JOINABLE_GAP = re.compile(r"[\s\-]+")


@dataclass(frozen=True)
class Recovery:
    """One recovered name: ``heard`` (the words as transcribed) in segment ``segment_id`` sounds like ``drug``."""

    segment_id: int
    heard: str
    drug: str
    start: int  # character offsets of ``heard`` in the segment's text
    end: int
    score: float = 0.0


@dataclass(frozen=True)
class Recovered:
    """Segments to draft from (recovered names written in) and the recoveries made."""

    segments: list[Segment]
    recoveries: list[Recovery] = field(default_factory=list)


@dataclass(frozen=True)
class _Drug:
    name: str  # spelling written into the text for drafting ("Lasix", "lisinopril")
    generic: str  # what the medication parser names it ("furosemide")
    letters: str
    key: str
    sounded: str  # the letters as they sound (see _sounded), compared with what was heard


@dataclass(frozen=True)
class _Cues:
    window: int
    words: frozenset[str]
    phrases: re.Pattern[str]
    slots: re.Pattern[str]  # ... that count only right before the heard words
    ordinary: frozenset[str]
    edges: frozenset[str]
    glued: tuple[str, ...]


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


# Spellings of one sound, written one way before letters are compared: a recogniser that does not know a name
# spells it as it sounds ("keraphate" for Carafate, "fluoxetin", "seroquell"), in any of English's spellings.
_SAME_SOUND = (
    (re.compile(r"ph"), "f"),
    (re.compile(r"ck|q"), "k"),
    (re.compile(r"c(?=[eiy])"), "s"),
    (re.compile(r"c"), "k"),
    (re.compile(r"x"), "ks"),
    (re.compile(r"z"), "s"),
    (re.compile(r"y"), "i"),
    (re.compile(r"([a-z])\1+"), r"\1"),  # doubled letters ("seroquell", "ammoxicillin") sound single
)


def _sounded(letters: str) -> str:
    """``letters`` with each sound spelt one way (ph/f, c/k/s, x/ks, z/s, y/i, doubled letters single)."""
    for pattern, spelling in _SAME_SOUND:
        letters = pattern.sub(spelling, letters)
    return letters


def _key(letters: str) -> str:
    return jellyfish.metaphone(letters) if letters else ""


@cache
def _drugs() -> tuple[_Drug, ...]:
    out: list[_Drug] = []
    for line in (DATA_DIR / "recovery_drugs.txt").read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        match = exact_lookup(name) if name else None
        if match is None:  # a list entry the parser does not know could never be drafted: skip it
            continue
        letters = _letters(name)
        out.append(_Drug(name, match.generic, letters, _key(letters), _sounded(letters)))
    return tuple(out)


@cache
def _cues() -> _Cues:
    with open(DATA_DIR / "recovery_cues.toml", "rb") as f:
        data = tomllib.load(f)
    phrases = "|".join(f"(?:{p})" for p in data["context"]["phrases"])
    slots = "|".join(f"(?:{p})" for p in data["context"]["slots"])
    return _Cues(
        window=int(data["context"]["window_words"]),
        words=frozenset(w.lower() for w in data["context"]["words"]),
        phrases=re.compile(rf"(?<![A-Za-z0-9])(?:{phrases})(?![A-Za-z0-9])", re.IGNORECASE),
        slots=re.compile(rf"(?<![A-Za-z0-9])(?:{slots})(?:\s+(?:the|your|some|a|an))?$", re.IGNORECASE),
        ordinary=frozenset(" ".join(p.lower().split()) for p in data["ordinary"]["phrases"]),
        edges=frozenset(w.lower() for w in data["edges"]["words"]),
        glued=tuple(sorted((w.lower() for w in data["glued"]["words"]), key=len, reverse=True)),
    )


@cache
def _english() -> dict[str, int]:
    """English word counts of the spell checker's frequency list (read directly: no checker object needed)."""
    path = importlib.resources.files("spellchecker").joinpath("resources/en.json.gz")
    with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as f:
        counts: dict[str, int] = json.load(f)
    return counts


def is_english_word(word: str) -> bool:
    """True when ``word`` is a common enough English word to be taken as what was said."""
    return _english().get(word.lower().replace("’", "'"), 0) >= ENGLISH_MIN_COUNT


def glued_prefix(word: str) -> int:
    """Letters of a dictation word Whisper glued to the name after it ("ordercarvedil", "orderlasic"), else 0.

    Only for a word that is not English as a whole and leaves at least :data:`MIN_GLUED_REST` letters.
    """
    lower = word.lower()
    for prefix in _cues().glued:
        if lower.startswith(prefix) and len(lower) - len(prefix) >= MIN_GLUED_REST and lower[len(prefix)].isalpha():
            return len(prefix) if not is_english_word(lower) else 0
    return 0


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    for m in _WORD.finditer(text):
        n = glued_prefix(m.group(0))
        if n:  # "ordercarvedil" is two words: the name is heard after the glued "order"
            out.append(_Token(m.group(0)[:n], m.start(), m.start() + n))
        out.append(_Token(m.group(0)[n:], m.start() + n, m.end()))
    return out


def _has_cue(words: Sequence[str], before: Sequence[str] = ()) -> bool:
    """A medication cue in ``words`` (around the heard words), or a slot phrase ending ``before`` them."""
    cues = _cues()
    if any(w.lower() in cues.words for w in words):
        return True
    return bool(cues.phrases.search(" ".join(words)) or cues.slots.search(" ".join(before)))


@dataclass(frozen=True)
class _Window:
    first: int  # token indices, inclusive
    last: int
    letters: str
    key: str
    sounded: str
    english: bool = False  # one ordinary English word: taken only when it is the brand by sound, in a slot


def _windows(text: str, tokens: list[_Token]) -> list[_Window]:
    """Runs of 1-4 words not broken by punctuation or a hyphenated word, without drug names, numbers or edge
    function words."""
    cues = _cues()
    # Words of a name the parser already knows (also several-word names: "ferrous sulfate") are left alone.
    spans = [(h.start, h.end) for h in find_names(text, correct=False, strict_ambiguous=False)]
    known = [any(a < t.end and t.start < b for a, b in spans) for t in tokens]
    # A word the recogniser wrote in hyphenated pieces ("prisk-ribe" for prescribe) is one word: a run takes
    # all of its pieces or none ("prisk" alone sounds like Prozac).
    hyphen_after = [k + 1 < len(tokens) and text[t.end : tokens[k + 1].start] == "-" for k, t in enumerate(tokens)]
    out: list[_Window] = []
    for i in range(len(tokens)):
        if i > 0 and hyphen_after[i - 1]:
            continue
        for j in range(i, min(i + MAX_WORDS, len(tokens))):
            if j > i and not _JOINABLE_GAP.fullmatch(text[tokens[j - 1].end : tokens[j].start]):
                break
            if known[j]:
                break
            if hyphen_after[j]:
                continue
            words = [t.text.lower() for t in tokens[i : j + 1]]
            if words[0] in cues.edges or words[-1] in cues.edges or " ".join(words) in cues.ordinary:
                continue
            english = j == i and is_english_word(words[0])
            letters = "".join(_letters(w) for w in words)
            sounded = _sounded(letters)
            if len(sounded) >= MIN_LETTERS:
                out.append(_Window(i, j, letters, _key(letters), sounded, english))
    return out


def _best(window: _Window, key_sims: list[float], letter_sims: list[float]) -> tuple[_Drug, float] | None:
    """The drug ``window`` sounds like, when one fits well and clearly better than any other drug."""
    drugs = _drugs()
    multi = window.last > window.first
    scored: list[tuple[float, _Drug]] = []
    for drug, key_sim, letter_sim in zip(drugs, key_sims, letter_sims, strict=True):
        ratio = max(len(window.sounded), len(drug.sounded)) / min(len(window.sounded), len(drug.sounded))
        if ratio > MAX_LENGTH_RATIO or key_sim < MIN_KEY_SIMILARITY:
            continue
        if multi and (len(drug.letters) < MIN_MULTI_DRUG_LETTERS or letter_sim < MIN_MULTI_LETTERS):
            continue
        scored.append((float(key_sim + letter_sim) / 2, drug))
    if not scored:
        return None
    scored.sort(key=lambda s: -s[0])
    score, drug = scored[0]
    if score < (MIN_MULTI_SCORE if multi else MIN_ENGLISH_SCORE if window.english else MIN_SINGLE_SCORE):
        return None
    rival = next((s for s, d in scored[1:] if d.generic != drug.generic), 0.0)
    if score - rival < CLEAR_MARGIN:
        return None
    if not multi and len(_tail_drugs(window.letters)) > MAX_TAIL_DRUGS:
        return None
    return drug, score


def _tail_drugs(letters: str) -> set[str]:
    """Generics of the recovery list whose name ends like ``letters`` (or is spelt like them)."""
    return {
        d.generic
        for d in _drugs()
        if len(d.letters) >= len(letters)
        and Indel.normalized_similarity(letters, d.letters[-len(letters) :]) >= MIN_TAIL_SIMILARITY
    }


def _context(all_tokens: list[list[_Token]], seg: int, first: int, last: int, width: int) -> list[str]:
    """Words within ``width`` of a window, running into the turns before and after it (however short they are:
    role assignment may cut a turn into pieces of a few words)."""
    before = _before(all_tokens, seg, first, width)
    after = [t.text for t in all_tokens[seg][last + 1 : last + 1 + width]]
    i = seg + 1
    while len(after) < width and i < len(all_tokens):
        after += [t.text for t in all_tokens[i][: width - len(after)]]
        i += 1
    return before + after


def _before(all_tokens: list[list[_Token]], seg: int, first: int, n: int) -> list[str]:
    """The ``n`` words just before token ``first`` of turn ``seg``, running into the turns before it."""
    words = [t.text for t in all_tokens[seg][max(0, first - n) : first]]
    i = seg - 1
    while len(words) < n and i >= 0:
        words = [t.text for t in all_tokens[i][-(n - len(words)) :]] + words
        i -= 1
    return words


def _find(segments: Sequence[Segment], index: int, all_tokens: list[list[_Token]]) -> list[tuple[Recovery, str]]:
    """Recoveries in one segment, each with the spelling to write in."""
    segment = segments[index]
    tokens = all_tokens[index]
    windows = _windows(segment.text, tokens)
    if not windows:
        return []
    drugs = _drugs()
    key_sims = cdist([w.key for w in windows], [d.key for d in drugs], scorer=Levenshtein.normalized_similarity)
    letter_sims = cdist([w.sounded for w in windows], [d.sounded for d in drugs], scorer=Indel.normalized_similarity)
    found: list[tuple[float, _Window, _Drug]] = []
    for row, window in enumerate(windows):
        best = _best(window, list(key_sims[row]), list(letter_sims[row]))
        if best is not None:
            found.append((best[1], window, best[0]))
    width = _cues().window
    corrected = _corrected(segment.text)
    names = _name_tokens(segment.text, tokens)  # tokens of names: known ones, and those recovered below
    taken: set[int] = set()
    out: list[tuple[Recovery, str]] = []
    waiting: list[tuple[float, _Window, _Drug]] = []  # fit a drug, but no cue yet

    def take(score: float, window: _Window, drug: _Drug) -> None:
        start, end = tokens[window.first].start, tokens[window.last].end
        taken.update(range(window.first, window.last + 1))
        names.update(range(window.first, window.last + 1))
        out.append((Recovery(segment.id, segment.text[start:end], drug.generic, start, end, score), drug.name))

    for score, window, drug in sorted(found, key=lambda f: (-f[0], f[1].last - f[1].first)):
        if set(range(window.first, window.last + 1)) & taken:
            continue
        start, end = tokens[window.first].start, tokens[window.last].end
        longer = any(a < end and start < b and g != drug.generic and g in drug.generic for a, b, g in corrected)
        around = _context(all_tokens, index, window.first, window.last, width)
        before = _before(all_tokens, index, window.first, SLOT_WORDS)
        if window.english:
            # "try some singular": an English word is a brand only said where a name goes, and sounding as it
            if _cues().slots.search(" ".join(before)):
                take(score, window, drug)
        elif longer or _has_cue(around, before):
            take(score, window, drug)
        else:
            waiting.append((score, window, drug))
    # A name in a list ("put you on some Naprosyn, and some flexural") has the list's slot phrase before the
    # first name only: a drug name just before it in the turn, joined by "and", "or" or a comma, is the cue.
    for score, window, drug in sorted(waiting, key=lambda f: f[1].first):
        if not set(range(window.first, window.last + 1)) & taken and _listed_after(segment.text, tokens, names, window):
            take(score, window, drug)
    return sorted(out, key=lambda r: r[0].start)


def _name_tokens(text: str, tokens: list[_Token]) -> set[int]:
    """Indices of the tokens that are (part of) a drug name the parser knows."""
    spans = [(h.start, h.end) for h in find_names(text, correct=False, strict_ambiguous=False)]
    return {k for k, t in enumerate(tokens) if any(a < t.end and t.start < b for a, b in spans)}


def _listed_after(text: str, tokens: list[_Token], names: set[int], window: _Window) -> bool:
    """True when ``window`` follows a drug name in a list: within ``SLOT_WORDS`` words after a name, with a list
    joiner (a comma, "and", "or", "plus") between and otherwise only edge words ("some", "the")."""
    edges = _cues().edges
    for k in range(window.first - 1, max(-1, window.first - 1 - SLOT_WORDS), -1):
        if k in names:
            between = text[tokens[k].end : tokens[window.first].start].lower()
            words = _WORD.findall(between)
            joined = "," in between or any(w in _LIST_JOINERS for w in words)
            return joined and all(w in edges or w in _LIST_JOINERS for w in words)
    return False


def _corrected(text: str) -> list[tuple[int, int, str]]:
    """Spans the parser reads as a drug only by correcting a misspelling ("prednisolong"), with the generic.

    Such a word is drafted as that drug anyway; when it and the word before it sound like a longer name that
    contains it ("methyl prednisolong": methylprednisolone, not prednisolone), the longer name is what was said,
    whether or not the words around say "medication".
    """
    exact = {(h.start, h.end) for h in find_names(text, correct=False, strict_ambiguous=False)}
    return [
        (h.start, h.end, h.match.generic)
        for h in find_names(text, correct=True, strict_ambiguous=False)
        if (h.start, h.end) not in exact
    ]


def _written(segment: Segment, found: list[tuple[Recovery, str]]) -> Segment:
    """The segment with each recovered name written in place of the words heard."""
    text = segment.text
    for r, name in sorted(found, key=lambda f: -f[0].start):
        text = text[: r.start] + _spaced(text, r.start, r.end, name) + text[r.end :]
    return segment.model_copy(update={"text": text})


def _spaced(text: str, start: int, end: int, name: str) -> str:
    """``name`` as written in over ``text[start:end]``, with a space after a glued dictation word
    ("order|lisinopril") and before a glued piece of a compound it did not take ("ultra|-memory six hours"):
    the drafter reads words, not compounds."""
    before = " " if start > 0 and text[start - 1].isalpha() else ""
    after = " " if text[end : end + 1] == "-" else ""
    return before + name + after


def recover_drug_names(segments: Sequence[Segment]) -> Recovered:
    """Find drug names heard as other words, and write them in for drafting.

    Args:
        segments: the transcript as heard, in time order.

    Returns:
        ``Recovered``: the segments with recovered names written in place of the heard words (others unchanged),
        and one ``Recovery`` per name recovered, with its character span in the heard text.
    """
    all_tokens = [_tokens(s.text) for s in segments]
    out_segments: list[Segment] = []
    recoveries: list[Recovery] = []
    for index, segment in enumerate(segments):
        found = _find(segments, index, all_tokens)
        recoveries.extend(r for r, _ in found)
        written = _written(segment, found) if found else segment
        text = _unswallowed(written.text)
        out_segments.append(written if text == written.text else written.model_copy(update={"text": text}))
    return Recovered(out_segments, recoveries)


def _unswallowed(text: str) -> str:
    """``text`` for drafting without the drug names that were not meant: a name right before a bare unit of
    time ("it started Lasix months ago", said "like six months ago") swallowed the number, and a name taken
    back for another ("treat you with penicillin or, I'm sorry, amoxicillin") was a slip of the tongue. The
    transcript keeps what was heard."""
    hits = find_names(text, correct=False)
    starts = {h.start for h in hits}
    for hit in sorted(hits, key=lambda h: -h.start):
        repair = _SELF_REPAIR.match(text, hit.end)
        if _BARE_TIME.match(text, hit.end) or (repair is not None and repair.end() in starts):
            text = text[: hit.start] + UNCLEAR + text[hit.end :]
    return text
