"""Counts read as English on the pages and in titles: "1 medication", "2 medications", never "1 medication(s)"."""

from __future__ import annotations

from backend.domain.plural import counted


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert counted(1, "medication") == "1 medication"
    assert [counted(n, "turn") for n in (0, 2, 11)] == ["0 turns", "2 turns", "11 turns"]
    assert counted(3, "entry", "entries") == "3 entries"
    assert counted(1, "ICD-10 code") == "1 ICD-10 code"
