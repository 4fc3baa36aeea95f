"""Small text helpers shared by stores and services."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Case- and accent-insensitive form used for matching (not for display)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_tokens(text: str) -> list[str]:
    """Words of a name or query, folded; used for word-prefix search."""
    return _WORD.findall(fold(text))
