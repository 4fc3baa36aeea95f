"""Pause-aligned decoding clips (packed into Whisper windows, cut at the longest pause) and the checks that
send a clip back to be decoded again (loops, text too long or short for its seconds)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from backend.adapters.speech import whisper_stt
from backend.adapters.speech.whisper_plan import SAMPLE_RATE, SpeechPlan, pack_clips, split_at_longest_pause
from backend.adapters.speech.whisper_repetition import is_loop, repetition_problem, without_loops
from backend.adapters.speech.whisper_stt import WhisperTranscriber
from backend.domain.errors import ProviderUnavailable
from backend.domain.prompt_readout import words_of


def _turns(n: int, sentence: float = 2.5, breath: float = 0.25, turn_gap: float = 1.0) -> list[tuple[float, float]]:
    """``n`` turns of two sentences each: a short breath inside a turn, a longer pause between turns."""
    regions, t = [], 0.5
    for _ in range(n):
        regions.append((t, t + sentence))
        t += sentence + breath
        regions.append((t, t + sentence))
        t += sentence + turn_gap
    return regions


def test_clips_fit_a_window_cover_all_speech_and_do_not_overlap() -> None:
    regions = _turns(12)
    duration = regions[-1][1] + 0.5
    clips = pack_clips(regions, duration)
    assert all(0 < end - start <= 30.0 for start, end in clips)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(clips))
    assert all(any(cs <= rs and re <= ce for cs, ce in clips) for rs, re in regions)
    assert clips[0][0] == 0.3 and clips[-1][1] == regions[-1][1] + 0.2  # padded by 0.2 s at both ends


def test_a_clip_ends_at_the_longest_pause_not_at_a_breath() -> None:
    regions = _turns(12)
    clips = pack_clips(regions, regions[-1][1] + 0.5)
    turn_ends = {round(e, 3) for (_, e), (s, _) in itertools.pairwise(regions) if s - e > 0.5}
    assert len(clips) == 3
    for start, end in clips[:-1]:
        assert round(end - 0.2, 3) in turn_ends  # every cut is 0.2 s into a between-turn pause
        assert end - start > 20.0  # and the window is still well used


def test_greedy_packing_when_pauses_are_alike() -> None:
    regions = [(0.0, 8.0), (8.4, 17.0), (17.4, 29.0), (29.4, 35.0), (35.4, 40.0)]
    # all pauses 0.4 s: the last one that fits wins; cuts fall midway in pauses shorter than two pads
    assert pack_clips(regions, 40.0, pad=0.2) == [(0.0, 29.2), (29.2, 40.0)]


def test_an_overlong_region_stays_alone_and_no_speech_is_no_clip() -> None:
    assert pack_clips([(1.0, 45.0), (46.0, 50.0)], 50.0) == [(0.8, 45.2), (45.8, 50.0)]
    assert pack_clips([], 10.0) == []


def test_a_clip_is_split_in_its_longest_pause() -> None:
    regions = [(0.0, 5.0), (5.3, 10.0), (11.0, 15.0), (15.2, 20.0)]
    assert split_at_longest_pause(regions, (0.0, 20.2)) == [(0.0, 10.5), (10.5, 20.2)]
    assert split_at_longest_pause([(1.0, 29.0)], (0.8, 29.2)) is None  # one stretch of speech: no pause


# --- repetition and implausible text ------------------------------------------------------------


def test_a_phrase_looping_is_a_loop_but_a_stutter_is_not() -> None:
    assert repetition_problem("Ciprofloxacin, ciprofloxacin, ciprofloxacin,") == "loop"
    assert repetition_problem("I'm going to I'm going to I'm going to check your blood pressure.") == "loop"
    assert repetition_problem("no no no no") == "loop"
    # how people talk: a word said three times, a short word twice, a phrase said again later
    assert repetition_problem("I I I have actually been, it it it kind of wreaked havoc.") is None
    assert repetition_problem("A little bit of pain, and a little bit of swelling, a little bit.") is None


def test_text_that_compresses_like_a_loop_is_one() -> None:
    # a sentence coming back with one word changed is never back to back, but gzip sees through it
    days = ("single", "other", "second", "third", "fourth")
    looping = " ".join(f"please take the tablet after your food every {day} day" for day in days)
    assert not is_loop(words_of(looping))
    assert repetition_problem(looping) == "loop"
    assert repetition_problem("The patient reports a headache since Monday and some nausea in the mornings.") is None


def test_text_far_too_long_or_short_for_its_seconds() -> None:
    # Whisper "hearing" its drug list in the 0.3 s of padding after the last word of a clip
    assert repetition_problem("Pantocid, metformin, glimepiride,", 0.3) == "too long"
    assert repetition_problem("Ciprofloxacin,", 0.24) == "too long"
    assert repetition_problem("Okay.", 0.1) is None  # one short word can be stamped into a tiny interval
    assert repetition_problem("Please continue the metformin after meals.", 3.0) is None
    assert repetition_problem("Yes.", 12.0) == "too short"  # 12 s of speech, one word written: words were lost
    # 23 s of speech whose text stops mid-sentence: the dose and the rest of the turn were skipped
    assert repetition_problem("If it's not better, we'll get an MRI. I'm going to recommend we give you some", 23) == (
        "too short"
    )
    assert repetition_problem("Take the metformin with food, and call us if the dizziness comes back.", 6.0) is None
    assert repetition_problem("", 2.0) is None  # a short stretch may be a cough


def test_a_loop_is_left_out_whole_and_the_words_around_it_kept() -> None:
    text = "and we'll repeat another a record, a record, a record, a record, a record in about two months"
    said = text.split(" ")
    assert " ".join(said[k] for k in without_loops(said)) == "and we'll repeat another in about two months"
    # the prompt read out is no drug said once; a stutter under the loop counts stays as said
    assert without_loops(["Ciprofloxacin,", "ciprofloxacin,", "ciprofloxacin,", "ciprofloxacin."]) == []
    stutter = ["I", "I", "I", "have", "it", "it", "it"]
    assert without_loops(stutter) == list(range(len(stutter)))


# --- decoding a clip again when its text cannot be right (a scripted model, no real Whisper) --------------


@dataclass(frozen=True)
class _Word:
    start: float
    end: float
    word: str


@dataclass(frozen=True)
class _Said:
    start: float
    end: float
    text: str
    words: tuple[_Word, ...] | None = None


class ScriptedWhisper:
    """Stands in for ``WhisperModel``: answers by the clip's length and whether the drug list was given."""

    def __init__(self, answers: dict[tuple[float, bool], list[_Said]]) -> None:
        self.answers = answers
        self.calls: list[tuple[float, bool, float]] = []
        self.segments_decoded = 0

    def transcribe(self, audio: NDArray[np.float32], **options: Any) -> tuple[Iterator[_Said], None]:
        key = (round(len(audio) / SAMPLE_RATE, 1), "hotwords" in options)
        self.calls.append((*key, options["temperature"]))

        def lazily() -> Iterator[_Said]:  # like faster-whisper: nothing is decoded until asked for
            for said in self.answers[key]:
                self.segments_decoded += 1
                yield said

        return lazily(), None


