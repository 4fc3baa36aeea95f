"""The eval's synthesis speaks every line of a dialogue, in the voice of the speaker whose turn it is."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from backend.evals.asr import speak_turns

DIALOGUE = """[doctor] how is the blood pressure ?
lastly , for your high blood pressure , stay on lisinopril 20 mg a day .
[patient] okay .
"""


def one_second_per_turn(text: str, tag: str) -> NDArray[np.float32]:
    return np.full(16_000, 0.1, dtype=np.float32)


def test_a_line_without_a_tag_is_spoken_by_the_speaker_before_it() -> None:
    samples, turns = speak_turns(DIALOGUE, speak=one_second_per_turn, gap_s=0.0)
    assert [t.tag for t in turns] == ["doctor", "doctor", "patient"]
    assert "lisinopril 20 mg" in turns[1].text
    assert len(samples) == 3 * 16_000


def test_text_before_the_first_tag_has_no_speaker_and_is_left_out() -> None:
    _, turns = speak_turns("a title line\n[doctor] hello .", speak=one_second_per_turn, gap_s=0.0)
    assert [t.tag for t in turns] == ["doctor"]
