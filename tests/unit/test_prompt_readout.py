"""Whisper writing its drug-list prompt as speech: which words of a segment are the prompt read out."""

from __future__ import annotations

from backend.domain.prompt_readout import prompt_names, readout_words


def _words(text: str) -> list[str]:
    return text.split(" ")


NAMES = prompt_names(["Dolo 650", "Pan-D", "atorvastatin", "ciprofloxacin", "cetirizine", "metoprolol", "metformin"])


def test_the_prompt_names_are_its_one_word_names_in_order() -> None:
    assert NAMES == ("pan-d", "atorvastatin", "ciprofloxacin", "cetirizine", "metoprolol", "metformin")


def test_a_run_of_names_in_which_one_comes_back_is_the_prompt_read_out() -> None:
    words = _words("I said cetirizine, metoprolol, atorvastatin, ciprofloxacin, cetirizine, metoprolol, for the")
    assert readout_words(words, NAMES) == set(range(2, 8))


def test_three_names_in_the_prompts_own_order_are_the_prompt_read_out() -> None:
    assert readout_words(_words("Atorvastatin, Ciprofloxacin, metformin."), NAMES) == {0, 1, 2}


def test_names_said_with_words_between_them_or_out_of_order_are_speech() -> None:
    said = [
        "I take metformin, metoprolol and atorvastatin every day.",  # "and" between: two runs, of two and one
        "Metformin, cetirizine, atorvastatin.",  # three named, not in the list's order, none repeated
        "Cetirizine, cetirizine.",  # a name said twice is the loop check's business, not a readout
        "Metformin 500 twice a day, metformin at night, metformin again.",
    ]
    assert all(readout_words(_words(text), NAMES) == set() for text in said)


def test_without_a_prompt_nothing_is_a_readout() -> None:
    assert readout_words(_words("Atorvastatin, Ciprofloxacin, metformin."), ()) == set()
