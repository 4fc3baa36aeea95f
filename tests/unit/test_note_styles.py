"""Note styles: the brief note and templates hold only the full draft's facts and evidence, keep their length
budget, refuse broken template files by file and line/key, and switching style keeps the draft's evidence."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from backend.domain.drafting import draft_note
from backend.domain.drafting.rules import diagnoses as diagnosis_lexicon
from backend.domain.drafting.shorten import shorten
from backend.domain.drafting.styles import FULL, full_soap_sections, render_style
from backend.domain.drafting.templates import Budget, builtin_templates, parse_template
from backend.domain.errors import ValidationFailed
from backend.domain.models import Note, Role, Segment, User
from backend.domain.note_content import NoteContent
from backend.evals import notes as notes_eval
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.note_styles import apply_style, default_style, set_default_style, upload_template

ROOT = Path(__file__).resolve().parents[2]
VALID = Path(os.environ.get("COPILOT_SHARED_DATA", ROOT.parent / "shared" / "data")) / "aci-bench" / "valid.csv"
NURSE = Principal("nurse", Role.NURSE)
ADMIN = Principal("admin", Role.ADMIN)
TURNS = [
    ("doctor", "Good morning, what brings you in today?"),
    ("patient", "I have had a cough for three days and a sore throat."),
    ("doctor", "Any fever?"),
    ("patient", "No."),
    ("doctor", "Your temperature is ninety eight point six and your blood pressure is one twenty over eighty."),
    ("doctor", "On exam your lungs are clear and your throat is red."),
    ("doctor", "I think you have a viral pharyngitis."),
    ("doctor", "I am going to prescribe amoxicillin five hundred milligrams three times a day for seven days."),
    ("doctor", "Come back in two weeks if it is not better."),
]
# Words a shortening rule may write that the sentence did not say (short forms of what it said).
_RULE_WORDS = {"x", "1", "mg", "mcg", "denies", "likely", "history", "of", "some"}
_WORD = re.compile(r"[a-z0-9]+")


def consultation(turns: list[tuple[str, str]] = TURNS) -> list[Segment]:
    return [Segment(id=i, start=i * 4.0, end=i * 4.0 + 3.5, text=t, speaker=s) for i, (s, t) in enumerate(turns)]


def spoken(segments: list[Segment]) -> int:
    return sum(len(s.text.split()) for s in segments)


def drafts() -> list[tuple[NoteContent, int]]:
    """The synthetic visit and the first ACI-Bench consultations, drafted by the offline drafter."""
    segs = consultation()
    out = [(draft_note(segs), spoken(segs))]
    assert VALID.is_file(), f"ACI-Bench data missing at {VALID}; set COPILOT_SHARED_DATA"
    for row in notes_eval.read_rows(VALID, 4):
        segs = notes_eval.dialogue_to_segments(row["dialogue"])
        out.append((draft_note(segs), spoken(segs)))
    return out


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _evidence(draft: NoteContent) -> list[set[int]]:
    """The segment ids of every item of the draft a line may come from."""
    items = [set(s.segment_ids) for s in draft.sentences] + [set(m.evidence.segment_ids) for m in draft.medications]
    items += [set(d.segment_ids) for d in [*draft.diagnoses, *draft.allergies]]
    items += [set(item.segment_ids) for item in (draft.chief_complaint, draft.follow_up) if item]
    return items


@pytest.mark.parametrize("style", sorted(builtin_templates()))
def test_every_line_of_a_style_is_an_item_of_the_draft_with_its_evidence(style: str) -> None:
    for draft, words in drafts():
        note = render_style(draft, style, builtin_templates(), words)
        evidence = _evidence(draft)
        full_text = " ".join(s.text for s in draft.sentences)
        for line in note.lines:
            assert line.segment_ids, line
            assert set(line.segment_ids) in evidence, line  # exactly one draft item's evidence, never a new one
        meds = {m.name.lower() for m in draft.medications}
        listed = {ln.text.split()[0].strip(".").lower() for ln in note.lines if ln.source == "medications"}
        assert listed <= meds
        named = {name for _s, _e, name in diagnosis_lexicon().find(note.text.lower())}
        known = {name for _s, _e, name in diagnosis_lexicon().find(full_text.lower())}
        known |= {d.text for d in draft.diagnoses}
        assert named <= known, named - known


def test_shortening_only_drops_words_or_writes_their_short_form() -> None:
    for draft, _words_spoken in drafts():
        for s in draft.sentences:
            added = _words(shorten(s.text)) - _words(s.text) - _RULE_WORDS
            assert not added, (s.text, added)


def test_shortening_turns_reported_speech_into_a_clinical_phrase() -> None:
    assert shorten("The patient reports that she has had a cough for 3 days.") == "Cough x 3 days."
    assert shorten("She denies any fever.") == "Denies fever."
    assert shorten("I am going to prescribe amoxicillin 500 milligrams.") == "Prescribe amoxicillin 500 mg."
    assert shorten("There is no fracture.") == "No fracture."


def test_the_brief_note_keeps_its_length_budget_and_the_key_facts() -> None:
    brief = builtin_templates()["brief"]
    for draft, words in drafts():
        note = render_style(draft, "brief", builtin_templates(), words)
        assert note.words <= brief.budget.words_for(words)
        assert note.words < len(render_style(draft, FULL, {}, words).text.split())
    segs = consultation()
    text = render_style(draft_note(segs), "brief", builtin_templates(), spoken(segs)).text
    assert text.startswith("Presenting complaint: ")
    assert "amoxicillin" in text.lower() and "Impression:" in text and "Plan:" in text


def test_a_budget_follows_the_consultation_within_its_bounds() -> None:
    budget = Budget(ratio=0.5, min_words=40, max_words=200)
    assert [budget.words_for(n) for n in (10, 200, 5000)] == [40, 100, 200]


def test_the_full_style_is_todays_note_unchanged() -> None:
    segs = consultation()
    draft = draft_note(segs)
    assert render_style(draft, FULL, {}, spoken(segs)).soap == draft.sections == full_soap_sections(draft)


def test_a_template_with_a_toml_error_names_the_file_and_line() -> None:
    text = 'name = "mine"\ntitle = "Mine"\n[[sections]]\nheading = "Plan\nfields = ["plan"]\n'
    with pytest.raises(ValidationFailed, match=r"^mine\.toml line 4, column \d+: .*not valid TOML"):
        parse_template(text, "mine.toml")


def test_a_template_with_a_schema_error_names_the_file_and_key() -> None:
    text = 'name = "mine"\ntitle = "Mine"\n[[sections]]\nheading = "A"\nfields = ["plan"]\n'
    text += '[[sections]]\nheading = "B"\nfields = ["plan", "horoscope"]\n'
    with pytest.raises(ValidationFailed, match=r"^mine\.toml: sections\[2\]\.fields\[2\]: must be one of"):
        parse_template(text, "mine.toml")
    with pytest.raises(ValidationFailed, match=r"colour: unknown key"):
        parse_template('name = "a"\ntitle = "A"\ncolour = 1\n[[sections]]\nheading = "A"\nfields = ["plan"]\n', "a")
    with pytest.raises(ValidationFailed, match=r"budget: min_words is larger than max_words"):
        parse_template(
            'name = "a"\ntitle = "A"\n[budget]\nmin_words = 90\nmax_words = 50\n[[sections]]\nheading = "A"\n'
            'fields = ["plan"]\n',
            "a",
        )
    with pytest.raises(ValidationFailed, match=r"name: 'full' is the full SOAP note"):
        parse_template('name = "full"\ntitle = "A"\n[[sections]]\nheading = "A"\nfields = ["plan"]\n', "a")


def test_an_uploaded_template_is_saved_in_the_data_folder_only_when_valid(stores: RecordStore, tmp_path: Path) -> None:
    good = b'name = "short"\ntitle = "Short"\n[[sections]]\nheading = "Plan"\nfields = ["plan", "follow_up"]\n'
    saved = upload_template(stores, ADMIN, tmp_path, "anything.toml", good)
    assert saved.name == "short" and (tmp_path / "note_templates" / "short.toml").read_bytes() == good
    with pytest.raises(ValidationFailed, match=r"broken\.toml line 1"):
        upload_template(stores, ADMIN, tmp_path, "broken.toml", b"name = = 1\n")
    assert sorted(p.name for p in (tmp_path / "note_templates").iterdir()) == ["short.toml"]


def _note(stores: RecordStore) -> Note:
    segs = consultation()
    return stores.notes.add(
        Note(patient_id="PAT_0000abcd", author="nurse", transcript=segs).with_content(draft_note(segs))
    )


def test_switching_style_rerenders_the_same_draft_and_back(stores: RecordStore) -> None:
    note = _note(stores)
    brief = apply_style(stores, NURSE, note, "brief", builtin_templates())
    assert brief.style == "brief" and brief.sections["subjective"].startswith("Presenting complaint:")
    assert brief.sentences == note.sentences and brief.medications == note.medications
    edited = brief.model_copy(update={"edited_by": "nurse"})
    back = apply_style(stores, NURSE, edited, FULL, builtin_templates())
    assert back.sections == note.sections and back.edited_by is None and back.style == FULL
    assert [e.action for e in stores.audit.query(limit=20).items].count("note.style") == 2


def test_a_default_style_is_kept_per_user_and_old_users_load(stores: RecordStore) -> None:
    old = User.model_validate_json('{"username": "nurse", "role": "nurse", "password_hash": "x"}')
    assert old.note_style is None
    stores.users.add(old)
    assert default_style(stores, NURSE) == FULL
    set_default_style(stores, NURSE, "brief", builtin_templates())
    assert default_style(stores, NURSE) == "brief"
    with pytest.raises(ValidationFailed, match="No note style"):
        set_default_style(stores, NURSE, "nonsense", builtin_templates())
