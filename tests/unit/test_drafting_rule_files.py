"""The drafter's word patterns are data: each row is checked when the file is read, and a bad row names its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.domain.drafting.rules import (
    CUE_SIDES,
    DATA_DIR,
    PATTERN_SIDES,
    RuleFileError,
    check_rule_files,
    context_patterns,
    read_context_cues,
    read_context_patterns,
)

HEADER = "kind,pattern,example\n# a comment line is skipped but still counted\n"


def _file(tmp_path: Path, *rows: str) -> Path:
    """A patterns file with one row of every kind (so none is missing) and then ``rows``."""
    example = {"before": "x [m]", "after": "[m] x", "next": "[m] ... x"}
    good = [f"{kind},x,{example[side]}" for kind, side in PATTERN_SIDES.items()]
    path = tmp_path / "context_patterns.csv"
    path.write_text(HEADER + "\n".join([*good, *rows]) + "\n", encoding="utf-8")
    return path


def test_the_shipped_rule_files_load_and_every_example_matches() -> None:
    check_rule_files()
    assert set(context_patterns()) == set(PATTERN_SIDES)
    assert read_context_patterns(DATA_DIR / "context_patterns.csv").keys() == context_patterns().keys()


def test_a_well_formed_file_gives_one_regex_per_kind(tmp_path: Path) -> None:
    patterns = read_context_patterns(_file(tmp_path, r'result_after,"^\s*levels?\b",your [b12] level'))
    assert patterns["result_after"].match(" levels were fine")
    assert patterns["result_after"].match("x")  # the first row of the kind is still an alternative


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("resut_after,x,[m] x", "unknown kind 'resut_after'"),
        ("result_after,(unclosed,[m] (unclosed", "does not compile"),
        ("result_after,levels,[m] was low", "does not match its example"),
        ("tried_before,tried,[m] tried it", "does not match its example"),  # matched on the wrong side
        ("failed_next,^it,[m] it did not help", "does not match its example"),  # not in the next sentence
        ("result_after,x,x without a mention", "mark one mention in [brackets]"),
        ("result_after,x", "2 fields, the header has 3"),
    ],
)
def test_a_bad_row_is_an_error_naming_the_file_and_line(tmp_path: Path, row: str, says: str) -> None:
    path = _file(tmp_path, row)
    line = len(path.read_text(encoding="utf-8").splitlines())  # the bad row is the last line
    with pytest.raises(RuleFileError) as err:
        read_context_patterns(path)
    assert f"{path}:{line}: " in str(err.value) and says in str(err.value)


def test_a_kind_with_no_row_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "context_patterns.csv"
    path.write_text(HEADER + "result_after,x,[m] x\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match="no row of kind"):
        read_context_patterns(path)


def _cues(tmp_path: Path, row: str) -> Path:
    path = tmp_path / "context_cues.csv"
    path.write_text(
        "cue,kind,example\n# kinds: see the shipped file\nmother,family,my mother has [asthma]\n" + row + "\n",
        encoding="utf-8",
    )
    return path


def test_the_shipped_cues_are_read_with_their_examples() -> None:
    cues = read_context_cues(DATA_DIR / "context_cues.csv")
    assert set(cues) == set(CUE_SIDES)
    assert cues["family"].search("my mother has asthma") and cues["not_post"].search("cva tenderness")


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("mother,famly,my mother has [asthma]", "need a cue and a kind"),
        (",family,my mother has [asthma]", "need a cue and a kind"),
        ("tenderness,not_post,tenderness over the [cva]", "does not say 'tenderness' after the [mention]"),
        ("father,family,my mother has [asthma]", "does not say 'father' before the [mention]"),
        ("father,family,my father has asthma", "mark one mention in [brackets]"),
    ],
)
def test_a_bad_cue_row_is_an_error_naming_the_file_and_line(tmp_path: Path, row: str, says: str) -> None:
    path = _cues(tmp_path, row)
    with pytest.raises(RuleFileError) as err:
        read_context_cues(path)
    assert f"{path}:4: " in str(err.value) and says in str(err.value)


def test_a_cue_row_on_either_side_passes(tmp_path: Path) -> None:
    cues = read_context_cues(_cues(tmp_path, "do not want,refused,the [statin] ? i do not want it"))
    assert cues["refused"].search("i do not want it")
