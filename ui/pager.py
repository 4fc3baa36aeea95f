"""Back and forward buttons under a list read a page at a time (store cursors, newest first)."""

from __future__ import annotations

import streamlit as st


def pager(cursors: list[str | None], next_cursor: str | None, key: str, back: str, forward: str) -> None:
    """Buttons to the page before and the page after, shown only when there is another page.

    ``cursors`` is the session's stack of page cursors (``[None]`` for the first page); a click moves along it and
    reruns the page. Two disabled buttons under a list that fits one page say nothing, so none are drawn.
    """
    if len(cursors) == 1 and next_cursor is None:
        return
    left, right = st.columns(2)
    if left.button(f"◀ {back}", disabled=len(cursors) == 1, key=f"{key}_back"):
        cursors.pop()
        st.rerun()
    if right.button(f"{forward} ▶", disabled=next_cursor is None, key=f"{key}_forward"):
        cursors.append(next_cursor)
        st.rerun()
