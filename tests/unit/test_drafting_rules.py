"""Rule pieces of the offline drafter: spoken numbers, negation scope, vital signs and their plausibility."""

from __future__ import annotations

import pytest

from backend.domain.drafting.negation import find_symptoms
from backend.domain.drafting.numbers import spoken_numbers_to_digits
from backend.domain.drafting.text import Pronouns, normalise, strip_fillers, tidy, to_third_person
from backend.domain.drafting.vitals import find_vitals


def symptoms_of(text: str) -> dict[str, bool]:
    return {f.name: f.present for f in find_symptoms(normalise(text)) if not f.hypothetical}


@pytest.mark.parametrize(
    ("spoken", "digits"),
    [
        ("one twenty over eighty", "120 over 80"),
        ("temperature of one oh one point two", "temperature of 101.2"),
        ("ninety eight percent", "98 percent"),
        ("pulse is eighty eight", "pulse is 88"),
        ("one hundred and fifty two over ninety-four", "152 over 94"),
        ("come back in two weeks", "come back in 2 weeks"),
        ("the one on the left", "the one on the left"),  # a pronoun, not a number
    ],
)
def test_spoken_numbers_become_digits(spoken: str, digits: str) -> None:
    assert spoken_numbers_to_digits(spoken) == digits


def test_denies_fever_means_fever_absent() -> None:
    assert symptoms_of("The patient denies fever.") == {"fever": False}


def test_negation_scope_ends_at_but() -> None:
    assert symptoms_of("No chest pain but has cough.") == {"chest pain": False, "cough": True}


def test_negation_covers_a_list() -> None:
    found = symptoms_of("I don't have any fever, chills or nausea")
    assert found == {"fever": False, "chills": False, "nausea": False}


def test_pseudo_negation_does_not_negate() -> None:
    assert symptoms_of("There has been no change in her headache.") == {"headache": True}


def test_hypothetical_mention_is_not_a_finding() -> None:
    findings = find_symptoms(normalise("Call me if you develop a fever."))
    assert [f.hypothetical for f in findings] == [True]


def test_affirmed_symptom_is_present() -> None:
    assert symptoms_of("I feel lightheaded and I have been coughing") == {"dizziness": True, "cough": True}


def vitals_of(text: str) -> list[tuple[str, str, str, bool]]:
    return [(v.kind, v.value, v.unit, v.plausible) for v in find_vitals(normalise(text))]


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("your blood pressure is one twenty over eighty", [("bp", "120/80", "mmHg", True)]),
        ("blood pressure 120 over 80 and pulse is 88", [("bp", "120/80", "mmHg", True), ("hr", "88", "bpm", True)]),
        ("you have a temperature of 101 point 2", [("temperature", "101.2", "F", True)]),
        ("temperature 37.5", [("temperature", "37.5", "C", True)]),
        ("your oxygen is ninety eight percent", [("spo2", "98", "%", True)]),
        ("respiratory rate of sixteen", [("rr", "16", "breaths/min", True)]),
        ("she weighs 180 pounds", [("weight", "180", "lb", True)]),
        ("my blood sugar was one forty this morning", [("glucose", "140", "mg/dL", True)]),
    ],
)
def test_vitals_in_spoken_forms(said: str, expected: list[tuple[str, str, str, bool]]) -> None:
    assert vitals_of(said) == expected


@pytest.mark.parametrize(
    ("said", "reason_part"),
    [
        ("heart rate is three hundred", "25-250"),
        ("blood pressure 300 over 200", "60-260"),
        ("blood pressure 120 over 180", "diastolic"),
        ("oxygen saturation 40 percent", "50-100"),
        ("temperature 120 degrees", "86-113"),
    ],
)
def test_implausible_vitals_are_kept_and_flagged(said: str, reason_part: str) -> None:
    (vital,) = find_vitals(normalise(said))
    assert not vital.plausible
    assert reason_part in vital.reason


def test_patient_speech_becomes_third_person() -> None:
    text = strip_fillers(normalise("um, so I've been feeling, uh, tired and my knee hurts"))
    assert tidy(to_third_person(text, "patient", Pronouns.for_sex("female"))) == (
        "The patient has been feeling tired and her knee hurts."
    )


def test_clinician_you_becomes_the_patient() -> None:
    text = strip_fillers(normalise("okay, I want you to take your medication and I'll see you in two weeks"))
    assert tidy(to_third_person(text, "doctor", Pronouns.for_sex("male"))) == (
        "I want him to take his medication and I will see him in 2 weeks."
    )
