"""Offline, rule-based note drafter: transcript segments -> SOAP draft with evidence per sentence."""

from backend.domain.drafting.drafter import draft_note
from backend.domain.drafting.model import Draft, DraftSentence
from backend.domain.drafting.render import render_note_text

__all__ = ["Draft", "DraftSentence", "draft_note", "render_note_text"]
