"""Rule files of the drafter (``backend/data/drafting``), read once per process."""

from __future__ import annotations

import csv
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "drafting"


def _toml(name: str) -> dict[str, Any]:
    with (DATA_DIR / name).open("rb") as fh:
        return tomllib.load(fh)


def _csv_rows(name: str) -> list[dict[str, str]]:
    """The rows of a rule file of ``DATA_DIR`` (read as :func:`_numbered_rows` reads them, without line numbers)."""
    return [row for _, row in _numbered_rows(DATA_DIR / name)]


def phrase_regex(phrases: list[str]) -> re.Pattern[str]:
    """One case-insensitive regex matching any phrase on word boundaries, longest first."""
    ordered = sorted({p.strip().lower() for p in phrases if p.strip()}, key=len, reverse=True)
    body = "|".join(re.escape(p) for p in ordered)
    return re.compile(rf"(?<![\w'-])(?:{body})(?![\w'-])", re.IGNORECASE)


@dataclass(frozen=True)
class Lexicon:
    """Canonical names and the regex that finds any of their synonyms."""

    regex: re.Pattern[str]
    canonical: dict[str, str]  # lower-cased synonym -> canonical name
    cased: dict[str, str] = field(default_factory=dict)  # lower-cased synonym -> as written, when it has capitals

    def display(self, name: str) -> str:
        """A canonical name as clinicians write it ("gerd" -> "GERD", "crohn's disease" -> "Crohn's disease")."""
        return self.cased.get(name.lower(), name)

    def restore_case(self, text: str) -> str:
        """``text`` with every abbreviation or eponym of the lexicon as written in the file ("possible GERD")."""
        if not self.cased:
            return text
        return self.regex.sub(lambda m: self.cased.get(m.group(0).lower(), m.group(0)), text)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, canonical)`` of every mention in ``text``."""
        return [(m.start(), m.end(), self.canonical[m.group(0).lower()]) for m in self.regex.finditer(text)]


def _lexicon(name: str) -> Lexicon:
    canonical: dict[str, str] = {}
    cased: dict[str, str] = {}  # abbreviations and eponyms keep their capitals in the file ("GERD", "Crohn's")
    for row in _csv_rows(name):
        for synonym in row["synonyms"].split("|"):
            canonical.setdefault(synonym.strip().lower(), row["name"].strip())
            if synonym.strip() != synonym.strip().lower():
                cased.setdefault(synonym.strip().lower(), synonym.strip())
    return Lexicon(phrase_regex(list(canonical)), canonical, cased)


@cache
def symptoms() -> Lexicon:
    """Symptom lexicon (``symptoms.csv``)."""
    return _lexicon("symptoms.csv")


@cache
def diagnoses() -> Lexicon:
    """Condition lexicon (``diagnoses.csv``)."""
    return _lexicon("diagnoses.csv")


@cache
def negation_cues() -> dict[str, re.Pattern[str]]:
    """Negation cue regexes by kind: pre, post, pseudo, term, hypo (``negation_cues.csv``)."""
    kinds: dict[str, list[str]] = {}
    for row in _csv_rows("negation_cues.csv"):
        kinds.setdefault(row["kind"].strip(), []).append(row["cue"])
    return {kind: phrase_regex(cues) for kind, cues in kinds.items()}


# The kinds of ``context_cues.csv`` the drafter reads (a row of another kind is a mistake in the file) and the side
# of the mention the cue is said on ("either": before or after it; "mention": the cue is the mention's own word).
CUE_SIDES = {
    "family": "before",
    "other": "before",
    "patient": "before",
    "not_pre": "before",
    "not_post": "after",
    "conditional": "before",
    "hypothetical": "before",
    "refused": "either",
    "avoid": "before",
    "not_taking": "before",
    "result": "after",
    "result_pre": "before",
    "everyday": "mention",
    "allergy": "before",
}
# The kinds of ``context_patterns.csv`` and the side of the mention each is matched on.
PATTERN_SIDES = {
    "result_after": "after",
    "result_before": "before",
    "goal_after_avoid": "after",
    "example_before": "before",
    "used_to_before": "before",
    "past_before": "before",
    "past_after": "after",
    "tried_before": "before",
    "failed_after": "after",
    "failed_next": "next",
    "unsure_before": "before",
    "family_after": "after",
}


class RuleFileError(ValueError):
    """A row of a rule file the drafter cannot use; the message names the file and the line."""


def _numbered_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of a CSV rule file, skipping blank and ``#`` comment lines."""
    with path.open(encoding="utf-8", newline="") as fh:
        numbered = [(n, line) for n, line in enumerate(fh, start=1) if line.strip() and not line.startswith("#")]
    if not numbered:
        raise RuleFileError(f"{path}: no header row")
    header = next(csv.reader([numbered[0][1]]))
    rows = []
    for n, line in numbered[1:]:
        values = next(csv.reader([line]))
        if len(values) != len(header):
            raise RuleFileError(f"{path}:{n}: {len(values)} fields, the header has {len(header)}: {line.strip()}")
        rows.append((n, {k: v.strip() for k, v in zip(header, values, strict=True)}))
    return rows


