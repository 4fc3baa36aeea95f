"""Field extractors of medication lines: every frequency, strength, duration, form, route and cue form."""

from __future__ import annotations

import pytest

from backend.domain.medications import fields


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OD", "once daily"),
        ("1 tab od", "once daily"),
        ("once daily", "once daily"),
        ("once a day", "once daily"),
        ("BD", "twice daily"),
        ("BID", "twice daily"),
        ("b.i.d.", "twice daily"),
        ("twice a day", "twice daily"),
        ("TDS", "three times daily"),
        ("TID", "three times daily"),
        ("three times daily", "three times daily"),
        ("QID", "four times daily"),
        ("HS", "at bedtime"),
        ("at bedtime", "at bedtime"),
        ("SOS", "as needed"),
        ("PRN", "as needed"),
        ("as needed", "as needed"),
        ("q8h", "every 8 hours"),
        ("q6h", "every 6 hours"),
        ("q12h", "every 12 hours"),
        ("every eight hours", "every 8 hours"),
        ("1-0-1", "twice daily"),
        ("1-1-1", "three times daily"),
        ("0-0-1", "once daily at night"),
        ("1-0-0", "once daily in the morning"),
        ("½-0-½", "twice daily"),
        ("1 - 1 - 1 - 1", "four times daily"),
        ("every evening", "once daily in the evening"),
        ("every morning", "once daily in the morning"),
        ("once a week", "once weekly"),
        ("stat", "once immediately"),
        ("q6h PRN", "every 6 hours as needed"),
        ("1-1-1 SOS", "three times daily as needed"),
    ],
)
def test_frequency_is_normalised_to_canonical_text(text: str, expected: str) -> None:
    found = fields.frequency(text)
    assert found is not None and found.value == expected


def test_plain_words_are_not_frequencies() -> None:
    assert fields.frequency("she is on metformin") is None  # "on" is not o.n.
    assert fields.frequency("12-03-2024") is None  # a date is not 1-0-1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500 mg", "500 mg"),
        ("500mg", "500 mg"),
        ("0.5 g", "0.5 g"),
        ("875/125", "875/125"),
        ("875 mg/125 mg", "875 mg/125 mg"),
        ("250 mg/5 ml", "250 mg/5 ml"),
        ("250mg/5ml", "250 mg/5 ml"),
        ("5 mcg", "5 mcg"),
        ("100 micrograms", "100 mcg"),
        ("100 IU", "100 IU"),
        ("60,000 IU", "60000 IU"),
        ("2 puffs", "2 puffs"),
        ("1 drop", "1 drop"),
        ("10 units", "10 units"),
        ("1%", "1%"),
    ],
)
def test_strength_forms(text: str, expected: str) -> None:
    found = fields.strength(text)
    assert found is not None and found.value == expected


def test_duration_fraction_is_not_a_strength() -> None:
    assert fields.strength("5/7") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x 5 days", "5 days"),
        ("x5d", "5 days"),
        ("for 2 weeks", "2 weeks"),
        ("5/7", "5 days"),
        ("2/52", "2 weeks"),
        ("1 month", "1 month"),
        ("10 days", "10 days"),
        ("for three days", "3 days"),
        ("for a week", "1 week"),
    ],
)
def test_duration_forms(text: str, expected: str) -> None:
    found = fields.duration(text)
    assert found is not None and found.value == expected


def test_twice_a_day_and_repeat_after_are_not_durations() -> None:
    assert fields.duration("twice a day") is None
    assert fields.duration("repeat after 1 week") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tab.", "tablet"),
        ("Tablet", "tablet"),
        ("Cap.", "capsule"),
        ("Capsule", "capsule"),
        ("Syp.", "syrup"),
        ("Syrup", "syrup"),
        ("Inj.", "injection"),
        ("Injection", "injection"),
        ("eye drops", "drops"),
        ("ointment", "ointment"),
        ("cream", "cream"),
        ("inhaler", "inhaler"),
        ("gel", "gel"),
        ("suspension", "suspension"),
        ("sachet", "sachet"),
    ],
)
def test_forms(text: str, expected: str) -> None:
    found = fields.form(text)
    assert found is not None and found.value == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PO", "oral"),
        ("by mouth", "oral"),
        ("IV", "IV"),
        ("IM", "IM"),
        ("SC", "SC"),
        ("subcut", "SC"),
        ("apply topically", "topical"),
        ("inhaled", "inhaled"),
        ("nasal", "nasal"),
        ("ophthalmic", "ophthalmic"),
        ("sublingual", "sublingual"),
        ("PR", "PR"),
    ],
)
def test_routes(text: str, expected: str) -> None:
    found = fields.route(text)
    assert found is not None and found.value == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("before food", "before food"),
        ("after food", "after food"),
        ("with meals", "with food"),
        ("empty stomach", "on an empty stomach"),
        ("AC", "before food"),
        ("PC", "after food"),
    ],
)
def test_instructions(text: str, expected: str) -> None:
    found = fields.instructions(text)
    assert found is not None and found.value == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("start metformin", "started"),
        ("continue the inhaler", "continued"),
        ("stop aspirin", "stopped"),
        ("discontinue warfarin", "stopped"),
        ("hold lisinopril", "stopped"),
    ],
)
def test_status_cues(text: str, expected: str) -> None:
    found = fields.status(text)
    assert found is not None and found.value == expected
