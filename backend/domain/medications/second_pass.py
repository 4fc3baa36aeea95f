"""A second, targeted listen where a drug name was clearly said but not recognised ("continue the project 20 mg").

The first pass hears every clip with one long drug list as hot words; a name it has never heard spoken comes out
as ordinary English ("project" for Prozac, "normesque" for Norvasc). Where the words around say a drug name
belongs *right there* (a dose follows, or "refill of", "put you on the", "continue the" comes just before) and no
known name is there, the few seconds around those words are decoded again with a short list of the drugs that
sound nearest to what was heard. A drug the biased decode names is kept only when it sounds like the heard words
and is the only new name in the stretch; it comes back as a :class:`Recovery` (so the medication is drafted
unverified, ``heard_as`` the first-pass words) and the transcript keeps the first-pass text.

Pure: the decoding is a callable given by the caller (the speech engine's span decoder).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Indel, Levenshtein

from backend.domain.drafting.numbers import spoken_numbers_to_digits
from backend.domain.drug_classes import names_a_class
from backend.domain.medications.parser import find_names
from backend.domain.medications.primed import PrimedWord, find_primed, verdict
from backend.domain.medications.recovery import (
    CLEAR_MARGIN,
    Recovery,
    _cues,
    _drugs,
    _key,
    _letters,
    _spaced,
    glued_prefix,
    is_english_word,
    recover_drug_names,
)
from backend.domain.medications.strengths import could_be_made_in
from backend.domain.models import Segment
from backend.domain.prompt_readout import prompt_names, readout_words

MAX_STRETCHES = 8  # decodes per recording: each costs about one 30 s Whisper window (~1-2 CPU-s)
N_CANDIDATES = 12  # names in the biased prompt: short, so each one weighs
PAD_SECONDS = 1.0  # audio either side of the heard words (enough context, too little for a new sentence)
RETRY_CANDIDATES = 3  # when a decode lists its prompt: once more with only the nearest names ...
RETRY_PAD_SECONDS = 2.5  # ... and more of the speech around them
MIN_LETTERS = 4
MIN_LAST_LETTERS = 3  # a shorter last word counts only with the words before it ("tram it out" for tramadol)
NEAR_CHARS = 30  # a recognised name this close to the slot is the name said there
NEAR_BEST = (
    0.05  # the name said must sound about as close as the closest offered name (the audio picks among near ties)
)
MIN_SOUND = 0.60  # the drug the second pass names must sound like the words first heard (key and letters)
# ... unless both listens put a strength right after the word and the name (the audio, not the prompt, says a
# drug is there: "prescribe some malgustic 50 milligrams" / "some meloxicam 50", 0.56).
MIN_SOUND_DOSED = 0.45
# An ordinary English word in a slot, with no strength after it, is most often just what was said ("take
# advantage of that"): the name the second listen gives it must sound clearly like it.
MIN_SOUND_ENGLISH = 0.70
# A decode is not of the audio when it holds more words than anyone says in its seconds (conversation runs at
# 2.5-3 words a second) or far more than the first pass heard there: the prompt was read out as a list.
MAX_WORDS_PER_SECOND = 4.0
MAX_WORDS_FACTOR = 2  # ... times the words first heard in the span, plus MAX_WORDS_SLACK
MAX_WORDS_SLACK = 3
MIN_SPELLING = 0.90  # a decoded word this close in letters to an offered name is that name misspelt
MIN_SPELLING_LETTERS = 6
# ... or this close in sound (``sound_score``: "carbidilol" for carvedilol, "effexorum" for Effexor), when the
# next offered drug sounds clearly further off (a word between two offered names is neither).
MIN_SPELLING_SOUND = 0.80
SPELLING_SOUND_MARGIN = 0.10
LIST_NAMES = 2  # a decode naming this many drugs nobody said in the recording reads out the prompt
# A drug name belongs just here: the words before it (up to 4) end like these ...
_BEFORE = re.compile(
    r"(?:\b(?:refill|refills|prescribe|prescribed|prescription)(?: (?:of|on|for))?"
    r"|\b(?:put|have|has|had|keep|kept|got|get|start|started|starting|restart|stay|staying) (?:you|him|her|them) on"
    r"|\b(?:you're|you are|i'm|i am|he's|she's|been|staying|still|stay) on"
    r"|\b(?:give|gives|giving|gave|given) (?:you|him|her|them)"
    r"|\b\d+(?:\.\d+)? ?(?:mg|mcg|milligrams?|micrograms?|units?|ml) of"
    r"|\b(?:continue|continuing|start|starting|started|restart|stop|stopped|increase|decrease|switch|switching"
    r"|take|takes|taking|took|using)"
    r"(?: (?:on|with|to|you to))?)(?: (?:the|your|his|her|a|some))?$",
    re.IGNORECASE,
)
# ... or a strength follows it within a word or two.
_DOSE = re.compile(r"^(?:\S+ )?\d+(?:\.\d+)?\s*(?:mg|mcg|milligrams?|micrograms?|units?|ml)\b", re.IGNORECASE)
_WORDS_DOSE = re.compile(
    r"^(?:\S+ )?(?:\d+(?:\.\d+)?|[a-z]+(?:[- ][a-z]+)?)\s*(?:mg|mcg|milligrams?|micrograms?|units?|ml)\b", re.IGNORECASE
)
_SAID_STRENGTH = re.compile(r"^(?:\S+ )?(\d+(?:\.\d+)?)\s*(mg|mcg|milligrams?|micrograms?)\b", re.IGNORECASE)
_LISTED = re.compile(r"[\s,]*(?:and|or)[\s,]+(?:(?:the|your|his|her|some)\s+)?", re.IGNORECASE)  # "X, and the "
_GLUED_NUMBER = re.compile(r"\b[A-Za-z](\d)")  # the last sound of a name glued to its strength ("M50 milligrams")
_TOKEN = re.compile(r"[A-Za-z0-9.]+")
_REPEAT = re.compile(r"\b(\S+(?: \S+){0,2}) \1\b")  # a run of up to 3 words said twice in a row
CUE_WORDS = 6  # words before a slot that are searched for a cue (4, and a phrase of 2 said twice)
JOIN_GAP_SECONDS = 0.5  # a segment that starts this soon after the one before continues its sentence


@dataclass(frozen=True)
class Stretch:
    """Words of one segment where a drug name is expected but none was recognised."""

    segment_id: int
    heard: str  # the words as first heard
    start: int  # character offsets of ``heard`` in the segment's text
    end: int
    t_start: float  # seconds of the recording
    t_end: float
    # The heard word with up to 2 words before it, as (text, start, end): a name may be heard split in words
    # ("this in upro" for lisinopril); candidates and the sound check take the run that fits best.
    runs: tuple[tuple[str, int, int], ...] = ()
    dosed: bool = False  # a strength follows the heard word in the first pass
    strength_after: bool = False  # ... or one in words ("twenty milligrams"): not an English word then
    said: tuple[float, str] | None = None  # that strength, when in mg or mcg: (20.0, "mg")

    def heard_runs(self) -> tuple[tuple[str, int, int], ...]:
        """The runs, or the heard word alone."""
        return self.runs or ((self.heard, self.start, self.end),)


def _is_word(word: str) -> bool:
    """Letters only, hyphens allowed: Whisper writes a name it does not know as a compound too ("top-row")."""
    return bool(word) and word.replace("-", "").isalpha()


def _clean(word: str) -> str:
    return word.strip(" ,.;:!?\"'()").lower()


def _word_offsets(segment: Segment) -> list[tuple[int, int]]:
    """Character span of each of the segment's words in its text (searched in order; -1 when not found)."""
    out: list[tuple[int, int]] = []
    pos = 0
    for w in segment.words:
        word = w.text.strip(" ,.;:!?\"'()")  # the word itself: heard_as and the written-in span have no comma
        at = segment.text.find(word, pos) if word else -1
        out.append((at, at + len(word)) if at >= 0 else (-1, -1))
        if at >= 0:
            pos = at + len(word)
    return out


