"""Spoken sentence -> note sentence: contractions, fillers, small talk, first/second person -> third person."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from backend.domain.drafting.numbers import spoken_numbers_to_digits
from backend.domain.drafting.rules import text_rules

_CONTRACTIONS = [
    (r"\bca\s*n't\b", "cannot"),
    (r"\bwo\s*n't\b", "will not"),
    (r"\bai\s*n't\b", "is not"),
    (r"\s*n't\b", " not"),
    (r"\b(i)\s*'m\b", r"\1 am"),
    (r"\s*'re\b", " are"),
    (r"\s*'ve\b", " have"),
    (r"\s*'ll\b", " will"),
    (r"\b(i|you|we|they|he|she)\s*'d\b", r"\1 would"),
    (r"\b(it|that|there|what|he|she|where|who|how|here)\s*'s\b", r"\1 is"),
    (r"\blet\s*'s\b", "let us"),
    (r"\b(it|that|there|he|she|what|who) is (been|got|gotten|had)\b", r"\1 has \2"),
    (r"\s+'s\b", "'s"),
    (r"\bgon\s?na\b", "going to"),
    (r"\bwan\s?na\b", "want to"),
    (r"\bgot\s?ta\b", "have to"),
    (r"(?<![\w'])'cause\b", "because"),
]
_CONTRACTIONS_RE = [(re.compile(p, re.IGNORECASE), r) for p, r in _CONTRACTIONS]
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_STUTTER = re.compile(r"\b(\w+(?:'\w+)?)(?:\s*,?\s+\1\b)+", re.IGNORECASE)
_CUT_WORD = re.compile(r"(?<!\S)\w+-(?=\s|$)")
_SPACE_PUNCT = re.compile(r"\s+([,.?!;:%])")
_MULTI_COMMA = re.compile(r"(?:\s*,){2,}")
# Subject opening a sentence when the sex is known ("" = the pronoun itself).
LEAD_KNOWN = "the patient"
# Sentences longer than this many words are searched for unpunctuated sentence boundaries.
RUN_ON_WORDS = 15
_POINT = re.compile(r"\b(\d+) point (\d+)\b")
_WORD = re.compile(r"[a-z0-9]+", re.IGNORECASE)


@dataclass(frozen=True)
class Pronouns:
    """The words used for the patient: subject, object, possessive, reflexive, and the subject opening a sentence."""

    subject: str = "the patient"
    object: str = "them"
    possessive: str = "their"
    reflexive: str = "themselves"
    third_singular: bool = True  # "she has" / "they have"
    lead: str = "the patient"  # subject at the start of a sentence (singular)

    @classmethod
    def for_sex(cls, sex: str | None) -> Pronouns:
        """Pronouns for "female"/"male"; otherwise "they" (and "the patient" opening a sentence)."""
        if sex == "female":
            return cls("she", "her", "her", "herself", True, LEAD_KNOWN or "she")
        if sex == "male":
            return cls("he", "him", "his", "himself", True, LEAD_KNOWN or "he")
        return cls()


def normalise(text: str) -> str:
    """Lower-case text with contractions expanded and spoken numbers as digits (for matching rules)."""
    out = text.lower().replace("’", "'")
    for regex, repl in _CONTRACTIONS_RE:
        out = regex.sub(repl, out)
    out = _STUTTER.sub(r"\1", out)  # before numbers: "four four days" is a stutter, not 44
    out = spoken_numbers_to_digits(out)
    out = _POINT.sub(r"\1.\2", out)
    return re.sub(r"\s+", " ", out).strip()


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text``: after . ? ! followed by space, and in long unpunctuated
    runs before discourse markers and question starts ("... last night okay now do you have chills")."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        if text[start : m.start()].strip():
            spans.extend(_split_run_on(text, start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.extend(_split_run_on(text, start, len(text.rstrip())))
    return spans


def _split_run_on(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if len(text[start:end].split()) <= RUN_ON_WORDS:
        return [(start, end)]
    cuts = [start]
    for m in text_rules()["run_on_regex"].finditer(text, start, end):
        cut = m.end()
        if len(text[cuts[-1] : cut].split()) >= 3 and len(text[cut:end].split()) >= 3:
            cuts.append(cut)
    cuts.append(end)
    return [(a, b) for a, b in itertools.pairwise(cuts) if text[a:b].strip()]


def looks_like_question(raw: str, norm: str) -> bool:
    """A question mark, or (unpunctuated speech) a question start after the openers ("okay so do you ...")."""
    if raw.rstrip().endswith("?"):
        return True
    if raw.rstrip()[-1:] in {".", "!"} or len(raw.split()) > RUN_ON_WORDS:
        return False
    return bool(text_rules()["question_start_regex"].match(strip_fillers(norm)))


def content_words(text: str) -> list[str]:
    """Words of ``text`` (letters/digits), lower-cased."""
    return [w.lower() for w in _WORD.findall(text)]


def tidy(text: str) -> str:
    """Spacing and punctuation of a note sentence; first letter upper-case, ending with a full stop."""
    out = _SPACE_PUNCT.sub(r"\1", text)
    out = _MULTI_COMMA.sub(",", out)
    out = re.sub(r"\s+", " ", out).strip(" ,;:-")
    out = re.sub(r"\bi\b", "I", out)
    if not out:
        return ""
    out = out[0].upper() + out[1:]
    if out[-1] not in ".?!":
        out += "."
    return re.sub(r"[,;:]\s*([.?!])$", r"\1", out)


def strip_fillers(text: str) -> str:
    """Drop fillers, stutters, cut-off words and leading discourse markers ("okay , so , um")."""
    rules = text_rules()
    out = rules["filler_regex"].sub(" ", text)
    out = _CUT_WORD.sub(" ", out)
    out = _STUTTER.sub(r"\1", out)
    out = re.sub(r"\s+", " ", out).strip(" ,")
    for _ in range(6):
        stripped = rules["opener_regex"].sub("", out).strip(" ,")
        if stripped == out:
            break
        out = stripped
    return out


def is_chit_chat(text: str) -> bool:
    """True for greetings, thanks, talk about the recording and other non-clinical sentences."""
    return bool(text_rules()["chit_chat_regex"].search(text))


def _third_singular(verb: str) -> str:
    special = {"have": "has", "do": "does", "go": "goes", "usually": "usually"}
    if verb in special:
        return special[verb]
    if re.search(r"(?:s|sh|ch|x|z|o)$", verb):
        return verb + "es"
    if re.search(r"[^aeiou]y$", verb):
        return verb[:-1] + "ies"
    return verb + "s"


_FINITE = frozenset(
    {
        *("am", "are", "is", "was", "were", "have", "has", "had", "do", "does", "did"),
        *("can", "could", "will", "would", "should", "may", "might", "must", "feel"),
    }
)
_OBJECT_CONTEXT = re.compile(
    r"^(?:to|for|with|at|on|about|from|give|gave|see|send|put|get|let|tell|ask|help|check|examine|refer|"
    r"prescribe|want|need|recommend|bring|call|have|make|keep|start|take|show|told|asked|thank|"
    r"like|of|into|by|want|expect|encourage|advise|saw|seen|met|meet|continue|hear|heard|brought|put|placed)$",
    re.IGNORECASE,
)


def to_third_person(text: str, speaker: str, pronouns: Pronouns) -> str:
    """Rewrite the patient's "I/my" and the clinician's "you/your" as the patient in the third person.

    Args:
        text: a normalised sentence (contractions expanded).
        speaker: "patient" or "doctor"; anything else is returned unchanged.
        pronouns: the words that stand for the patient.

    Returns:
        The sentence in the third person (the clinician's own "I/we" is kept: notes are in their voice).
    """
    if speaker == "patient":
        first, poss, obj, refl = r"i", r"my", r"me", r"myself"
    elif speaker == "doctor":
        first, poss, obj, refl = r"you", r"your", r"you", r"yourself"
    else:
        return text
    verbs = text_rules()["verb_set"]

    def preceded_by_object_context(source: str, start: int) -> bool:
        words = source[:start].split()
        return bool(words) and bool(_OBJECT_CONTEXT.search(words[-1]))

    def subject(start: int) -> tuple[str, bool]:
        if start == 0:
            return pronouns.lead, True
        return pronouns.subject, pronouns.third_singular

    def subject_verb(m: re.Match[str]) -> str:
        verb = m.group(1).lower()
        # "like you are doing" is a subject even after an object-taking verb; "want you to" is an object.
        if verb not in _FINITE and preceded_by_object_context(m.string, m.start()):
            return f"{pronouns.object} {m.group(1)}"
        subj, singular = subject(m.start())
        if verb in {"am", "are", "is"}:
            return f"{subj} {'is' if singular else 'are'}"
        if verb in {"was", "were"}:
            return f"{subj} {'was' if singular else 'were'}"
        if verb in verbs:
            return f"{subj} {_third_singular(verb) if singular else verb}"
        return f"{subj} {m.group(1)}"

    out = re.sub(rf"\b{refl}\b", pronouns.reflexive, text, flags=re.IGNORECASE)
    out = re.sub(rf"\b{poss}\b", pronouns.possessive, out, flags=re.IGNORECASE)
    if speaker == "patient":
        out = re.sub(r"\bmine\b", "hers" if pronouns.possessive == "her" else pronouns.possessive, out)
    out = re.sub(rf"\b{first}\s+(\w+)", subject_verb, out, flags=re.IGNORECASE)

    def lone(m: re.Match[str]) -> str:
        if speaker == "patient" and m.group(0).lower() == "me":
            return pronouns.object
        if preceded_by_object_context(m.string, m.start()):
            return pronouns.object
        return subject(m.start())[0]

    out = re.sub(rf"\b(?:{first}|{obj})\b", lone, out, flags=re.IGNORECASE)
    return out
