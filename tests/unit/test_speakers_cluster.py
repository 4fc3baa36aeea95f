"""Voice counting and grouping on synthetic span vectors (seeded Gaussian blobs, no audio)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backend.domain.speakers.cluster import SEPARATION, cluster_voices, required_separation

DIM = 20  # 19 cepstral means + log-pitch, as features.span_vector gives


def blobs(sizes: list[int], pitch: list[float], seed: int = 0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Spans of several voices: each voice its own mean spectrum and pitch, with within-voice spread."""
    rng = np.random.default_rng(seed)
    rows = []
    for n, f0 in zip(sizes, pitch, strict=True):
        centre = np.append(rng.normal(0, 1.5, DIM - 1), np.log(f0))
        spread = np.append(np.full(DIM - 1, 1.0), 0.04)
        rows.append(centre + rng.normal(0, 1, (n, DIM)) * spread)
    return np.vstack(rows), np.full(sum(sizes), 1.5)


def test_one_voice_is_one_voice() -> None:
    for seed in range(5):
        x, s = blobs([120], [110.0], seed)
        assert cluster_voices(x, s).count == 1


def test_two_voices_are_found_and_grouped() -> None:
    x, s = blobs([80, 60], [100.0, 210.0])
    found = cluster_voices(x, s)
    assert found.count == 2
    assert set(found.labels[:80].tolist()) == {0}  # the voice with more speech is voice 0
    assert set(found.labels[80:].tolist()) == {1}


def test_three_voices_are_found() -> None:
    x, s = blobs([70, 50, 30], [95.0, 200.0, 140.0], seed=3)
    found = cluster_voices(x, s)
    assert found.count == 3
    for a, b in ((0, 70), (70, 120), (120, 150)):
        assert len(set(found.labels[a:b].tolist())) == 1


def test_a_voice_with_too_little_speech_does_not_count() -> None:
    x, s = blobs([150, 4], [100.0, 220.0])
    assert cluster_voices(x, s).count == 1


def test_too_few_spans_is_one_voice() -> None:
    x, s = blobs([3, 2], [100.0, 220.0])
    assert cluster_voices(x, s).count == 1


def test_same_input_same_output() -> None:
    x, s = blobs([60, 60], [100.0, 180.0], seed=7)
    a, b = cluster_voices(x, s), cluster_voices(x.copy(), s.copy())
    assert a.count == b.count
    assert np.array_equal(a.labels, b.labels)


def test_a_short_recording_of_one_voice_is_not_split_into_voices() -> None:
    """20 stretches of one voice (about 30 s): k-means groups look far apart by chance, the count must not believe it."""
    for seed in range(10):
        x, s = blobs([20], [110.0], seed)
        assert cluster_voices(x, s).count == 1, seed


def test_a_short_recording_of_two_voices_is_two_not_three() -> None:
    for seed in range(10):
        x, s = blobs([11, 9], [100.0, 210.0], seed)
        assert cluster_voices(x, s).count == 2, seed


def test_the_distance_required_shrinks_to_the_long_recording_threshold() -> None:
    for k in (2, 3):
        needed = [required_separation(n, k) for n in (10, 20, 40, 100, 400, 2000)]
        assert needed == sorted(needed, reverse=True)
        assert needed[-1] == needed[-2] == SEPARATION[k]
        assert needed[1] > SEPARATION[k] + 1.0  # 20 stretches: chance alone gives groups this far apart
