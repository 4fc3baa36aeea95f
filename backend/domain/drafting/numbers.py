"""Spoken numbers to digits: "one twenty over eighty" -> "120 over 80", "one oh one point two" -> "101.2"."""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000}
_NUMBER_WORDS = set(_UNITS) | set(_TENS) | set(_SCALES)
# Words after which a lone "one" is a count ("one week"), not a pronoun ("the one on the left").
_COUNTED = re.compile(
    r"^(?:days?|weeks?|months?|years?|hours?|minutes?|times?|tablets?|pills?|capsules?|puffs?|doses?|mg|milligrams?|"
    r"units?|drops?|inch|inches|pounds?|point|percent|degrees?|a day|am|pm)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[a-z]+(?:-[a-z]+)?|\d+(?:\.\d+)?|\S", re.IGNORECASE)


def _is_number_word(word: str) -> bool:
    parts = word.lower().split("-")
    return all(p in _NUMBER_WORDS for p in parts)


def _number_follows(tokens: list[tuple[str, int, int]], j: int) -> bool:
    return j + 1 < len(tokens) and _is_number_word(tokens[j + 1][0])


def _integer(words: list[str]) -> int | None:
    """Value of a run of number words; handles "one twenty" (120) and "one oh one" (101) as said of vitals."""
    flat: list[str] = []
    for w in words:
        flat.extend(w.lower().split("-"))
    total, current, last_kind, seen_scale = 0, 0, "", False
    for w in flat:
        if w == "oh":
            if last_kind != "unit" or seen_scale:
                return None
            current *= 100
            last_kind = "oh"
            seen_scale = True
        elif w in _UNITS:
            value = _UNITS[w]
            if last_kind == "unit" and value < 10 and current < 10:
                current = current * 10 + value  # digit by digit: "nine eight" -> 98
            elif last_kind == "unit" and current < 10 and not seen_scale:
                current = current * 100 + value  # "one twelve" -> 112
            else:
                current += value
            last_kind = "unit" if value < 10 else "teen"
        elif w in _TENS:
            if last_kind == "unit" and current < 10 and not seen_scale:
                current = current * 100 + _TENS[w]  # "one twenty" -> 120
                seen_scale = True
            elif last_kind == "tens" and current % 100 and current < 100:
                current = current * 100 + _TENS[w]  # "twenty twenty" -> 2020
            else:
                current += _TENS[w]
            last_kind = "tens"
        elif w == "hundred":
            current = max(current, 1) * 100
            last_kind, seen_scale = "scale", True
        elif w == "thousand":
            total += max(current, 1) * 1000
            current, last_kind, seen_scale = 0, "scale", True
        else:
            return None
    return total + current


def _digits(words: list[str]) -> str | None:
    """Decimal digits after "point": "two" -> "2", "one five" -> "15", "twenty five" -> "25"."""
    out = ""
    for w in words:
        value = _integer([w])
        if value is None:
            return None
        out += str(value)
    return out or None


def spoken_numbers_to_digits(text: str) -> str:
    """Replace runs of number words in ``text`` by digits; a lone "one" stays unless a count follows.

    Args:
        text: a sentence as spoken or transcribed.

    Returns:
        The same text with numbers as digits ("ninety eight percent" -> "98 percent").
    """
    tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    out: list[str] = []
    cursor = 0
    i = 0
    while i < len(tokens):
        word = tokens[i][0]
        if not _is_number_word(word):
            i += 1
            continue
        j = i
        run: list[str] = []
        decimals: list[str] = []
        while j < len(tokens):
            w = tokens[j][0].lower()
            if _is_number_word(w) or (w == "oh" and run and not decimals):
                (decimals if decimals or (run and run[-1] == "point") else run).append(w)
                if decimals and decimals[0] == "point":
                    decimals.pop(0)
                j += 1
            elif (
                w == "and"
                and run
                and run[-1] == "hundred"
                and j + 1 < len(tokens)
                and _is_number_word(tokens[j + 1][0])
            ):
                j += 1
            elif w == "point" and run and not decimals and _number_follows(tokens, j):
                decimals.append("point")
                j += 1
            else:
                break
        if run and run[-1] == "oh":
            run.pop()
            j -= 1
        value = _integer(run)
        following = text[tokens[j - 1][2] :].lstrip()
        lone_one = run == ["one"] and not decimals and not _COUNTED.match(following)
        if value is None or lone_one:
            i = j
            continue
        number = str(value)
        if decimals:
            digits = _digits(decimals)
            if digits is None:
                i = j
                continue
            number += "." + digits
        out.append(text[cursor : tokens[i][1]])
        out.append(number)
        cursor = tokens[j - 1][2]
        i = j
    out.append(text[cursor:])
    return "".join(out)