def find_stretches(segments: Sequence[Segment]) -> list[Stretch]:
    """Single unknown words in a drug slot: right after "refill of"/"on the"/..., right before a strength, or
    listed with a recognised name ("lisinopril, and the hydrochlorophenide").

    A word of three letters counts only as the end of a name heard split in words ("tram it out, 50 mg").

    A word is skipped when it is short, a function word, a number, or part of a name the parser knows (then
    the first pass heard the drug). At most :data:`MAX_STRETCHES`, in time order; when there are more, words
    that are not English go first (a name Whisper does not know comes out as a made-up word: "alburena",
    "lumbrazole", "top-row"; an English word in a slot is more often just what was said: "continue to make").
    """
    cues = _cues()
    skip = cues.edges | cues.words  # function words and medication words ("taking", "milligrams") are no name
    out: list[Stretch] = []
    carried: list[str] = []  # the last words of the segment before, when this one follows on at once
    previous: Segment | None = None
    for n, seg in enumerate(segments):
        nxt = segments[n + 1] if n + 1 < len(segments) else None
        # The words said next, when the segment after follows on at once (a strength cut off into it).
        onward = [w.text for w in nxt.words[:3]] if nxt is not None and nxt.start - seg.end <= JOIN_GAP_SECONDS else []
        if previous is not None and previous.words and seg.start - previous.end <= JOIN_GAP_SECONDS:
            carried = [_clean(w.text) for w in previous.words[-CUE_WORDS:]]
        else:
            carried = []
        previous = seg
        if not seg.words:
            continue
        known = [(h.start, h.end) for h in find_names(seg.text, correct=False, strict_ambiguous=False)]
        offsets = _word_offsets(seg)
        words = [_clean(w.text) for w in seg.words]
        glued: list[str] = []  # a dictation word glued to each word ("ordercarvedil": "order"), or ""
        for i, word in enumerate(words):
            n = glued_prefix(word) if offsets[i][0] >= 0 else 0
            glued.append(word[:n])
            if n:
                words[i], offsets[i] = word[n:], (offsets[i][0] + n, offsets[i][1])
        for i, word in enumerate(words):
            a, b = offsets[i]
            if a < 0 or len(_letters(word)) < MIN_LAST_LETTERS or not _is_word(word) or word in skip:
                continue
            if names_a_class(word):  # "continue with your statin": the class was said, not a misheard name
                continue
            if any(x < b and a < y for x, y in known):
                continue
            # A name Whisper wrote as a compound comes in glued pieces ("L" "-buteraw"): the slot is before the
            # first piece.
            k = i
            while k > 0 and words[k].startswith("-") and offsets[k - 1][1] == offsets[k][0] >= 0:
                k -= 1
            # A cue may end the segment before (a window cut mid-sentence), and a phrase said twice ("on the,
            # on the") is one cue.
            before = _REPEAT.sub(r"\1", " ".join([*carried, *words[:k], *filter(None, glued[k : k + 1])][-CUE_WORDS:]))
            after = " ".join(_TOKEN.findall(" ".join(w.text for w in seg.words[i + 1 : i + 4])))
            # A word listed with a recognised name is a name too ("lisinopril, and the hydrochlorophenide").
            listed = {(x, y) for x, y in known if _LISTED.fullmatch(seg.text[y : offsets[k][0]])}
            if not (_BEFORE.search(before) or _DOSE.match(after) or listed):
                continue
            # A known name next to the slot already fills it ("metformin, 500 mg", "on the lisinopril tablets").
            if any(x < b + NEAR_CHARS and a - NEAR_CHARS < y for x, y in known if (x, y) not in listed):
                continue
            runs = [(seg.text[a:b], a, b)]
            for j in range(i - 1, max(-1, i - 3), -1):
                x = offsets[j][0]
                if (
                    glued[j + 1]
                    or x < 0
                    or not _is_word(words[j])
                    or words[j] in cues.words
                    or _BEFORE.search(words[j])
                ):
                    break
                if not re.fullmatch(r"[\s-]*", seg.text[offsets[j][1] : offsets[j + 1][0]]):
                    break  # punctuation between: not one name
                runs.append((seg.text[x:b], x, b))
            t_start, t_end = seg.words[i].start, seg.words[i].end
            if len(_letters(word)) < MIN_LETTERS:
                # A short word alone is no name, but it may end one heard split in words: only those runs count,
                # and the audio to decode again starts with them.
                runs = [
                    r
                    for r in runs[1:]
                    if len(_letters(r[0])) >= MIN_LETTERS and _clean(r[0].split()[0]) not in cues.edges
                ]
                if not runs:
                    continue
                first = next(j for j in range(i) if offsets[j][0] == runs[-1][1])
                t_start = seg.words[first].start
            strength = " ".join(_TOKEN.findall(spoken_numbers_to_digits(" ".join([after, *onward]))))
            said = _SAID_STRENGTH.match(_GLUED_NUMBER.sub(r"\1", strength))
            out.append(
                Stretch(
                    seg.id,
                    seg.text[a:b],
                    a,
                    b,
                    t_start,
                    t_end,
                    tuple(runs),
                    bool(_DOSE.match(_GLUED_NUMBER.sub(r"\1", after))),
                    bool(_WORDS_DOSE.match(" ".join(_TOKEN.findall(" ".join([after, *onward]))))),
                    (float(said.group(1)), said.group(2).lower()) if said else None,
                )
            )
    kept = sorted(out, key=lambda s: (is_english_word(s.heard.replace("-", "")), s.t_start))[:MAX_STRETCHES]
    return sorted(kept, key=lambda s: s.t_start)


