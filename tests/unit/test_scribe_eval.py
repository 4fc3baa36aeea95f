"""``eval scribe``: word-level role accuracy, drug precision/recall, the synthesised consultations' sidecars."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.domain.drafting import draft_note
from backend.domain.models import Segment
from backend.evals import scribe
from backend.evals.asr import SAMPLE_RATE

SECONDS_PER_WORD = 0.1


def fake_speak(calls: list[tuple[str, str]]) -> Any:
    """A synthesiser that records what it was asked and returns a tone of 0.1 s per word (PyAV hears it)."""

    def speak(text: str, tag: str) -> NDArray[np.float32]:
        calls.append((text, tag))
        t = np.arange(int(len(text.split()) * SECONDS_PER_WORD * SAMPLE_RATE)) / SAMPLE_RATE
        return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)

    return speak


def write_aci(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["dialogue", "note"])
        writer.writeheader()
        writer.writerows({"dialogue": d, "note": n} for d, n in rows)
    return path


DIALOGUE = (
    "[doctor] hi , brian . how are you ?\n"
    "[patient] . \n"  # nothing to say: skipped, takes no time
    "[patient] i do n't feel well .\n"
    "[patient_guest] he takes lisinopril 20 mg .\n"
)
NOTE = "The patient takes lisinopril 20 mg daily. Start metformin 500 mg twice daily."


# --- role accuracy ---------------------------------------------------------------------------------


def test_role_accuracy_compares_each_aligned_word_with_its_reference_turn() -> None:
    reference = [("hi", "clinician"), ("how", "clinician"), ("are", "clinician"), ("you", "clinician"),
                 ("i", "patient"), ("am", "patient"), ("fine", "patient")]  # fmt: skip
    # "are" deleted, "you" heard as "yew" (substituted: still compared), "well" inserted (aligned to no turn);
    # "i" given to the clinician (the change of speaker came one word late).
    hypothesis = [("hi", "clinician"), ("how", "clinician"), ("yew", "clinician"), ("i", "clinician"),
                  ("am", "patient"), ("fine", "patient"), ("well", "patient")]  # fmt: skip
    score = scribe.role_score(reference, hypothesis)
    assert (score.correct, score.aligned, score.inserted) == (5, 6, 1)
    assert score.accuracy == pytest.approx(5 / 6)


def test_words_without_a_role_count_as_wrong_and_empty_sides_score_nothing() -> None:
    reference = scribe.role_words([("I take five hundred milligrams.", "patient")])
    assert reference == [("i", "patient"), ("take", "patient"), ("500", "patient"), ("mg", "patient")]
    unlabelled = scribe.role_words([("I take 500 mg", "unknown")])
    assert scribe.role_score(reference, unlabelled).accuracy == 0.0
    assert scribe.role_score(reference, []).accuracy is None
    assert scribe.role_score([], unlabelled).inserted == 4


def test_tags_map_to_the_apps_roles() -> None:
    assert [scribe.turn_role(t) for t in ("doctor", "patient", "patient_guest", "nurse")] == [
        "clinician", "patient", "other", "other"
    ]  # fmt: skip


# --- drugs -----------------------------------------------------------------------------------------


def test_reference_drugs_are_lower_case_generic_names() -> None:
    found = scribe.reference_drugs("Continue Lisinopril 20 mg daily. Start Lasix 40 mg. Tylenol as needed.")
    assert found == {"lisinopril", "furosemide", "paracetamol"}


def test_drug_precision_and_recall_are_micro_averaged_over_consultations() -> None:
    first = scribe.drug_counts({"lisinopril", "furosemide"}, {"lisinopril"})
    second = scribe.drug_counts({"metformin"}, {"metformin", "aspirin", "ibuprofen"})
    total = first + second
    assert (total.found, total.reference, total.correct) == (4, 3, 2)
    assert total.precision == pytest.approx(2 / 4)  # not the mean of 1.0 and 1/3
    assert total.recall == pytest.approx(2 / 3)
    nothing = scribe.drug_counts(set(), set())
    assert nothing.precision is None and nothing.recall is None


# --- synthesised consultations ---------------------------------------------------------------------


def test_sidecar_records_every_spoken_turn_with_times_and_roles(tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []
    aci = write_aci(tmp_path / "valid.csv", [(DIALOGUE, NOTE), ("[doctor] second visit .", "Second note.")])
    wavs = scribe.synthesise(aci, tmp_path / "audio", 1, speak=fake_speak(calls))

    assert [w.name for w in wavs] == ["aci_00.wav"]
    assert calls == [("hi, brian. how are you?", "doctor"), ("i don't feel well.", "patient"),
                     ("he takes lisinopril 20 mg.", "patient_guest")]  # fmt: skip
    side = json.loads((tmp_path / "audio" / "aci_00.json").read_text())
    turns = side["turns"]
    assert [(t["tag"], t["role"]) for t in turns] == [
        ("doctor", "clinician"), ("patient", "patient"), ("patient_guest", "other")
    ]  # fmt: skip
    assert turns[0]["start"] == 0.0 and turns[0]["end"] == pytest.approx(5 * SECONDS_PER_WORD)
    assert turns[1]["start"] == pytest.approx(turns[0]["end"] + 0.35)  # the gap between turns
    assert side["seconds"] == turns[-1]["end"]
    assert side["note"] == NOTE and side["source"] == {"file": "valid.csv", "row": 0}
    import wave

    with wave.open(str(wavs[0])) as w:  # the audio holds every turn and the gaps after them
        assert w.getframerate() == SAMPLE_RATE
        assert w.getnframes() / SAMPLE_RATE == pytest.approx(turns[-1]["end"] + 0.35, abs=0.01)


def test_a_row_range_is_spoken_into_files_named_by_their_rows(tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []
    rows = [(f"[doctor] visit number {i} .", f"Note {i}.") for i in range(4)]
    aci = write_aci(tmp_path / "train.csv", rows)
    wavs = scribe.synthesise(aci, tmp_path / "audio", 2, speak=fake_speak(calls), first=1)
    assert [w.name for w in wavs] == ["aci_01.wav", "aci_02.wav"]
    assert [c[0] for c in calls] == ["visit number 1.", "visit number 2."]
    side = json.loads((tmp_path / "audio" / "aci_02.json").read_text())
    assert side["source"] == {"file": "train.csv", "row": 2} and side["note"] == "Note 2."


def test_existing_audio_is_reused_and_audio_of_another_file_refused(tmp_path: Path) -> None:
    calls: list[tuple[str, str]] = []
    aci = write_aci(tmp_path / "valid.csv", [(DIALOGUE, NOTE)])
    scribe.synthesise(aci, tmp_path / "audio", 1, speak=fake_speak(calls))
    spoken = len(calls)
    scribe.synthesise(aci, tmp_path / "audio", 1, speak=fake_speak(calls))
    assert len(calls) == spoken  # nothing spoken again

    other = write_aci(tmp_path / "train.csv", [(DIALOGUE, NOTE)])
    with pytest.raises(SystemExit, match=r"made from .*valid\.csv"):
        scribe.synthesise(other, tmp_path / "audio", 1, speak=fake_speak(calls))


def test_an_mts_dialogue_is_spoken_with_aci_tags_against_its_section_text(tmp_path: Path) -> None:
    path = tmp_path / "MTS.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["ID", "section_header", "section_text", "dialogue"])
        writer.writeheader()
        writer.writerow({"ID": "0", "section_header": "GENHX", "section_text": "Well.", "dialogue": "Doctor: Hi."})
        dialogue = ("Doctor: Any medicines?\r\nPatient: Metformin,\r\ntwice a day.\r\n"
                    "Guest_family_1: And aspirin.\r\nGuest_clinician: Time: noon.")  # fmt: skip
        writer.writerow(
            {"ID": "1", "section_header": "MEDICATIONS", "section_text": "Metformin, aspirin.", "dialogue": dialogue}
        )
    calls: list[tuple[str, str]] = []
    [wav] = scribe.synthesise(path, tmp_path / "audio", 1, speak=fake_speak(calls), mts_section="medications", mts=True)

    assert wav.name == "mts_000.wav"  # the first row of the section
    # A line naming no speaker goes on with the turn before; a colon inside a turn is not a speaker.
    assert calls == [("Any medicines?", "doctor"), ("Metformin,", "patient"), ("twice a day.", "patient"),
                     ("And aspirin.", "patient_guest"), ("Time: noon.", "doctor")]  # fmt: skip
    side = json.loads(wav.with_suffix(".json").read_text())
    assert side["note"] == "Metformin, aspirin."
    assert side["source"] == {"file": "MTS.csv", "row": 0, "section": "MEDICATIONS"}
    assert [t["role"] for t in side["turns"]] == ["clinician", "patient", "patient", "other", "clinician"]


def test_a_section_is_refused_with_aci_bench_rows_before_anything_is_spoken(tmp_path: Path) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    scribe.add_arguments(parser)
    aci = write_aci(tmp_path / "valid.csv", [(DIALOGUE, NOTE)])
    args = parser.parse_args(["--aci", str(aci), "--section", "MEDICATIONS", "--audio-dir", str(tmp_path / "a")])
    with pytest.raises(SystemExit, match=r"--section .* --mts"):
        scribe.run(args)
    assert not (tmp_path / "a").exists()


# --- one consultation through the pipeline, with a transcriber that hears every word -------------------


class EchoTranscriber:
    """Hears exactly the turns of a sidecar (no speaker labels), as one segment per turn."""

    name = "echo"

    def __init__(self, turns: list[dict[str, Any]]) -> None:
        self.turns = turns

    def transcribe(self, samples: NDArray[np.float32]) -> list[Segment]:
        return [Segment(id=i, start=t["start"], end=t["end"], text=t["text"]) for i, t in enumerate(self.turns)]


def test_a_consultation_is_scored_on_all_three_paths(tmp_path: Path) -> None:
    from rouge_score import rouge_scorer

    aci = write_aci(tmp_path / "valid.csv", [(DIALOGUE, NOTE)])
    [wav] = scribe.synthesise(aci, tmp_path / "audio", 1, speak=fake_speak([]))
    turns = json.loads(wav.with_suffix(".json").read_text())["turns"]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"], use_stemmer=True)

    row = scribe.score_consultation(wav, EchoTranscriber(turns), draft_note, scorer)

    assert row["wer"] == 0.0
    assert set(row["rouge"]) == set(scribe.PATHS) and row["rouge"]["audio"]["rouge1"] > 0
    assert row["drugs_reference"] == ["lisinopril", "metformin"]
    assert row["drugs_found"]["tagged_text"] == ["lisinopril"]
    assert row["_drugs"]["audio"].correct == row["_drugs"]["tagged_text"].correct == 1
    assert row["rtf"] > 0 and row["audio_to_draft_seconds"] > 0
    figures = scribe.totals([row, row])
    assert figures["consultations"] == 2 and figures["wer"] == 0.0
    assert figures["drugs"]["tagged_text"] == {
        "precision": 1.0, "recall": 0.5, "found": 2, "reference": 4, "correct": 2
    }  # fmt: skip
    assert figures["rouge"]["audio"]["rouge1"] == row["rouge"]["audio"]["rouge1"]
    # Kept beside the recording: the audio path's report and the words it is scored on.
    kept = json.loads(scribe.keep_draft(wav, row).read_text(encoding="utf-8"))
    assert kept["note_text"] and [t["text"] for t in kept["transcript"]] == [t["text"] for t in turns]
    assert kept["heard_words"] == kept["reference_words"] == row["_words"][0]
