"""``eval notes``: ACI-Bench dialogues become segments, drafts beat the copy baseline on real rows."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from backend.domain.errors import ValidationFailed
from backend.evals import notes

ROOT = Path(__file__).resolve().parents[2]
VALID = Path(os.environ.get("COPILOT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "aci-bench" / "valid.csv"


def test_dialogue_turns_become_segments_with_speakers_and_times() -> None:
    segs = notes.dialogue_to_segments("[doctor] hi , how are you ?\n[patient] i have a cough .\nstill coughing\n")
    assert [(s.id, s.speaker) for s in segs] == [(0, "doctor"), (1, "patient")]
    assert segs[1].text == "i have a cough . still coughing"
    assert segs[0].start == 0 and segs[0].end <= segs[1].start < segs[1].end


def test_a_csv_without_the_columns_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="dialogue, note"):
        notes.read_rows(bad, None)
    with pytest.raises(ValidationFailed, match="does not exist"):
        notes.read_rows(tmp_path / "missing.csv", None)


def test_drafts_beat_copying_the_transcript_on_aci_bench() -> None:
    assert VALID.is_file(), f"ACI-Bench data missing at {VALID}; set COPILOT_SHARED_DATA"
    result = notes.run(argparse.Namespace(aci=VALID, limit=4, show=None, json=False))
    assert result["rows"] == 4
    assert result["drafter"]["rouge1"] > result["copy_baseline"]["rouge1"] + 5
    assert result["drafter"]["rouge1"] > 40
    assert result["mean_words_draft"] < 1.5 * result["mean_words_reference"]


def test_section_placement_counts_the_words_in_the_part_the_mts_header_names() -> None:
    from backend.domain.note_content import DraftSentence, NoteContent

    draft = NoteContent(
        sentences=[
            DraftSentence(section="subjective", kind="chief_complaint", text="Knee pain."),
            DraftSentence(section="subjective", kind="hpi", text="The knee hurts on stairs."),
            DraftSentence(section="plan", kind="plan", text="Start physical therapy."),
        ]
    )
    assert notes.section_placement(draft, "PLAN") == pytest.approx(3 / 8)
    assert notes.section_placement(draft, "DISPOSITION") == pytest.approx(3 / 8)
    assert notes.section_placement(draft, "GENHX") == pytest.approx(5 / 8)  # history headers are subjective
    assert notes.section_placement(NoteContent(), "PLAN") is None


def test_mts_rows_keep_their_section_header(tmp_path: Path) -> None:
    csv_file = tmp_path / "mts.csv"
    csv_file.write_text(
        'ID,section_header,section_text,dialogue\n0,PLAN,"Start therapy.","Doctor: Start therapy.\nPatient: Okay."\n',
        encoding="utf-8",
    )
    rows = notes.read_mts_rows(csv_file, None)
    assert rows == [{"dialogue": "Doctor: Start therapy.\nPatient: Okay.", "note": "Start therapy.", "section": "PLAN"}]
