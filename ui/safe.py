"""Render user-supplied text as text: never as HTML, never as live markdown."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$/])")  # "/" too, so URLs are not turned into links


def md_escape(text: str | None) -> str:
    """Escape markdown (and HTML angle brackets) so user text shows literally inside st.markdown."""
    if not text:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", "  \n")
