"""A drug tried for the complaint that did not help reads as such in every note style and in the review table."""

from __future__ import annotations

from backend.domain.drafting import draft_note
from backend.domain.drafting.styles import render_style
from backend.domain.drafting.templates import builtin_templates
from backend.domain.note_content import NoteContent
from backend.evals.notes import dialogue_to_segments
from ui.medication_rows import medication_rows

QUOTE = '"i tried naproxen , it did not help"'


def _draft() -> NoteContent:
    return draft_note(
        dialogue_to_segments("[patient] i tried naproxen , it did not help .\n[patient] i take metformin .")
    )


def test_every_note_style_says_the_drug_was_tried_and_did_not_help() -> None:
    draft = _draft()
    listed = 0
    for style in ("full", *sorted(builtin_templates())):
        text = render_style(draft, style, builtin_templates(), 300).text.replace("Naproxen", "naproxen")
        listed += f"Tried, did not help: naproxen — {QUOTE}" in text
        # a compact style may leave the list line out over its budget, never show the drug as one taken
        assert all("did not help" in line for line in text.splitlines() if "naproxen" in line), style
        assert "(stopped)" not in text, style
    assert listed >= 2  # the full note and a style with room for its medication lines (gp_followup)


def test_the_review_table_shows_it_stopped_with_the_words_said() -> None:
    (naproxen,) = draft_note(dialogue_to_segments("[patient] i tried naproxen , it did not help .")).medications
    (row,) = medication_rows([naproxen], ["name", "status", "status_reason"])
    assert row == {"name": "naproxen", "status": "stopped", "status_reason": f"tried, did not help: {QUOTE}"}
