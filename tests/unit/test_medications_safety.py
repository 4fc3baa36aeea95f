"""No silent dose or drug errors on prescription lines: OCR look-alike digits, strengths the drug is not made in,
dosage forms that are not drug names, combinations that keep every component, timing words kept."""

from __future__ import annotations

import io
import json

import pytest

from backend.__main__ import main
from backend.domain.medications import parse_line
from backend.domain.medications.ocr_digits import read_numbers
from backend.domain.medications.strengths import check_strength, could_be_made_in, teen_or_ten


@pytest.mark.parametrize(
    ("line", "strength"),
    [("Tab Losartan 5O mg OD", "50 mg"), ("Tab Atenolol 5Omg OD", "50 mg"), ("Cap Amoxicillin S00 mg TDS", "500 mg")],
)
def test_letters_inside_a_strength_are_read_as_digits_and_flagged(line: str, strength: str) -> None:
    med = parse_line(line)
    assert med is not None
    assert med.strength == strength
    assert any("OCR" in f and strength.split()[0] in f for f in med.flags)


@pytest.mark.parametrize("text", ["Tab Pan 40 OD", "Syp Ascoril SOS", "Tab Dolo 650 BD", "Inj B12 once weekly"])
def test_letters_outside_strengths_are_left_alone(text: str) -> None:
    assert read_numbers(text) == (text, [])


def test_a_strength_the_drug_is_not_made_in_is_flagged_with_the_tenfold_hint() -> None:
    med = parse_line("Tab Losartan 5 mg OD")
    assert med is not None and med.strength == "5 mg"  # never changed, only flagged
    assert len(med.flags) == 1 and "tenfold" in med.flags[0] and "25, 50, 100" in med.flags[0]


def test_a_usual_strength_has_no_flag_and_an_unlisted_drug_is_not_judged() -> None:
    assert check_strength("losartan", "50 mg") is None
    assert check_strength("metformin", "0.5 g") is None  # grams compared as milligrams
    assert check_strength("someunlisteddrug", "3 mg") is None
    assert check_strength("amlodipine", "7 mg") is not None


def test_eye_drops_are_a_form_never_the_drug() -> None:
    med = parse_line("Eye drops Moxifloxacin 0.5% 1 drop QID x 7 days")
    assert med is not None
    assert (med.name, med.form, med.route, med.frequency, med.duration) == (
        "moxifloxacin", "drops", "ophthalmic", "four times daily", "7 days"
    )  # fmt: skip


def test_a_combination_keeps_every_component_and_its_strength() -> None:
    med = parse_line("Tab. Metformin 500mg + Glimepiride 1mg 1-0-0")
    assert med is not None
    assert (med.name, med.strength, med.frequency) == (
        "metformin + glimepiride",
        "500 mg + 1 mg",
        "once daily in the morning",
    )
    assert med.flags == []


@pytest.mark.parametrize(
    ("line", "field", "value"),
    [
        ("Tab Amlodipine 5 mg at 6 pm", "frequency", "once daily at 6 pm"),
        ("Tab Levothyroxine 50 mcg qAM", "frequency", "once daily in the morning"),
        ("Tab Nitroglycerin 0.4 mg SL q5min PRN", "frequency", "every 5 minutes as needed"),
        ("Syp Ambroxol 5 ml TDS after lunch", "instructions", "after lunch"),
        ("Cap Omeprazole 20mg before meals", "instructions", "before meals"),
        ("T. Pan 40 1-0-0 BBF", "instructions", "before breakfast"),
    ],
)
def test_timing_words_are_kept(line: str, field: str, value: str) -> None:
    med = parse_line(line)
    assert med is not None and getattr(med, field) == value


def test_meds_parse_command_prints_a_list_aligned_with_the_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process (the command's own code path, without a second load of the drug dictionary).
    lines = "Tab Losartan 5O mg OD\nDiet: low salt\n\nTab. Metformin 500mg + Glimepiride 1mg 1-0-0\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert main(["meds", "parse", "--json"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert len(out) == 4 and out[1] is None and out[2] is None
    assert out[0]["name"] == "losartan" and out[0]["strength"] == "50 mg" and out[0]["flags"]
    assert set(out[3]) == {"name", "verbatim", "strength", "form", "route", "frequency", "duration", "instructions",
                           "verified", "flags"}  # fmt: skip


def test_a_bare_number_after_a_name_is_read_too_but_not_vitamin_b12() -> None:
    med = parse_line("Tab. Dolo 65O 1-1-1 x 3 days")
    assert med is not None and med.strength == "650 mg" and med.flags
    assert read_numbers("Inj B12 OD") == ("Inj B12 OD", [])


def test_a_strength_heard_in_speech_gets_the_same_check() -> None:
    from backend.domain.drafting import draft_note
    from backend.domain.models import Segment

    segments = [
        Segment(
            id=0, start=0, end=3, text="I'm going to start you on losartan 5 milligrams once a day.", speaker="doctor"
        )
    ]
    meds = draft_note(segments).medications
    assert [m.name for m in meds] == ["losartan"]
    assert meds[0].strength == "5 mg" and any("tenfold" in f for f in meds[0].flags)


def test_a_strength_said_could_be_whole_or_half_tablets_or_the_number_that_sounds_like_it() -> None:
    assert could_be_made_in("dabigatran", 150, "mg") and could_be_made_in("dabigatran", 300, "milligrams")  # 2 x 150
    assert not could_be_made_in("dabigatran", 20, "mg")  # 75, 110, 150: no whole or half tablets make 20
    assert could_be_made_in("metformin", 2, "g") and not could_be_made_in("metformin", 100, "mg")
    assert could_be_made_in("meloxicam", 50, "mg")  # "fifteen" heard "fifty"
    assert (teen_or_ten(15), teen_or_ten(50), teen_or_ten(20), teen_or_ten(7.5)) == (50, 15, None, None)
    assert could_be_made_in("levothyroxine", 88, "micrograms") and not could_be_made_in("levothyroxine", 7, "mcg")
    # The table knows nothing of the drug, of the unit, or of a combination: it could be.
    assert could_be_made_in("nodrugatall", 3, "mg") and could_be_made_in("levothyroxine", 50, "mg")