def sound_score(heard: str, name: str) -> float:
    """How much ``name`` sounds and is spelt like ``heard``: mean of Metaphone-key and letter similarities."""
    hl, nl = _letters(heard), _letters(name)
    if not hl or not nl:
        return 0.0
    return (Levenshtein.normalized_similarity(_key(hl), _key(nl)) + Indel.normalized_similarity(hl, nl)) / 2


def candidates(heard: str | Sequence[str], n: int = N_CANDIDATES, said: tuple[float, str] | None = None) -> list[str]:
    """The ``n`` names of the recovery list that sound nearest to ``heard`` (to the best fitting of several
    readings when given several; ties broken by list order). With the strength ``said`` after the heard words,
    only drugs that could be made in it (``strengths.could_be_made_in``): "product 20 mg" is not Pradaxa, which
    comes as 75, 110 and 150 mg, and the prompt must not steer the decode there."""
    heards = [heard] if isinstance(heard, str) else list(heard)

    def score(name: str) -> float:
        return max(sound_score(h, name) for h in heards)

    scored = sorted(enumerate(_drugs()), key=lambda d: (-score(d[1].name), d[0]))
    names: list[str] = []
    for _, drug in scored:
        if said is not None and not could_be_made_in(drug.generic, *said):
            continue
        if drug.name not in names:
            names.append(drug.name)
        if len(names) == n:
            break
    return names


