"""`python -m backend eval asr`: normalisation rules, ACI-Bench synthesis, and a real scoring run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from backend.__main__ import main
from backend.evals import asr
from tests.helpers.speech import whisper, whisper_model_dir

__all__ = ["whisper", "whisper_model_dir"]  # fixtures imported for pytest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The patient takes metformin 500mg twice daily.", "the patient takes metformin 500 mg twice daily"),
        ("five hundred milligrams", "500 mg"),
        ("a hundred and twenty one", "121"),
        ("BP 120/80, ten thirty, one point five", "bp 120 slash 80 10 30 1.5"),
        ("one hundred twenty slash eighty", "120 slash 80"),
        ("i do n't know , uh , fifty eight year old", "i do not know 58 year old"),
        ("Mm-hmm. Okay, 58-year-old", "ok 58 year old"),
        ("one, two, three", "1 2 3"),
        ("1,000 units", "1000 units"),
    ],
)
def test_normalise_both_sides_meet(text: str, expected: str) -> None:
    assert asr.normalise(text) == expected


def test_wer_ignores_spelling_of_numbers_and_case() -> None:
    assert asr.wer("Take five hundred milligrams of Metformin.", "take 500 mg of metformin") == 0.0
    assert asr.wer("take metformin daily", "take metoprolol daily") == pytest.approx(1 / 3)
    assert asr.wer("", "") == 0.0


def test_aci_turns_are_rejoined() -> None:
    assert asr._clean_turn("i do n't know if it 's the change , ok ?") == "i don't know if it's the change, ok?"


def test_eval_runs_on_a_synthesised_aci_excerpt(
    shared_data: Path, tmp_path: Path, whisper_model_dir: Path, whisper: object, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = shared_data / "aci-bench" / "valid.csv"
    written = asr.make_from_aci(csv_path, tmp_path, n=1, seconds=12)
    assert [p.name for p in written] == ["aci_00.wav"]
    reference = (tmp_path / "aci_00.txt").read_text()
    assert "[doctor]" not in reference and reference.strip()

    code = main(["eval", "asr", "--audio-dir", str(tmp_path), "--model", str(whisper_model_dir), "--json"])
    assert code == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["files"] == 1
    assert figures["audio_seconds"] >= 12
    assert 0 <= figures["wer"] <= 0.35  # a short excerpt: measured ~0.1; the 10-clip figure is in the report
    assert 0 < figures["rtf"] < 2
    assert figures["per_file"][0]["file"] == "aci_00.wav"


def test_eval_refuses_an_empty_folder(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    asr.add_arguments(parser)
    with pytest.raises(SystemExit, match="no audio"):
        asr.run(parser.parse_args(["--audio-dir", str(tmp_path)]))
