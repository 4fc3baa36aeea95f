"""Offline, rule-based note drafter: transcript segments -> SOAP draft (``NoteContent``) with evidence per sentence."""

from backend.domain.drafting.drafter import draft_note
from backend.domain.drafting.render import render_note_text

__all__ = ["draft_note", "render_note_text"]