def word_room(segments: Sequence[Segment], start: float, end: float) -> int:
    """The most words an honest decode of ``[start, end)`` seconds can hold: what anyone can say in that time,
    or a few more than the first pass heard there (whichever is less)."""
    heard = sum(1 for s in segments for w in s.words if start <= w.start < end)
    by_rate = math.ceil(MAX_WORDS_PER_SECOND * max(0.0, end - start))
    return min(by_rate, MAX_WORDS_FACTOR * heard + MAX_WORDS_SLACK) if heard else by_rate


def is_hallucinated(
    biased_text: str, known: frozenset[str], room: int | None = None, offered: Sequence[str] = ()
) -> bool:
    """True when a biased decode cannot be what was said: the prompt read back ("Medicines: ...", or its
    ``offered`` names in a run with nothing between them, one coming back or in the prompt's order:
    ``backend.domain.prompt_readout``), more words than ``room``, or a list of drugs (:data:`LIST_NAMES` or more)
    the recording does not name elsewhere."""
    if "medicines" in biased_text.lower():
        return True
    if offered and readout_words(biased_text.split(), prompt_names(offered)):
        return True
    if room is not None and len(_TOKEN.findall(biased_text)) > room:
        return True
    new = {c for h in find_names(biased_text, correct=False, strict_ambiguous=False) for c in h.match.components}
    return len(new - known) >= LIST_NAMES


