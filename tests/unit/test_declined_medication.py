"""A drug the patient declined (refuses, does not take, is to avoid) is never active, never "take this", and says why."""

from __future__ import annotations

from backend.adapters.llm.schemas import NoteDraftReply
from backend.domain.drafting import draft_note
from backend.domain.drafting.styles import render_style
from backend.domain.drafting.templates import builtin_templates
from backend.domain.legacy_rows import note_from_row
from backend.domain.models import Evidence, Medication, Note, NoteStatus
from backend.domain.reconcile import DAY_MS, MedSource, reconcile
from backend.domain.visit_summary import build_summary
from backend.domain.visit_summary_html import render_visit_summary
from backend.domain.visit_summary_lang import language
from backend.evals.notes import dialogue_to_segments
from ui.medication_rows import medication_rows, status_label

T0 = 1_700_000_000_000
STATIN_REASON = "patient prefers not to take a statin"


def _declined(name: str = "atorvastatin", reason: str | None = STATIN_REASON) -> Medication:
    return Medication(name=name, status="declined", status_reason=reason, verified=True)


def _note(day: int, *meds: Medication) -> MedSource:
    ts = T0 + day * DAY_MS
    return MedSource("note", ts, True, {"kind": "note", "timestamp": ts}, list(meds))


def test_the_reconciled_list_keeps_a_declined_drug_out_of_active_with_its_reason() -> None:
    meds = reconcile(
        [
            _note(0, Medication(name="metformin", verified=True), _declined()),
            _note(10, Medication(name="simvastatin", verified=True)),
        ]
    )
    by_name = {m.name: m for m in meds}
    assert [m.name for m in meds if m.status == "active"] == ["metformin", "simvastatin"]
    statin = by_name["atorvastatin"]
    assert statin.status == "declined" and statin.status_reason == STATIN_REASON
    assert statin.changes == [f"declined on 2023-11-14 ({STATIN_REASON})"]
    assert meds[-1] is statin  # listed after the active drugs, among the not-taken
    # a declined statin beside an active one is no "two statins" duplication
    assert not by_name["simvastatin"].same_class and not statin.same_class


def test_a_declined_drug_taken_later_is_started_then_and_loses_the_reason() -> None:
    (m,) = reconcile([_note(0, _declined()), _note(30, Medication(name="atorvastatin", strength="10 mg"))])
    assert m.status == "active" and m.status_reason == ""
    assert m.since_word == "started" and m.since == T0 + 30 * DAY_MS
    assert m.changes[-1] == "started on 2023-12-14"


def test_the_after_visit_summary_never_tells_the_patient_to_take_or_stop_a_declined_drug() -> None:
    note = Note(
        patient_id="PAT_00000001",
        timestamp=T0,
        status=NoteStatus.SIGNED,
        signer="doctor",
        medications=[Medication(name="metformin", frequency="twice daily", verified=True), _declined()],
    )
    summary = build_summary(note, "Ram", language("en"))
    assert [m.name for m in summary.medicines] == ["metformin"] and summary.stopped == []
    assert "atorvastatin" not in render_visit_summary(summary).lower()


def test_a_draft_stored_before_declined_existed_reads_as_declined_with_its_reason() -> None:
    old_line = {"name": "atorvastatin", "status": "stopped", "flags": ["the patient does not want it", "strength?"]}
    row = {
        "patient_id": "PAT_00000001",
        "timestamp": T0,
        "medications": [old_line, {"name": "aspirin", "status": "stopped"}],
    }
    statin, aspirin = note_from_row(row).medications
    assert (statin.status, statin.status_reason, statin.flags) == (
        "declined",
        "the patient does not want it",
        ["strength?"],
    )
    assert (aspirin.status, aspirin.status_reason) == ("stopped", None)  # a plain stop stays a stop


def test_every_note_style_says_declined_and_why() -> None:
    draft = draft_note(dialogue_to_segments("[patient] i do not want the atorvastatin .\n[patient] i take metformin ."))
    for style in ("full", *sorted(builtin_templates())):
        text = render_style(draft, style, builtin_templates(), 20).text.replace("Atorvastatin", "atorvastatin")
        assert 'Declined: atorvastatin — "i do not want the atorvastatin"' in text, style
        assert "(declined)" not in text


def test_the_review_table_and_the_reconciled_list_show_declined_with_why() -> None:
    (row,) = medication_rows([_declined()], ["name", "status", "status_reason"])
    assert row == {"name": "atorvastatin", "status": "declined", "status_reason": STATIN_REASON}
    assert status_label("declined", STATIN_REASON) == f"declined — {STATIN_REASON}"
    assert (
        status_label("declined", "") == "declined" and status_label(None) == "" and status_label("active") == "active"
    )


def test_an_llm_draft_may_return_declined_with_a_reason() -> None:
    reply = NoteDraftReply.model_validate(
        {
            "sentences": [],
            "medications": [
                {"name": "atorvastatin", "verbatim": "the statin", "status": "declined",
                 "status_reason": STATIN_REASON, "segment_ids": [3]}
            ],
        }
    )  # fmt: skip
    med = reply.medications[0].to_medication(Evidence(segment_ids=[3]))
    assert (med.status, med.status_reason) == ("declined", STATIN_REASON)
    assert (
        "declined"
        in NoteDraftReply.model_json_schema()["$defs"]["NoteMedication"]["properties"]["status"]["description"]
    )


def test_a_stopped_drug_says_why_when_the_words_said_it() -> None:
    reason = 'tried, did not help: "i tried ibuprofen, no help"'
    assert status_label("stopped", reason) == f"stopped — {reason}" and status_label("stopped") == "stopped"
