"""Who a scanned document is for and when it was written: header variants, name matching, comparison."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from backend.domain.document_identity import (
    age_on,
    compare_identity,
    describe,
    describe_patient,
    name_similarity,
    names_agree,
    read_identity,
)
from backend.domain.models import Patient

TODAY = date(2025, 6, 1)
LETTERHEAD = (
    "Sunrise Family Clinic\n81 MG Road, Bengaluru 560084 Ph: 080 2536 1215\nDr. P. Nair, MBBS Reg. No. KMC 43994\n"
)

# (header text, region, expected fields). Fields not listed must be None.
HEADERS: list[tuple[str, str, str, dict[str, Any]]] = [
    (
        "indian-name-age-sex",
        "Name: Kavita Joshi  Age: 52 F\nDate: 12/03/2024",
        "IN",
        {"name": "Kavita Joshi", "age": 52, "sex": "female", "date": date(2024, 3, 12)},
    ),
    (
        "pt-title-slash",
        "Pt: Mr. R. Kumar 45/M      Dt. 12-Mar-2024",
        "IN",
        {"name": "Mr. R. Kumar", "age": 45, "sex": "male", "date": date(2024, 3, 12)},
    ),
    (
        "patient-name-dash-iso-date",
        "Patient Name - Sita Devi\nUHID: KH-2023-00123\n2024-03-12",
        "IN",
        {"name": "Sita Devi", "patient_ref": "KH-2023-00123", "date": date(2024, 3, 12)},
    ),
    (
        "letterhead-phone-and-council-number-are-not-the-patients",
        LETTERHEAD + "Patient: Joseph DSouza  Age/Sex: 34/F Date: 08/10/2024\nRx\n1. Tab. Metformin 500 mg BD",
        "IN",
        {"name": "Joseph DSouza", "age": 34, "sex": "female", "date": date(2024, 10, 8)},
    ),
    (
        "us-dob-mrn-month-first",
        "Patient: John A. Smith   DOB: 04/12/1961   MRN: 00123456\nSex: M\nDate: 03/12/2024",
        "US",
        {
            "name": "John A. Smith",
            "sex": "male",
            "dob": date(1961, 4, 12),
            "patient_ref": "00123456",
            "date": date(2024, 3, 12),
        },
    ),
    (
        "us-written-month-and-phone",
        "Patient Name: Maria Garcia\nDOB: 07/22/1980  Phone: (415) 555-2671\nDate of visit: March 12, 2024",
        "US",
        {"name": "Maria Garcia", "dob": date(1980, 7, 22), "phone": "+14155552671", "date": date(2024, 3, 12)},
    ),
    (
        "ocr-noise-in-labels-and-digits",
        "Narne: Kavlta Josh1   Agc: 52Y/F\nDate: I2/O3/2024",
        "IN",
        {"name": "Kavlta Josh1", "age": 52, "sex": "female", "date": date(2024, 3, 12)},
    ),
    (
        "printed-date-and-follow-up-date",
        "Name: Ram Kumar   Age: 45 yrs  Sex: Male\nDate: 12/03/2024\nAdvice: low salt diet\nReview on: 26/03/2024",
        "IN",
        {"name": "Ram Kumar", "age": 45, "sex": "male", "date": date(2024, 3, 12), "follow_up": date(2024, 3, 26)},
    ),
    (
        "follow-up-printed-before-the-date",
        "Next visit: 02/04/2024\nPatient: Sita Devi 34/F\nDate: 05/03/2024",
        "IN",
        {"name": "Sita Devi", "age": 34, "sex": "female", "date": date(2024, 3, 5), "follow_up": date(2024, 4, 2)},
    ),
    (
        "relative-and-honorific",
        "Name of Patient: Smt. Lakshmi Iyer W/o Ramesh Iyer  Age: 60 yrs  Sex: Female\nDate: 5th January 2024",
        "IN",
        {"name": "Smt. Lakshmi Iyer", "age": 60, "sex": "female", "date": date(2024, 1, 5)},
    ),
    (
        "mobile-in-patient-block",
        "Pt Name: Mohd Iqbal   Age/Sex: 61 / M\nMob: 98450 12345   OPD No: 2024/5531\nDate: 1.2.2024",
        "IN",
        {
            "name": "Mohd Iqbal",
            "age": 61,
            "sex": "male",
            "phone": "+919845012345",
            "patient_ref": "2024/5531",
            "date": date(2024, 2, 1),
        },
    ),
    (
        "infant-age-in-months",
        "Patient: Baby of Priya Nair  Age: 8 months  Sex: F\nDated 14-02-24",
        "IN",
        {"name": "Baby of Priya Nair", "age": 0, "sex": "female", "date": date(2024, 2, 14)},
    ),
    (
        "no-name-only-a-date",
        "City Care Polyclinic\nDate: 20/05/2025\nRx\nTab. Dolo 650 SOS for fever",
        "IN",
        {"date": date(2025, 5, 20)},
    ),
    (
        "nothing-stated",
        "Patient reports fever for three days\nTab. Dolo 650 1-0-1 x 3 days after food",
        "IN",
        {},
    ),
    (
        "sex-before-age",
        "Patient: Gurpreet Singh   M/58\nDate: 2024.11.03",
        "IN",
        {"name": "Gurpreet Singh", "age": 58, "sex": "male", "date": date(2024, 11, 3)},
    ),
    (
        "day-above-twelve-in-us-order",
        "Patient: Anita Desai  F\nDate: 25/03/2024",
        "US",
        {"name": "Anita Desai", "sex": "female", "date": date(2024, 3, 25)},
    ),
    (
        "gender-word-and-uhid-without-colon",
        "PATIENT NAME  HARISH RAO\nAGE 70 GENDER MALE   UHID 000451287\nDATE 09-DEC-2023",
        "IN",
        {"name": "HARISH RAO", "age": 70, "sex": "male", "patient_ref": "000451287", "date": date(2023, 12, 9)},
    ),
]


@pytest.mark.parametrize(("text", "region", "expected"), [h[1:] for h in HEADERS], ids=[h[0] for h in HEADERS])
def test_header_variants(text: str, region: str, expected: dict[str, Any]) -> None:
    identity = read_identity(text, region, TODAY)
    got = {
        "name": identity.name,
        "age": identity.age,
        "sex": identity.sex,
        "phone": identity.phone,
        "patient_ref": identity.patient_ref,
        "dob": identity.dob,
        "date": identity.date.day if identity.date else None,
    }
    follow_ups = [d.day for d in identity.other_dates if d.kind == "follow_up"]
    want = {k: expected.get(k) for k in got}
    assert got == want
    assert follow_ups == ([expected["follow_up"]] if "follow_up" in expected else [])


def test_region_decides_the_order_of_an_ambiguous_numeric_date() -> None:
    text = "Name: Ram Kumar\nDate: 03/12/2024"
    india, us = read_identity(text, "IN", TODAY), read_identity(text, "US", TODAY)
    assert india.date is not None and us.date is not None
    assert (india.date.day, us.date.day) == (date(2024, 12, 3), date(2024, 3, 12))
    assert india.date.ambiguous and us.date.ambiguous


def test_a_future_date_is_not_the_documents_date() -> None:
    identity = read_identity("Name: Ram Kumar\nDate: 14/11/2025", "IN", TODAY)
    assert identity.date is None
    assert [d.kind for d in identity.other_dates] == ["future"]


def test_region_order_giving_a_future_date_falls_back_to_the_other_order() -> None:
    # Month first (US) this is 5 November 2025, months ahead; day first it is 11 May 2025.
    identity = read_identity("Name: Ram Kumar\nDate: 11/05/2025", "US", TODAY)
    assert identity.date is not None
    assert identity.date.day == date(2025, 5, 11) and identity.date.ambiguous


@pytest.mark.parametrize(
    ("document", "registered"),
    [
        ("Mr. R. Kumar", "Ram Kumar"),
        ("Kumar Ram", "Ram Kumar"),
        ("Kavlta Josh1", "Kavita Joshi"),
        ("Mohd Iqbal", "Mohammed Iqbal"),
        ("Joseph DSouza", "Joseph D'Souza"),
        ("KavitaJoshi", "Kavita Joshi"),
        ("Smt. Sita Devi", "Sita Devi"),
        ("Kavitha Joshi", "Kavita Joshi"),
        ("Sharma Arjun ji", "Arjun Sharma"),
        ("Lakshmi Iyer W/o Ramesh Iyer", "Lakshmi Iyer"),
    ],
)
def test_names_that_are_the_same_person(document: str, registered: str) -> None:
    assert names_agree(document, registered), name_similarity(document, registered)


@pytest.mark.parametrize(
    ("document", "registered"),
    [
        ("Kavita Joshi", "Sita Devi"),
        ("Ram Verma", "Ram Kumar"),
        ("Sunita Yadav", "Anita Desai"),
        ("R. K.", "Ram Kumar"),  # initials alone say too little
        ("Rahul Verma", "Ram Kumar"),
        ("Meena Kumari", "Kavya Menon"),
    ],
)
def test_names_that_are_not(document: str, registered: str) -> None:
    assert names_agree(document, registered) is False


def _patient(**kw: Any) -> Patient:
    base: dict[str, Any] = {"patient_id": "PAT_0000abcd", "name": "Sita Devi", "dob": "1990-07-01", "sex": "female"}
    return Patient(**{**base, **kw})


def test_mismatch_lists_the_fields_that_disagree_and_what_the_document_says() -> None:
    identity = read_identity("Name: Kavita Joshi  Age: 52 F\nDate: 12/03/2024", "IN", TODAY)
    check = compare_identity(identity, _patient(), TODAY)
    assert check.status == "mismatch"
    assert check.disagreeing == ["name", "age"]
    by_field = {f.field: f for f in check.fields}
    assert (by_field["name"].document, by_field["name"].record) == ("Kavita Joshi", "Sita Devi")
    assert (by_field["age"].document, by_field["age"].record) == ("52", "33")  # her age on the document's date
    assert by_field["sex"].status == "agree"
    assert describe(identity) == "Kavita Joshi, 52 F"
    assert describe_patient(_patient(), TODAY) == "Sita Devi, 34 F"


def test_match_with_initials_title_and_age_on_the_documents_date() -> None:
    identity = read_identity("Pt: Mr. R. Kumar 45/M   Date: 12/03/2020", "IN", TODAY)
    ram = _patient(name="Ram Kumar", dob="1975-01-10", sex="male")
    check = compare_identity(identity, ram, TODAY)
    assert check.status == "match", check.fields
    assert age_on(date(1975, 1, 10), TODAY) == 50  # five years older today: compared on the document's date


def test_phone_and_id_compared_after_normalising() -> None:
    identity = read_identity("Patient: Sita Devi\nMobile: 098450 12345  UHID: uh-0042\nDate: 01/02/2024", "IN", TODAY)
    same = compare_identity(identity, _patient(phone="+919845012345", external_id="UH42"), TODAY)
    assert same.status == "match"
    other = compare_identity(identity, _patient(phone="+919845099999", external_id="UH43"), TODAY)
    assert other.status == "mismatch" and other.disagreeing == ["phone", "id"]


def test_sex_alone_can_disagree() -> None:
    identity = read_identity("Patient: Sita Devi  Age/Sex: 29/M  Date: 28/01/2025", "IN", TODAY)
    check = compare_identity(identity, _patient(dob="1995-06-01"), TODAY)
    assert check.status == "mismatch" and check.disagreeing == ["sex"]


def test_not_stated_when_the_document_names_nobody() -> None:
    identity = read_identity("Tab. Dolo 650 1-0-1 x 3 days\nDate: 20/05/2025", "IN", TODAY)
    check = compare_identity(identity, _patient(), TODAY)
    assert check.status == "not_stated" and check.disagreeing == []
    assert identity.date is not None and identity.date.day == date(2025, 5, 20)


def test_fields_missing_from_the_record_are_not_held_against_the_document() -> None:
    identity = read_identity("Name: Sita Devi  Age: 34 F\nMRN: 5521", "IN", TODAY)
    check = compare_identity(identity, _patient(dob=None, sex=None), TODAY)
    assert check.status == "match"
    assert {f.field: f.status for f in check.fields} == {
        "name": "agree",
        "age": "not_recorded",
        "sex": "not_recorded",
        "phone": "not_stated",
        "id": "not_recorded",
    }
