"""Counts in words a person reads: "1 medication", "3 medications", never "1 medication(s)"."""

from __future__ import annotations


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` and the noun in the right number (``plural`` for irregular nouns; default: ``singular`` + "s").

    >>> counted(1, "medication"), counted(3, "medication"), counted(2, "entry", "entries")
    ('1 medication', '3 medications', '2 entries')
    """
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