@cache
def context_cues() -> dict[str, re.Pattern[str]]:
    """Whose a mention is and whether it is a finding at all, by kind (``context_cues.csv``)."""
    return read_context_cues(DATA_DIR / "context_cues.csv")


def read_context_cues(path: Path) -> dict[str, re.Pattern[str]]:
    """The cue phrases of a ``context_cues.csv``-shaped file by kind, checked row by row.

    Raises:
        RuleFileError: a row with no cue, a kind the drafter does not read, or an example that does not say the cue
            on its side of the [mention].
    """
    kinds: dict[str, list[str]] = {}
    for n, row in _numbered_rows(path):
        cue, kind = row["cue"], row["kind"]
        if not cue or kind not in CUE_SIDES:
            raise RuleFileError(f"{path}:{n}: need a cue and a kind among {', '.join(CUE_SIDES)}: {cue},{kind}")
        before, mention, after = _marked(path, n, row.get("example", ""))
        side = {"before": before, "after": after, "either": f"{before} | {after}", "mention": mention}[CUE_SIDES[kind]]
        if phrase_regex([cue]).search(side) is None:
            raise RuleFileError(f"{path}:{n}: the example does not say {cue!r} {CUE_SIDES[kind]} the [mention]")
        kinds.setdefault(kind, []).append(cue)
    return {kind: phrase_regex(cues) for kind, cues in kinds.items()}


def _marked(path: Path, n: int, example: str) -> tuple[str, str, str]:
    """``(before, mention, after)`` of an example with one ``[mention]``."""
    marked = re.fullmatch(r"([^\[\]]*)\[([^\[\]]+)\]([^\[\]]*)", example)
    if marked is None:
        raise RuleFileError(f"{path}:{n}: the example must mark one mention in [brackets]: {example!r}")
    return marked.group(1), marked.group(2), marked.group(3)


def _check_pattern(path: Path, n: int, kind: str, regex: re.Pattern[str], example: str) -> None:
    """The row's example must show the pattern at work: it must match on the example's side of the mention."""
    before, _, after = _marked(path, n, example)
    side = {"before": before, "after": after, "next": after.partition(" ... ")[2]}[PATTERN_SIDES[kind]]
    if regex.search(side) is None:
        raise RuleFileError(
            f"{path}:{n}: the pattern does not match its example {example!r} {PATTERN_SIDES[kind]} the mention"
        )


@cache
def context_patterns() -> dict[str, re.Pattern[str]]:
    """Word patterns around a mention, by kind (``context_patterns.csv``): the alternatives of a kind as one regex."""
    return read_context_patterns(DATA_DIR / "context_patterns.csv")


