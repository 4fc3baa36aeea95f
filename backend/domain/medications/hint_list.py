"""The names of the speech engine's hot-word list (``backend/data/drug_prompt.txt``), read in one place.

The speech adapter builds its spelling hint from them; the second listen rechecks the words they were written
as (``primed``). One name per line, in the spelling the transcript should use; ``#`` starts a comment.
"""

from __future__ import annotations

from functools import cache

from backend.domain.medications.lexicon import DATA_DIR


@cache
def hint_list_names() -> tuple[str, ...]:
    """The list's names, in its order (comments and blank lines left out)."""
    text = (DATA_DIR / "drug_prompt.txt").read_text(encoding="utf-8")
    names = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return tuple(name for name in names if name)
