"""Pause-aligned decoding clips: speech regions packed into Whisper windows, cut at the longest pause."""

from __future__ import annotations

import itertools

from backend.adapters.whisper_stt import pack_clips


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
