"""`eval asr` scores the whole consultations `eval scribe` made, from their sidecars, without speaking them again."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from backend.bench import scribe as bench_scribe
from backend.evals import asr


def _sidecar(path: Path, turns: list[str]) -> None:
    path.write_text(
        json.dumps({"turns": [{"tag": "doctor", "start": 0, "end": 1, "text": t} for t in turns], "note": "n"}),
        encoding="utf-8",
    )


def test_a_sidecar_is_a_reference_and_a_txt_wins_over_it(tmp_path: Path) -> None:
    for name in ("aci_00", "aci_01", "aci_02"):
        (tmp_path / f"{name}.wav").write_bytes(b"RIFF")
    _sidecar(tmp_path / "aci_00.json", ["hi, how are you?", "fine, thanks."])
    _sidecar(tmp_path / "aci_01.json", ["not this"])
    (tmp_path / "aci_01.txt").write_text("this one\n", encoding="utf-8")
    # aci_02 has no reference: not scored

    found = asr.pairs(tmp_path)

    assert [(a.name, r.name) for a, r in found] == [("aci_00.wav", "aci_00.json"), ("aci_01.wav", "aci_01.txt")]
    assert asr.reference_text(found[0][1]) == "hi, how are you?\nfine, thanks."
    assert asr.reference_text(found[1][1]) == "this one\n"


def test_the_bench_submits_the_given_recording_for_the_cold_and_every_warm_job(tmp_path: Path) -> None:
    recording = tmp_path / "ten.wav"
    recording.write_bytes(b"RIFF-ten-minutes")
    args = argparse.Namespace(audio=recording, runs=2, aci=tmp_path / "unused.csv", seconds=60.0)

    assert bench_scribe._recordings(args) == [b"RIFF-ten-minutes"] * 3
