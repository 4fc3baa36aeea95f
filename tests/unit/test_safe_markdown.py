"""User and server text shown through st.markdown stays literal: no markup, no HTML, no autolinked URLs."""

from __future__ import annotations

from ui.safe import md_escape


def test_urls_are_not_turned_into_links_and_markup_is_inert() -> None:
    escaped = md_escape("Server http://127.0.0.1:8000/v1 said **no** <b>x</b>")
    assert "http:\\/\\/127\\.0\\.0\\.1:8000\\/v1" in escaped  # no "://" left for the autolinker
    assert "\\*\\*no\\*\\*" in escaped and "\\<b\\>" in escaped
    assert md_escape(None) == "" and md_escape("a\nb") == "a  \nb"
