"""The dashboard's recent activity reads as words: "signed a note", not "note.sign"."""

from __future__ import annotations

from ui.audit_words import action_words


def test_audit_actions_read_as_words() -> None:
    assert action_words("note.sign") == "signed a note"
    assert action_words("patient.read") == "opened a patient"
    assert action_words("ask.question_asked") == "ask question asked"  # no words of its own: at least no dots
    assert action_words("metrics.cohort.shown") == "on a list: viewed patients with anomalies"
