"""A note sentence -> a short clinical phrase, by the rules of ``shorten.toml`` (deletions and short forms only)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache

from backend.domain.drafting.rules import DATA_DIR

_MAX_PASSES = 4


@dataclass(frozen=True)
class ShortenRules:
    """Compiled rules: ordered substitutions, and where an over-long phrase may be cut."""

    substitutions: tuple[tuple[re.Pattern[str], str], ...]
    max_words: int
    clause_breaks: tuple[str, ...]


@cache
def shorten_rules() -> ShortenRules:
    """The rules of ``backend/data/drafting/shorten.toml``, compiled once per process."""
    with (DATA_DIR / "shorten.toml").open("rb") as fh:
        data = tomllib.load(fh)
    subject = data["subject"]
    subs = tuple(
        (re.compile(pattern.replace("{subject}", subject), re.IGNORECASE), repl) for pattern, repl in data["rules"]
    )
    return ShortenRules(subs, int(data["max_phrase_words"]), tuple(data["clause_breaks"]))


def _cut(text: str, rules: ShortenRules) -> str:
    """The first clause of an over-long phrase (a cut only drops words; what is kept reads as it was said)."""
    if len(text.split()) <= rules.max_words:
        return text
    lowered = text.lower()
    cuts = [i for b in rules.clause_breaks for i in [lowered.find(b)] if i > 0 and len(text[:i].split()) >= 6]
    return text[: min(cuts)] if cuts else text


def shorten(sentence: str) -> str:
    """``sentence`` as a short clinical phrase: no reporting verbs, no subject, durations as "x 3 days".

    "The patient reports that she has had a cough for 3 days." -> "Cough x 3 days."

    Returns:
        The phrase with its first letter upper-case and a final full stop; the sentence itself when the rules
        would leave nothing (a phrase is never empty).
    """
    rules = shorten_rules()
    body = sentence.strip().rstrip(".?!").strip()
    for _ in range(_MAX_PASSES):
        before = body
        for regex, repl in rules.substitutions:
            body = regex.sub(repl, body).strip(" ,;:")
        if body == before:
            break
    body = re.sub(r"\s+", " ", _cut(body, rules)).strip(" ,;:")
    if len(body.split()) < 1:
        return sentence.strip()
    return body[0].upper() + body[1:] + "."
