"""A noisy recording: the roles still come, with a warning the nurse can act on; the level range measures it."""

from __future__ import annotations

import numpy as np

from backend.domain.speakers import assign_roles
from backend.domain.speakers.assign import NOISY, NOISY_RANGE_DB
from backend.domain.speakers.features import frame_features
from backend.evals import conditions as cond
from tests.unit.test_speakers_assign import TURNS, recording, roles_per_word


def test_level_range_follows_the_signal_to_noise_ratio() -> None:
    samples, _, _ = recording(TURNS)
    rng = np.random.default_rng(5)
    ranges = [
        frame_features(cond.add_noise(samples, cond.coloured_noise(samples.size, rng), snr)).level_range_db
        for snr in (5.0, 10.0, 20.0, 30.0)
    ]
    assert ranges == sorted(ranges)  # less noise, more range
    assert frame_features(samples).level_range_db > 60  # digital silence between the words


def test_a_noisy_room_warns_and_still_gives_the_roles() -> None:
    samples, segments, truth = recording(TURNS)
    noisy = cond.add_noise(samples, cond.coloured_noise(samples.size, np.random.default_rng(2)), 5.0)
    assert frame_features(noisy).level_range_db < NOISY_RANGE_DB
    result = assign_roles(noisy, segments)
    assert result.warnings[0] == NOISY
    got = roles_per_word(result.segments)
    assert np.mean([a == b for a, b in zip(got, truth, strict=True)]) >= 0.9


def test_a_quiet_recording_does_not_warn() -> None:
    samples, segments, _ = recording(TURNS)
    quiet = cond.add_noise(samples, cond.white_noise(samples.size, np.random.default_rng(3)), 35.0)
    assert NOISY not in assign_roles(quiet, segments).warnings
