"""The patient's visit summary: schedule table, plain words, nothing invented, language fallback, escaping."""

from __future__ import annotations

import re
from typing import Any

import pytest

from backend.domain.errors import ValidationFailed
from backend.domain.models import Medication, Note, NoteStatus
from backend.domain.note_content import CitedText, Diagnosis
from backend.domain.visit_summary import DraftNotAllowed, build_summary, medicine_table
from backend.domain.visit_summary_html import render_visit_summary
from backend.domain.visit_summary_lang import available, choose, language

VISIT_MS = 1_741_564_800_000  # 10 March 2025, 00:00 UTC
EN = language("en")
HI = language("hi")


def _note(meds: list[Medication] | None = None, status: NoteStatus = NoteStatus.SIGNED, **parts: Any) -> Note:
    sections = {k: parts.pop(k, "") for k in ("subjective", "objective", "assessment", "plan")}
    return Note(
        patient_id="PAT_00000001",
        timestamp=VISIT_MS,
        status=status,
        signer="doctor" if status is NoteStatus.SIGNED else None,
        sections=sections,
        medications=meds or [],
        **parts,
    )


def _med(name: str, **kw: Any) -> Medication:
    return Medication(name=name, verified=True, **kw)


def _row(summary: Any, name: str) -> Any:
    return next(m for m in summary.medicines if m.name.startswith(name))


@pytest.mark.parametrize(
    ("verbatim", "frequency", "slots"),
    [
        ("Tab Glycomet 500 1-0-1", "twice daily", {"morning": "1", "night": "1"}),
        ("Tab Pan 40 1-0-0", "once daily in the morning", {"morning": "1"}),
        ("Tab X 1-1-0", "twice daily", {"morning": "1", "afternoon": "1"}),  # not morning + night
        ("Tab X ½-0-1", "twice daily", {"morning": "½", "night": "1"}),
        ("Tab X 1-1-1", "three times daily", {"morning": "1", "afternoon": "1", "night": "1"}),
        ("Tab X 0-0-0-1", "at bedtime", {"night": "1"}),
    ],
)
def test_slot_prescriptions_fill_the_columns_with_the_written_doses(
    verbatim: str, frequency: str, slots: dict[str, str]
) -> None:
    summary = build_summary(_note([_med("drug", verbatim=verbatim, frequency=frequency)]), "Ram", EN)
    assert summary.medicines[0].slots == slots
    assert summary.medicines[0].when is None


def test_canonical_frequencies_map_to_columns_only_when_they_name_a_time_of_day() -> None:
    meds = [
        _med("metformin", frequency="twice daily"),
        _med("paracetamol", frequency="three times daily"),
        _med("telmisartan", frequency="once daily"),
        _med("salbutamol", frequency="as needed"),
        _med("ibuprofen", frequency="every 8 hours"),
        _med("cetirizine", frequency="at bedtime"),
        _med("diclofenac", frequency="every 6 hours as needed"),
        _med("vitamin d", frequency="once weekly"),
    ]
    s = build_summary(_note(meds), "Ram", EN)
    assert _row(s, "metformin").slots == {"morning": "✓", "night": "✓"}
    assert set(_row(s, "paracetamol").slots) == {"morning", "afternoon", "night"}
    assert _row(s, "cetirizine").slots == {"night": "✓"}
    # No time of day stated: words, never a guessed column.
    assert (_row(s, "telmisartan").slots, _row(s, "telmisartan").when) == ({}, "once a day")
    assert (_row(s, "salbutamol").slots, _row(s, "salbutamol").when) == ({}, "only when needed")
    assert (_row(s, "ibuprofen").slots, _row(s, "ibuprofen").when) == ({}, "every 8 hours")
    assert _row(s, "diclofenac").when == "every 6 hours, only when needed"
    assert _row(s, "vitamin d").when == "once a week"
    hindi = build_summary(_note(meds), "Ram", HI)
    assert _row(hindi, "ibuprofen").when == "हर 8 घंटे पर"
    assert _row(hindi, "salbutamol").when == "केवल ज़रूरत पड़ने पर"


def test_an_edited_frequency_wins_over_the_slots_still_in_the_verbatim_text() -> None:
    med = _med("metformin", verbatim="Glycomet 500 1-0-1", frequency="three times daily")
    assert set(build_summary(_note([med]), "Ram", EN).medicines[0].slots) == {"morning", "afternoon", "night"}


def test_durations_and_food_in_the_patients_words_numbers_kept() -> None:
    meds = [
        _med("amoxicillin", strength="500 mg", frequency="three times daily", duration="5 days",
             instructions="after food"),
        _med("pantoprazole", strength="40 mg", frequency="once daily in the morning", duration="1 month",
             instructions="before breakfast"),
        _med("iron", frequency="once daily", duration="till review"),
    ]  # fmt: skip
    en = build_summary(_note(meds), "Ram", EN)
    assert (_row(en, "amoxicillin").duration, _row(en, "amoxicillin").food) == ("5 days", "after food")
    assert (_row(en, "pantoprazole").duration, _row(en, "pantoprazole").food) == ("1 month", "before breakfast")
    assert _row(en, "iron").duration == "till review"  # a form the table does not know stays as written
    hi = build_summary(_note(meds), "Ram", HI)
    assert (_row(hi, "amoxicillin").duration, _row(hi, "amoxicillin").food) == ("5 दिन", "खाने के बाद")
    assert _row(hi, "amoxicillin 500 mg").name == "amoxicillin 500 mg"  # drug names and doses as written