def offered_spelling(word: str, offered: Sequence[str]) -> str | None:
    """The offered name a decoded word spells with a letter or so wrong ("alopurinol"), if exactly one.

    The decode was steered towards these names, so a near spelling is one of them; a word of the dictionary
    stays what it is (the exact names are found by the parser), and short words are too easy to hit. A word
    that is not that close in letters counts when it sounds like one offered drug (:data:`MIN_SPELLING_SOUND`)
    clearly more than like any other ("carbidilol": carvedilol 0.82, carbidopa 0.70): Whisper spells a name it
    half knows by ear.
    """
    letters = _letters(word)
    if len(letters) < MIN_SPELLING_LETTERS or not word.isalpha() or is_english_word(word):
        return None
    generic = {d.name: d.generic for d in _drugs()}
    near = {n for n in offered if Indel.normalized_similarity(letters, _letters(n)) >= MIN_SPELLING}
    if not near:
        by_sound = sorted(((sound_score(word, n), n) for n in offered), reverse=True)
        best = by_sound[0] if by_sound else (0.0, "")
        rival = next((s for s, n in by_sound[1:] if generic.get(n) != generic.get(best[1])), 0.0)
        if best[0] >= MIN_SPELLING_SOUND and best[0] - rival >= SPELLING_SOUND_MARGIN:
            near = {best[1]}
    near_generics = {generic[n] for n in near if n in generic}
    return min(near) if near and len(near_generics) == 1 else None


def accept(
    stretch: Stretch,
    biased_text: str,
    offered: Sequence[str],
    known: frozenset[str] = frozenset(),
    room: int | None = None,
) -> Recovery | None:
    """The one offered drug the biased decode names that sounds like what was first heard, as a recovery of
    the heard run it fits best.

    None when the decode looks hallucinated (:func:`is_hallucinated`: the prompt read back, more words than
    ``room``, a list of drugs nobody named), names no offered drug, names two that fit about as well, or the
    one it names does not sound like the heard words (the prompt talked it into a name, not the audio): less
    than :data:`MIN_SOUND` (:data:`MIN_SOUND_DOSED` when both listens say a strength after it), or clearly less
    than the offered name nearest in sound; an English word with no strength after it needs
    :data:`MIN_SOUND_ENGLISH`. ``known``: generics the
    recording already names; a new drug that sounds no closer than one of them is not taken (the stretch is
    most likely the drug already talked about: "product" for Prozac, not Pradaxa). A drug not made in the
    strength said after the heard words (``Stretch.said``) is not taken either.
    """
    if is_hallucinated(biased_text, known, room, offered):
        return None
    spelled = {n.lower(): n for n in offered}
    generic = {d.name.lower(): d.generic for d in _drugs()}
    named: dict[str, tuple[str, ...]] = {}  # generic -> the offered name, and the decode's spelling of it
    dosed: set[str] = set()  # generics the decode says a strength after
    for hit in find_names(biased_text, correct=False, strict_ambiguous=False):
        said = biased_text[hit.start : hit.end]
        if said.lower() in spelled:
            g = generic[said.lower()]
            named.setdefault(g, (said,))
            if _DOSE.match(biased_text[hit.end :].strip(" ,.;:")):
                dosed.add(g)
    for match in _TOKEN.finditer(biased_text):
        near = offered_spelling(match.group(0), offered)
        if near is not None:
            named.setdefault(generic[near.lower()], (near, match.group(0)))
            if _DOSE.match(biased_text[match.end() :].strip(" ,.;:")):
                dosed.add(generic[near.lower()])
    # The decode may name a neighbour too ("the Norvasc, and so are you tenormin"): the drug of the stretch is
    # the one that sounds most like the heard words, and it must do so clearly. Both listens are of the same
    # audio, so the second one's own spelling ("alopurinol") is compared with the first one's words as well.
    fits = sorted(
        (
            (max((sound_score(r[0], s), r) for r in stretch.heard_runs() for s in spellings), g)
            for g, spellings in named.items()
        ),
        key=lambda f: -f[0][0],
    )
    if not fits:
        return None
    (score, (heard, start, end)), drug = fits[0]
    if stretch.said is not None and not could_be_made_in(drug, *stretch.said):
        return None  # the strength said is none this drug is made in: the prompt's name, not the audio's
    bar = MIN_SOUND_DOSED if stretch.dosed and drug in dosed else MIN_SOUND
    if (
        not (stretch.dosed or stretch.strength_after)
        and " " not in heard.strip()
        and is_english_word(heard.strip().replace("-", ""))
    ):
        bar = max(bar, MIN_SOUND_ENGLISH)
    if score < bar or (len(fits) > 1 and score - fits[1][0][0] < CLEAR_MARGIN):
        return None
    runs = [r[0] for r in stretch.heard_runs()]
    nearest = max(max(sound_score(h, n) for h in runs) for n in offered)
    if score < nearest - NEAR_BEST:
        return None
    rivals = [d.name for d in _drugs() if d.generic in known and d.generic != drug]
    if any(max(sound_score(h, n) for h in runs) >= score - CLEAR_MARGIN for n in rivals):
        return None
    return Recovery(stretch.segment_id, heard, drug, start, end, score)


