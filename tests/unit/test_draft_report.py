"""``draft_report``: transcript files become segments with roles; a draft is reported as JSON-ready data."""

from __future__ import annotations

import json

from backend.domain.drafting import draft_note, render_note_text
from backend.domain.note_content import NoteContent
from backend.services.draft_report import heard_from_text, note_text, parse_transcript, report
from backend.services.scribe_pipeline import DraftResult, draft_transcript

TRANSCRIPT = """[doctor] What medicines do you take?
[patient] I take metformin 500 mg twice daily and list in april 10 mg once a day.

[doctor] Any chest pain?
[patient] No chest pain, but I have had a cough for three days.
"""


def test_tags_set_roles_and_each_line_is_one_second_turn() -> None:
    segments = parse_transcript("[doctor] Hello there.\n[patient] Hi.\n[Dr. Rao] Sit down.\n[nurse] BP is fine.\n")
    assert [(s.id, s.speaker, s.role_source, s.text) for s in segments] == [
        (0, "clinician", "tag", "Hello there."),
        (1, "patient", "tag", "Hi."),
        (2, "clinician", "tag", "Sit down."),
        (3, "clinician", "tag", "BP is fine."),
    ]
    assert [(s.start, s.end) for s in segments] == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, 4.0)]


def test_odd_tags_are_others_and_untagged_lines_have_no_role() -> None:
    segments = parse_transcript("[patient_guest] He takes it at night.\n[interpreter] She says yes.\nno tag here\n")
    assert [(s.speaker, s.role_source) for s in segments] == [("other", "tag"), ("other", "tag"), (None, None)]
    assert segments[2].text == "no tag here"


def test_empty_lines_and_bare_tags_make_no_turn_and_blank_tags_are_no_tag() -> None:
    segments = parse_transcript("\n   \n[doctor]\n[doctor]   \n[ ] hello\n  indented words  \n")
    assert [(s.id, s.speaker, s.text) for s in segments] == [(0, None, "hello"), (1, None, "indented words")]
    assert parse_transcript("") == []


def test_brackets_that_are_not_a_leading_tag_stay_in_the_text() -> None:
    long_tag = "[" + "x" * 41 + "] words"
    segments = parse_transcript(f"{long_tag}\ntake [as directed] daily\n")
    assert [(s.speaker, s.text) for s in segments] == [(None, long_tag), (None, "take [as directed] daily")]


def test_a_fully_tagged_transcript_keeps_its_roles() -> None:
    heard = heard_from_text(TRANSCRIPT)
    assert [s.speaker for s in heard.segments] == ["clinician", "patient", "clinician", "patient"]
    assert [s.id for s in heard.segments] == [0, 1, 2, 3]


def test_note_text_is_the_rendered_draft_and_llm_sections_come_in_order() -> None:
    plain = heard_from_text("[doctor] Any medicines?\n[patient] I take metformin 500 mg twice daily.\n").segments
    result = draft_transcript(plain, draft_note)
    assert note_text(result) == render_note_text(draft_note(plain))

    sections = {"subjective": "Cough for three days.", "objective": " ", "plan": "Review in a week."}
    llm = DraftResult(plain, NoteContent(sections=sections), [])
    assert note_text(llm) == "SUBJECTIVE\n\nCough for three days.\n\nPLAN\n\nReview in a week."


def test_note_text_marks_a_recovered_name_unverified() -> None:
    text = note_text(draft_transcript(heard_from_text(TRANSCRIPT).segments, draft_note))
    medications = text.split("MEDICATIONS", 1)[1]
    assert "- metformin 500 mg twice daily\n" in medications
    assert "lisinopril 10 mg once daily [unverified]" in medications


def test_report_is_json_with_transcript_note_and_medications() -> None:
    out = report(heard_from_text(TRANSCRIPT), draft_note, ["decoded with a warning"])
    parsed = json.loads(json.dumps(out))  # plain JSON types only (no numpy scalars)

    assert parsed["transcript"][1] == {
        "start": 1.0, "end": 2.0, "role": "patient", "role_source": "tag",
        "text": "I take metformin 500 mg twice daily and list in april 10 mg once a day.",
    }  # fmt: skip
    assert {row["role"] for row in parsed["transcript"]} == {"clinician", "patient"}
    assert "metformin" in parsed["note_text"] and set(parsed["sections"])
    meds = {m["name"]: m for m in parsed["medications"]}
    metformin = meds["metformin"]
    assert (metformin["strength"], metformin["frequency"]) == ("500 mg", "twice daily")
    assert metformin["verified"] is True and metformin["found_by"] == "dictionary"
    assert metformin["segment_ids"] == [1]
    # A name heard as other words is recovered but never presented as verified.
    lisinopril = meds["lisinopril"]
    assert lisinopril["verified"] is False and lisinopril["found_by"] == "sounds_like"
    assert lisinopril["heard_as"] == "list in april" and lisinopril["flags"]
    assert parsed["recovered_names"][0]["drug"] == "lisinopril"
    assert parsed["warnings"][0] == "decoded with a warning"


def test_untagged_transcript_reports_every_turn_with_a_role_field() -> None:
    untagged = "\n".join(line.split("] ", 1)[1] for line in TRANSCRIPT.splitlines() if line.strip())
    out = report(heard_from_text(untagged), draft_note)
    assert [row["text"] for row in out["transcript"]] == untagged.splitlines()
    assert all(row["role"] in ("clinician", "patient", "other") for row in out["transcript"])
    assert "metformin" in {m["name"] for m in out["medications"]}