def _transcriber(monkeypatch: pytest.MonkeyPatch, model: ScriptedWhisper) -> WhisperTranscriber:
    monkeypatch.setattr(whisper_stt, "_load_model", lambda *_args: model)
    return WhisperTranscriber("scripted-model", threads=1)


# 20 s of "speech" in two stretches with a 0.8 s pause between them
PLAN = SpeechPlan(np.zeros(20 * SAMPLE_RATE, dtype=np.float32), [(0.0, 20.0)], [], [(0.2, 9.8), (10.6, 19.8)])
OPTIONS = {"temperature": 0.0}
ASKED = "How are you feeling today, and did the new tablets help with the cough at night?"
ANSWERED = "Much better since the antibiotics, thank you, the cough has nearly gone now."
HOT = {"hotwords": "Medicines: ciprofloxacin."}


def test_a_looping_clip_is_decoded_again_in_two_halves(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ScriptedWhisper(
        {
            (20.0, True): [_Said(0.0, 19.8, "Ciprofloxacin, ciprofloxacin, ciprofloxacin, ciprofloxacin.")],
            (10.2, True): [_Said(0.0, 9.6, ASKED)],
            (9.8, True): [_Said(0.4, 9.6, ANSWERED)],
        }
    )
    whisper = _transcriber(monkeypatch, model)
    pieces = whisper.decode_clip(PLAN, (0.0, 20.0), OPTIONS, HOT)
    assert [p.text for p in pieces] == [ASKED, ANSWERED]
    assert pieces[1].start == 10.6  # times are in the recording's speech, not the half's
    assert all(temperature == 0.0 for *_key, temperature in model.calls)  # never sampled at random
    assert whisper.decode_clip(PLAN, (0.0, 20.0), OPTIONS, HOT) == pieces  # and the same every time


def test_a_half_still_wrong_is_decoded_without_the_drug_list(monkeypatch: pytest.MonkeyPatch) -> None:
    loop = [_Said(0.0, 9.6, "Metformin, metformin, metformin, metformin.")]
    model = ScriptedWhisper(
        {
            (20.0, True): [_Said(0.0, 19.8, "Metformin, metformin, metformin, metformin.")],
            (10.2, True): loop,
            (10.2, False): [
                _Said(0.0, 9.6, "Do you still take the metformin twice a day with your meals, as we said?")
            ],
            (9.8, True): [_Said(0.4, 9.6, "Yes, twice a day, with breakfast and with dinner, every single day.")],
        }
    )
    pieces = _transcriber(monkeypatch, model).decode_clip(PLAN, (0.0, 20.0), OPTIONS, HOT)
    assert [p.text for p in pieces] == [
        "Do you still take the metformin twice a day with your meals, as we said?",
        "Yes, twice a day, with breakfast and with dinner, every single day.",
    ]


def _timed(text: str, start: float, step: float) -> _Said:
    """One Whisper segment whose words are the text's pieces, ``step`` seconds each from ``start``."""
    words = tuple(_Word(start + step * i, start + step * (i + 1), w) for i, w in enumerate(text.split()))
    return _Said(start, words[-1].end, text, words)


def test_a_loop_no_reading_escapes_costs_only_its_own_words(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every reading of the first half loops where the speaker said "echocardiogram" (the prompt or not): before,
    # the whole segment went, and with it the new drug and its dose said before the loop.
    looping = _timed(
        "I want to add spironolactone 12.5 milligrams daily, and a record, a record, a record, a record.", 0.2, 0.55
    )
    model = ScriptedWhisper(
        {
            (20.0, True): [looping, _Said(10.6, 19.6, ANSWERED)],
            (10.2, True): [looping],
            (10.2, False): [looping],
            (9.8, True): [_Said(0.4, 9.6, ANSWERED)],
        }
    )
    pieces = _transcriber(monkeypatch, model).decode_clip(PLAN, (0.0, 20.0), OPTIONS, HOT)
    assert [p.text for p in pieces] == ["I want to add spironolactone 12.5 milligrams daily, and", ANSWERED]
    assert (pieces[0].start, pieces[0].end) == pytest.approx((0.2, 0.2 + 0.55 * 9))  # the kept words' own times


def test_a_clip_with_no_pause_to_cut_keeps_the_reading_with_more_plausible_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 20 s of speech with no pause: the prompted reading repeats a whole passage (a loop gzip sees), the reading
    # without the prompt has two good segments and then loops on a phrase. Before, all 20 s were dropped.
    one_stretch = SpeechPlan(np.zeros(20 * SAMPLE_RATE, dtype=np.float32), [(0.0, 20.0)], [], [(0.2, 19.8)])
    passage = f"{ASKED} {ANSWERED}"
    model = ScriptedWhisper(
        {
            (20.0, True): [_timed(f"{passage} {passage} {passage}", 0.2, 0.24)],
            (20.0, False): [
                _timed(ASKED, 0.2, 0.3),
                _timed(ANSWERED, 5.5, 0.3),
                _timed("So what I'm going, how do I'm going, how do I'm going, how do I'm going, how do", 10.0, 0.5),
            ],
        }
    )
    pieces = _transcriber(monkeypatch, model).decode_clip(one_stretch, (0.0, 20.0), OPTIONS, HOT)
    assert [p.text for p in pieces] == [ASKED, ANSWERED, "So what"]


def test_the_drug_list_read_out_over_speech_is_decoded_again_and_never_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    # MTS-Dialog: where the patient answered, the prompted reading wrote part of the prompt's list. The halves
    # read it out too; without the prompt the answer is heard.
    listed = {"hotwords": "Medicines: atorvastatin, ciprofloxacin, cetirizine, metoprolol."}
    readout = _timed("Well, cetirizine, metoprolol, atorvastatin, cetirizine, metoprolol, I think.", 10.8, 1.1)
    model = ScriptedWhisper(
        {
            (20.0, True): [_Said(0.2, 9.8, ASKED), readout],
            (10.2, True): [_Said(0.0, 9.6, ASKED)],
            (9.8, True): [_timed(readout.text, 0.4, 1.1)],
            (9.8, False): [_Said(0.4, 9.6, ANSWERED)],
        }
    )
    pieces = _transcriber(monkeypatch, model).decode_clip(PLAN, (0.0, 20.0), OPTIONS, listed)
    assert [p.text for p in pieces] == [ASKED, ANSWERED]


def test_a_readout_no_reading_escapes_keeps_only_the_words_around_it(monkeypatch: pytest.MonkeyPatch) -> None:
    listed = {"hotwords": "Medicines: atorvastatin, ciprofloxacin, cetirizine, metoprolol."}
    readout = _timed("Well, cetirizine, metoprolol, atorvastatin, cetirizine, I think so.", 0.4, 1.1)
    looping = _Said(0.4, 9.6, "So so so so so so so so.")
    model = ScriptedWhisper(
        {
            (20.0, True): [_Said(0.2, 9.8, ASKED), _timed(readout.text, 10.8, 1.1)],
            (10.2, True): [_Said(0.0, 9.6, ASKED)],
            (9.8, True): [readout],
            (9.8, False): [looping],  # the reading without the prompt loops as a whole: nothing of it is kept
        }
    )
    pieces = _transcriber(monkeypatch, model).decode_clip(PLAN, (0.0, 20.0), OPTIONS, listed)
    assert [p.text for p in pieces] == [ASKED, "Well, I think so."]
    assert not any(name in p.text.lower() for p in pieces for name in ("cetirizine", "metoprolol", "atorvastatin"))


# 20 s in four stretches: the longest pause in the middle, shorter ones inside each half
PLAN4 = SpeechPlan(
    np.zeros(20 * SAMPLE_RATE, dtype=np.float32),
    [(0.0, 20.0)],
    [],
    [(0.2, 4.8), (5.2, 9.8), (10.6, 14.8), (15.2, 19.8)],
)
SLEEP = "How have you been sleeping lately?"


def test_speech_that_really_repeats_is_cut_again_not_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    # The nurse asks the same question three times; every reading of the first half, with or without the
    # drug list, shows it three times: only shorter pieces (one question each) pass the loop check.
    thrice = [_Said(0.0, 10.0, f"{SLEEP} {SLEEP} {SLEEP}")]
    model = ScriptedWhisper(
        {
            (20.0, True): [_Said(0.0, 19.8, f"{SLEEP} {SLEEP} {SLEEP} {ANSWERED}")],
            (10.2, True): thrice,
            (10.2, False): thrice,
            (5.0, True): [_Said(0.2, 4.6, SLEEP)],
            (5.2, True): [_Said(0.2, 4.8, SLEEP)],
            (9.8, True): [_Said(0.4, 9.6, ANSWERED)],
        }
    )
    pieces = _transcriber(monkeypatch, model).decode_clip(PLAN4, (0.0, 20.0), OPTIONS, HOT)
    assert [p.text for p in pieces] == [SLEEP, SLEEP, ANSWERED]
    assert [p.start for p in pieces] == pytest.approx([0.2, 5.2, 10.6])
    # a 9.8 s half (under 10 s) is never cut again, and no piece is cut a third time
    assert (4.9, True) not in {key[:2] for key in model.calls}


def test_the_silent_tail_of_a_clip_is_not_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ScriptedWhisper(
        {
            (20.0, True): [
                _Said(0.2, 9.8, ASKED),
                _Said(10.6, 19.7, ANSWERED),
                _Said(19.7, 20.0, "Ciprofloxacin,"),  # what Whisper "hears" in the padding after the speech
            ]
        }
    )
    pieces = _transcriber(monkeypatch, model).decode_clip(PLAN, (0.0, 20.0), OPTIONS, HOT)
    assert [p.text for p in pieces] == [ASKED, ANSWERED]
    assert model.segments_decoded == 2  # the tail was never asked for


def test_speech_left_unread_at_the_end_of_a_clip_is_decoded_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ScriptedWhisper(
        {
            # Whisper closes the window after the first turn as if the rest were silence
            (20.0, True): [_Said(0.2, 9.8, ASKED)],
            (10.2, True): [_Said(0.8, 9.6, ANSWERED)],
        }
    )
    pieces = _transcriber(monkeypatch, model).decode_clip(PLAN, (0.0, 20.0), OPTIONS, HOT)
    assert [p.text for p in pieces] == [ASKED, ANSWERED]
    assert pieces[1].start == pytest.approx(10.6)


def test_a_word_stretched_over_seconds_of_speech_means_words_were_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whisper wrote the first half and the start of the second; the alignment stretched "some" over the rest
    skipped = "How are you feeling today, and did the new tablets help with the cough at night, or not? Better, some"
    words = tuple(_Word(0.2 + 0.5 * i, 0.7 + 0.5 * i, w) for i, w in enumerate(skipped.split()[:-1]))
    model = ScriptedWhisper(
        {
            (20.0, True): [_Said(0.2, 19.8, skipped, (*words, _Word(words[-1].end, 19.8, "some")))],
            (10.2, True): [_Said(0.0, 9.6, ASKED)],
            (9.8, True): [_Said(0.4, 9.6, ANSWERED)],
        }
    )
    pieces = _transcriber(monkeypatch, model).decode_clip(PLAN, (0.0, 20.0), OPTIONS, HOT)
    assert [p.text for p in pieces] == [ASKED, ANSWERED]


class PromptedWhisper(ScriptedWhisper):
    """A scripted model that also keeps the text prompt (``initial_prompt``) each call was given."""

    def __init__(self, answers: dict[tuple[float, bool], list[_Said]]) -> None:
        super().__init__(answers)
        self.prompts: list[str | None] = []
        self.beams: list[tuple[int | None, float | None]] = []

    def transcribe(self, audio: NDArray[np.float32], **options: Any) -> tuple[Iterator[_Said], None]:
        self.prompts.append(options.get("initial_prompt"))
        self.beams.append((options.get("beam_size"), options.get("patience")))
        return super().transcribe(audio, **options)


def test_asked_to_each_clip_after_the_first_hears_the_text_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # two 10 s clips of one recording; the drug list goes before both, the first clip's text before the second
    plan = SpeechPlan(
        np.zeros(20 * SAMPLE_RATE, dtype=np.float32),
        [(0.0, 10.0), (10.0, 20.0)],
        [{"start": 0, "end": 20 * SAMPLE_RATE}],
        [(0.2, 9.8), (10.2, 19.8)],
    )
    monkeypatch.setattr(whisper_stt, "plan_speech", lambda _samples: plan)
    model = PromptedWhisper({(10.0, True): [_Said(0.2, 9.8, ASKED)]})
    segments = _transcriber(monkeypatch, model).transcribe(plan.speech)
    assert [s.start for s in segments] == [0.2, 10.2]
    assert model.prompts == [None, None]  # by default each clip is decoded with the drug list alone
    assert model.beams == [(5, 1.0), (5, 1.0)]  # beam 5, patience 1: deterministic, and fast enough
    assert all(with_drugs for _length, with_drugs, _temperature in model.calls)

    model = PromptedWhisper({(10.0, True): [_Said(0.2, 9.8, ASKED)]})
    monkeypatch.setattr(whisper_stt, "_load_model", lambda *_args: model)
    WhisperTranscriber("scripted-model", threads=1, condition_on_previous_text=True).transcribe(plan.speech)
    assert model.prompts == [None, ASKED]
    assert all(with_drugs for _length, with_drugs, _temperature in model.calls)


# --- clips decoded two at a time ---------------------------------------------------------------------------

# three clips of different lengths (the scripted model answers by length), pauses between them
THREE = SpeechPlan(
    np.zeros(30 * SAMPLE_RATE, dtype=np.float32),
    [(0.2, 8.2), (9.0, 19.0), (20.0, 26.0)],
    [{"start": 0, "end": 30 * SAMPLE_RATE}],
    [(0.4, 7.7), (9.2, 18.7), (20.2, 25.2)],
)
SAID = {
    (8.0, True): [_Said(0.0, 7.5, ASKED)],
    (10.0, True): [_Said(0.0, 9.5, ANSWERED)],
    (6.0, True): [_Said(0.0, 5.0, "Take the metformin with food.")],
}


class FailingWhisper(ScriptedWhisper):
    """CTranslate2 failing on one clip (by its length), as it does when it runs out of memory."""

    def __init__(self, answers: dict[tuple[float, bool], list[_Said]], fail_at: float) -> None:
        super().__init__(answers)
        self.fail_at = fail_at

    def transcribe(self, audio: NDArray[np.float32], **options: Any) -> tuple[Iterator[_Said], None]:
        if round(len(audio) / SAMPLE_RATE, 1) == self.fail_at:
            raise RuntimeError("std::bad_alloc")
        return super().transcribe(audio, **options)


def test_two_clips_at_a_time_give_the_serial_transcript_in_clip_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whisper_stt, "plan_speech", lambda _samples: THREE)
    serial_model, parallel_model = ScriptedWhisper(SAID), ScriptedWhisper(SAID)
    monkeypatch.setattr(whisper_stt, "_load_model", lambda *_args: serial_model)
    serial = WhisperTranscriber("scripted-model", threads=2, parallel=1).transcribe(THREE.speech)
    monkeypatch.setattr(whisper_stt, "_load_model", lambda *_args: parallel_model)
    engine = WhisperTranscriber("scripted-model", threads=2, parallel=2)
    assert engine.parallel == 2
    parallel = engine.transcribe(THREE.speech)
    assert [s.text for s in serial] == [ASKED, ANSWERED, "Take the metformin with food."]
    assert parallel == serial
    assert sorted(parallel_model.calls) == sorted(serial_model.calls)  # every clip decoded once, nothing more


def test_more_clips_at_once_than_cores_is_capped_and_each_decode_gets_its_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded: list[tuple[Any, ...]] = []

    def load(*args: Any) -> ScriptedWhisper:
        loaded.append(args)
        return ScriptedWhisper(SAID)

    monkeypatch.setattr(whisper_stt, "_load_model", load)
    assert WhisperTranscriber("scripted-model", threads=1, parallel=2).parallel == 1
    WhisperTranscriber("scripted-model", threads=4, parallel=2)
    assert [(threads, workers) for _model, threads, _compute, workers in loaded] == [(1, 1), (2, 2)]


def test_a_clip_that_fails_fails_the_transcription_and_leaves_no_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(whisper_stt, "plan_speech", lambda _samples: THREE)
    model = FailingWhisper(SAID, fail_at=10.0)
    monkeypatch.setattr(whisper_stt, "_load_model", lambda *_args: model)
    with pytest.raises(ProviderUnavailable, match="can be retried"):
        WhisperTranscriber("scripted-model", threads=2, parallel=2).transcribe(THREE.speech)
    assert (8.0, True, 0.0) in model.calls  # the clip beside it was decoded to its end
    assert not [t for t in threading.enumerate() if t.name.startswith("whisper-clip")]