Decode = Callable[[float, float, str], str]  # (start s, end s, hot words) -> text


def _listen(
    stretch: Stretch, segments: Sequence[Segment], decode: Decode, duration: float, known: frozenset[str]
) -> Recovery | None:
    """One stretch decoded again; when that decode reads out its prompt, once more with fewer names and more
    of the speech around (a short span with a long list is where Whisper lists instead of listening)."""
    heard = [r[0] for r in stretch.heard_runs()]
    for n, pad in ((N_CANDIDATES, PAD_SECONDS), (RETRY_CANDIDATES, RETRY_PAD_SECONDS)):
        offered = candidates(heard, n, stretch.said)
        lo, hi = max(0.0, stretch.t_start - pad), min(duration, stretch.t_end + pad)
        text, room = decode(lo, hi, "Medicines: " + ", ".join(offered) + "."), word_room(segments, lo, hi)
        if not is_hallucinated(text, known, room, offered):
            return accept(stretch, text, offered, known, room)
    return None


def _recheck(
    word: PrimedWord, segments: Sequence[Segment], decode: Decode, duration: float, known: frozenset[str]
) -> Recovery | None:
    """A name of the hot-word list heard again with only its nearest names (``backend.domain.medications.primed``);
    None when it stands or when both listens read out their prompt (nothing can be told then)."""
    for n, pad in ((N_CANDIDATES, PAD_SECONDS), (RETRY_CANDIDATES, RETRY_PAD_SECONDS)):
        offered = candidates(word.heard, n)
        lo, hi = max(0.0, word.t_start - pad), min(duration, word.t_end + pad)
        text, room = decode(lo, hi, "Medicines: " + ", ".join(offered) + "."), word_room(segments, lo, hi)
        if not is_hallucinated(text, known, room, offered):
            return verdict(word, text, offered)
    return None


def second_pass(segments: Sequence[Segment], decode: Decode, duration: float) -> list[Recovery]:
    """Decode each stretch again with its nearest drug names as hot words; the drugs found, as recoveries.

    Names of the first pass's hot-word list that it wrote are heard again too (:func:`_recheck`): one the
    short listen does not hear again comes back as the drug it heard instead, or as "(unclear)".

    Args:
        segments: the transcript as first heard, with words and their times (ids as the draft will see them).
        decode: decodes ``[start, end)`` seconds of the recording with the given hot words.
        duration: seconds of the recording (the padded span is kept inside it).
    """
    known = frozenset(h.match.generic for seg in segments for h in find_names(seg.text, correct=False))
    known |= {r.drug for r in recover_drug_names(segments).recoveries}
    out: list[Recovery] = []
    for stretch in find_stretches(segments):
        got = _listen(stretch, segments, decode, duration, known)
        if got is not None and not any(
            r.segment_id == got.segment_id and r.start < got.end and got.start < r.end for r in out
        ):
            out.append(got)
            # A drug heard here is one the recording names: a later stretch that sounds as much like it is that
            # drug again, not a new one ("project" heard as Prozac, then "product": not Pradaxa).
            known |= {got.drug}
    for word in find_primed(segments):
        got = _recheck(word, segments, decode, duration, known)
        if got is not None:
            out.append(got)
    return out


def write_in(segments: Sequence[Segment], found: Sequence[Recovery]) -> list[Segment]:
    """The segments with each found drug written in place of its heard words, for drafting only."""
    by_segment: dict[int, list[Recovery]] = {}
    for r in found:
        by_segment.setdefault(r.segment_id, []).append(r)
    out: list[Segment] = []
    for seg in segments:
        text = seg.text
        for r in sorted(by_segment.get(seg.id, []), key=lambda r: -r.start):
            if text[r.start : r.end] == r.heard:  # offsets are of this text (a stale recovery is left out)
                text = text[: r.start] + _spaced(text, r.start, r.end, r.drug) + text[r.end :]
        out.append(seg if text == seg.text else seg.model_copy(update={"text": text}))
    return out
