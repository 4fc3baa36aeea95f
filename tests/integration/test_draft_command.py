"""``python -m backend draft``: a transcript file or a spoken dialogue (espeak-ng, real whisper) -> JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backend.__main__ import main
from backend.evals.asr import speak_turns
from tests.helpers.speech import espeak_available, whisper_model_dir, write_wav

__all__ = ["whisper_model_dir"]  # fixture imported for pytest
ROOT = Path(__file__).resolve().parents[2]
DIALOGUE = """[doctor] Good morning. What brings you in today?
[patient] I have had a cough and a fever for three days.
[doctor] Are you taking any medicines at the moment?
[patient] Yes, I take metformin 500 milligrams twice daily for my diabetes.
[doctor] Any chest pain or trouble breathing?
[patient] No chest pain.
"""
UNTAGGED = "\n".join(line.split("] ", 1)[1] for line in DIALOGUE.splitlines())
ROLES = {"clinician", "patient", "other"}


@pytest.fixture
def env(tmp_path: Path, whisper_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Offline engines, the provisioned whisper model, and a data folder of the test's own."""
    values = {
        "COPILOT_DATA_DIR": str(tmp_path / "data"),
        "COPILOT_WHISPER_MODEL": str(whisper_model_dir),
        "COPILOT_STT": "whisper",
        "COPILOT_LLM": "offline",
        "COPILOT_STORE": "sqlite",
        "COPILOT_BLOBS": "local",
        "COPILOT_QUEUE": "sqlite",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture(scope="module")
def dialogue_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not espeak_available():
        pytest.skip("espeak-ng is not installed (make test installs it)")
    samples, turns = speak_turns(DIALOGUE)  # doctor and patient in two voices, as in eval scribe
    assert len(turns) == 6
    return write_wav(samples, tmp_path_factory.mktemp("speech") / "visit.wav")


def draft_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["draft", *args, "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(out) >= {"transcript", "note_text", "medications", "warnings"}
    for row in out["transcript"]:
        assert set(row) >= {"start", "end", "text", "role"} and row["role"] in ROLES
        assert row["start"] <= row["end"] and row["text"].strip()
    for med in out["medications"]:
        assert set(med) >= {"name", "strength", "frequency", "verified", "found_by"}
    assert isinstance(out["warnings"], list)
    return out


def metformin(out: dict[str, Any]) -> dict[str, Any]:
    meds = {m["name"]: m for m in out["medications"]}
    assert "metformin" in meds, out["medications"]
    return meds["metformin"]


def test_tagged_transcript_keeps_its_roles(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "visit.txt"
    path.write_text(DIALOGUE, encoding="utf-8")
    out = draft_json(capsys, "--transcript", str(path))
    assert [r["role"] for r in out["transcript"]] == ["clinician", "patient"] * 3
    assert [r["text"] for r in out["transcript"]] == UNTAGGED.splitlines()
    med = metformin(out)
    assert (med["strength"], med["frequency"], med["verified"], med["found_by"]) == (
        "500 mg", "twice daily", True, "dictionary"
    )  # fmt: skip
    assert "metformin" in out["note_text"]


def test_untagged_transcript_is_drafted_too(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "visit.txt"
    path.write_text(UNTAGGED, encoding="utf-8")
    out = draft_json(capsys, "--transcript", str(path))
    assert [r["text"] for r in out["transcript"]] == UNTAGGED.splitlines()
    assert metformin(out)["strength"] == "500 mg"


def test_spoken_dialogue_becomes_a_timed_transcript_and_a_note(
    env: dict[str, str], dialogue_wav: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = draft_json(capsys, "--audio", str(dialogue_wav))
    starts = [r["start"] for r in out["transcript"]]
    assert starts == sorted(starts) and out["transcript"][-1]["end"] > 10  # six turns, ~20 s of speech
    heard = " ".join(r["text"] for r in out["transcript"]).lower()
    assert "cough" in heard and "chest pain" in heard
    med = metformin(out)
    assert med["strength"] == "500 mg" and med["frequency"] == "twice daily"
    assert med["found_by"] in ("dictionary", "sounds_like")  # how whisper spelt it decides which
    assert "metformin" in out["note_text"]


def test_silent_recording_is_refused_with_a_message_and_exit_code_2(env: dict[str, str], tmp_path: Path) -> None:
    silent = write_wav(np.zeros(3 * 16_000, dtype=np.float32), tmp_path / "silent.wav")
    done = subprocess.run(
        [sys.executable, "-m", "backend", "draft", "--audio", str(silent), "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env={**_base_env(), **env},
    )  # fmt: skip
    assert done.returncode == 2
    assert "No speech detected" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout.strip() == ""  # no note, no JSON


def test_a_file_that_is_not_audio_is_refused_with_a_message(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "visit.wav"
    fake.write_text("these are typed notes, not a recording", encoding="utf-8")
    assert main(["draft", "--audio", str(fake), "--json"]) == 2
    captured = capsys.readouterr()
    assert "not audio" in captured.err and "wav" in captured.err
    assert captured.out.strip() == ""


def test_a_missing_file_is_named(env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draft", "--transcript", str(tmp_path / "nowhere.txt")]) == 2
    assert "nowhere.txt is not a file" in capsys.readouterr().err


def _base_env() -> dict[str, str]:
    """This process's environment without settings of the app (the test sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