def read_context_patterns(path: Path) -> dict[str, re.Pattern[str]]:
    """The patterns of a ``context_patterns.csv``-shaped file, checked row by row.

    Raises:
        RuleFileError: a row of an unknown kind, a pattern that does not compile or that does not match its
            example, a malformed row, or a kind with no row.
    """
    kinds: dict[str, list[str]] = {}
    for n, row in _numbered_rows(path):
        kind, pattern, example = row["kind"], row["pattern"], row["example"]
        if kind not in PATTERN_SIDES:
            raise RuleFileError(f"{path}:{n}: unknown kind {kind!r} (known: {', '.join(PATTERN_SIDES)})")
        try:
            regex = re.compile(pattern)
        except re.error as err:
            raise RuleFileError(f"{path}:{n}: the pattern does not compile ({err}): {pattern}") from err
        _check_pattern(path, n, kind, regex, example)
        kinds.setdefault(kind, []).append(pattern)
    missing = sorted(set(PATTERN_SIDES) - set(kinds))
    if missing:
        raise RuleFileError(f"{path}: no row of kind {', '.join(missing)}")
    return {kind: re.compile("|".join(f"(?:{p})" for p in patterns)) for kind, patterns in kinds.items()}


def check_rule_files() -> None:
    """Read and check the rule files whose rows are validated, so a bad row stops start-up, not a draft."""
    context_cues()
    context_patterns()


@cache
def vitals() -> dict[str, dict[str, Any]]:
    """Vital-sign patterns and plausible ranges by kind (``vitals.toml``), patterns compiled."""
    table = _toml("vitals.toml")
    for spec in table.values():
        spec["compiled"] = [re.compile(p, re.IGNORECASE) for p in spec["patterns"]]
    return table


@cache
def sections() -> dict[str, Any]:
    """Section routing cues, chief-complaint, follow-up and allergy rules (``sections.toml``)."""
    table = _toml("sections.toml")
    for kind in ("exam", "results", "assessment", "plan", "hpi"):
        table[kind]["regex"] = phrase_regex(table[kind]["cues"])
    # An instruction opens the sentence, after openers such as "so", "okay" or "and".
    table["plan"]["imperative_regex"] = re.compile(
        r"^(?:(?:so|okay|ok|and|now|alright|all right|well|then|also|yeah|um|uh)[\s,]+)*"
        + phrase_regex(table["plan"]["imperatives"]).pattern,
        re.IGNORECASE,
    )
    table["chief_complaint"]["regex"] = phrase_regex(table["chief_complaint"]["cues"])
    table["chief_complaint"]["question_regex"] = phrase_regex(table["chief_complaint"]["questions"])
    table["follow_up"]["compiled"] = [re.compile(p, re.IGNORECASE) for p in table["follow_up"]["patterns"]]
    table["allergies"]["compiled"] = [re.compile(p, re.IGNORECASE) for p in table["allergies"]["patterns"]]
    table["allergies"]["none_regex"] = phrase_regex(table["allergies"]["none"])
    return table


@cache
def text_rules() -> dict[str, Any]:
    """Filler, opener, small-talk, verb and question rules (``text.toml``)."""
    table = _toml("text.toml")
    # A filler takes its commas with it: "feeling, uh, tired" -> "feeling tired".
    table["filler_regex"] = re.compile(r",?\s*(?:" + phrase_regex(table["fillers"]).pattern + r")\s*,?", re.IGNORECASE)
    table["opener_regex"] = re.compile(
        r"^(?:"
        + "|".join(re.escape(o) for o in sorted(table["openers"], key=len, reverse=True))
        + r")(?![\w'-])[\s,.!]*",
        re.IGNORECASE,
    )
    table["chit_chat_regex"] = phrase_regex(table["chit_chat"])
    table["question_regex"] = re.compile(
        r"^(?:"
        + "|".join(re.escape(q) for q in sorted(table["question_prefixes"], key=len, reverse=True))
        + r")(?![\w'-])\s*",
        re.IGNORECASE,
    )
    table["run_on_regex"] = re.compile(r"\s(?=(?:" + "|".join(table["run_on_boundaries"]) + "))", re.IGNORECASE)
    table["question_start_regex"] = re.compile(r"^(?:" + "|".join(table["question_starts"]) + ")", re.IGNORECASE)
    table["verb_set"] = frozenset(table["verbs"])
    table["yes_set"] = frozenset(table["answers_yes"])
    table["no_set"] = frozenset(table["answers_no"])
    return table


@cache
def stopwords() -> frozenset[str]:
    """Words that carry no content (``text.toml``)."""
    return frozenset(text_rules()["stopwords"])