def test_missing_fields_are_left_out_not_guessed() -> None:
    s = build_summary(_note([_med("digoxin")]), "Ram", EN)
    row = s.medicines[0]
    assert (row.slots, row.when, row.food, row.duration) == ({}, None, None, None)
    assert s.reason is None and s.conditions == [] and s.measurements == [] and s.follow_up is None
    header, _ = medicine_table(s)
    assert header == ["Medicine", "Morning", "Afternoon", "Night"]  # no empty optional columns
    html = render_visit_summary(s)
    assert "Why you came" not in html and "Next visit" not in html and "What the doctor found" not in html
    assert "Come back to the clinic if you feel worse" in html  # the general safety line is always there


def test_nothing_invented_every_medicine_and_condition_comes_from_the_signed_note() -> None:
    meds = [_med("metformin", strength="500 mg", frequency="twice daily"), _med("aspirin", status="stopped")]
    note = _note(
        meds,
        subjective="Patient reports fever for two days. No chest pain.",
        objective="BP 150/95 mmHg. Temperature 38.6 C. Pulse 300 per minute.",
        assessment="Type 2 diabetes, stable. No evidence of pneumonia. Possible viral fever.",
        plan="Continue metformin. Review in 2 weeks.",
        chief_complaint=CitedText(text="fever"),
        diagnoses=[Diagnosis(text="asthma")],
    )
    s = build_summary(note, "Ram", EN)
    html = render_visit_summary(s)
    assert [m.name for m in s.medicines] == ["metformin 500 mg"] and s.stopped == ["aspirin"]
    drug_words = {"paracetamol", "salbutamol", "amoxicillin", "ibuprofen", "telmisartan"}
    assert not any(d in html.lower() for d in drug_words)
    assert s.conditions == ["type 2 diabetes (high blood sugar)", "fever caused by a virus (possible)"]
    assert "pneumonia" not in html.lower()  # negated in the note
    assert "asthma" not in html.lower()  # only in the draft's working fields, never in the signed text
    assert ("Blood pressure", "150/95 mmHg") in s.measurements
    assert not any("300" in v for _, v in s.measurements)  # implausible: left for the clinician
    assert s.follow_up == "In 2 weeks (around 24 March 2025)"
    assert s.follow_up_as_written == "Review in 2 weeks."


def test_warning_signs_are_general_advice_for_named_conditions_or_the_general_line() -> None:
    fever = build_summary(_note(assessment="Acute febrile illness."), "Ram", EN)
    assert fever.warning_signs and "Difficulty breathing" in fever.warning_signs
    html = render_visit_summary(fever)
    assert "General advice for the condition named above, not a new diagnosis." in html
    plain = build_summary(_note(assessment="Osteoarthritis of the knee."), "Ram", EN)
    assert plain.conditions == ["wear-and-tear arthritis"] and plain.warning_signs == []
    assert "not a new diagnosis" not in render_visit_summary(plain)


def test_a_draft_is_refused() -> None:
    with pytest.raises(DraftNotAllowed, match="draft") as err:
        build_summary(_note(status=NoteStatus.DRAFT), "Ram", EN)
    assert isinstance(err.value, ValidationFailed)  # shown to the user as a message


def test_unconfirmed_names_give_the_clinician_a_notice_not_the_patient() -> None:
    med = Medication(name="lisinopril", found_by="sounds_like", heard_as="list in April", verified=False)
    s = build_summary(_note([med]), "Ram", EN)
    assert any("lisinopril" in n and "unclear speech" in n for n in s.notices)
    assert "unclear speech" not in render_visit_summary(s)


def test_unknown_language_falls_back_to_english_with_a_notice() -> None:
    lang, notice = choose("ta")
    assert lang.code == "en" and notice is not None and "'ta'" in notice
    for bad in ("../en", "EN/../hi", "", None):
        assert choose(bad)[0].code == "en"
    assert choose("HI") == (HI, None)
    assert {"en", "hi"} <= set(available())


def test_every_hindi_word_table_has_every_english_key() -> None:
    from backend.domain.visit_summary_lang import DATA_DIR, _load

    en, hi = _load(DATA_DIR / "en.toml"), _load(DATA_DIR / "hi.toml")
    for table, words in en.items():
        missing = set(words) - set(hi.get(table, {}))
        assert not missing, f"hi.toml [{table}] lacks {sorted(missing)}"
    assert all(re.search(r"[\u0900-\u097F]", str(v)) for v in hi["labels"].values() if v != "✓")


def test_html_escapes_every_value_from_the_record() -> None:
    evil = "<script>alert(1)</script>"
    note = _note(
        [_med(evil, strength="5 mg", verbatim="x", frequency="twice daily")],
        subjective=f"Came for {evil}.",
        chief_complaint=CitedText(text=f"{evil}"),
    )
    html = render_visit_summary(build_summary(note, f'Ram "{evil}"', EN, doctor=evil))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_drug_tried_without_help_is_neither_taken_nor_to_stop_on_the_patients_sheet() -> None:
    tried = _med("ibuprofen", status="stopped", status_reason='tried, did not help: "i tried ibuprofen, no help"')
    s = build_summary(
        _note([_med("metformin", strength="500 mg"), tried, _med("aspirin", status="stopped")]), "Ram", EN
    )
    assert [m.name for m in s.medicines] == ["metformin 500 mg"]
    assert s.stopped == ["aspirin"]  # told to stop; the tried one was never the patient's to stop
