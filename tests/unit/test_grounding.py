"""The grounding check: what a model wrote must be said in the segments it cites."""

from __future__ import annotations

from typing import Any

from backend.domain.grounding import (
    CitedFact,
    CitedSentence,
    ground_draft,
    ground_text_medications,
    numbers_in,
    numbers_preserved,
    supports_term,
)
from backend.domain.models import Evidence, Medication, Segment

SEGMENTS = [
    Segment(id=0, start=0, end=2, text="I've had a cough for two weeks.", speaker="patient"),
    Segment(id=1, start=2, end=4, text="Your temperature is 38.5 and oxygen is ninety six percent.", speaker="doctor"),
    Segment(
        id=2,
        start=4,
        end=6,
        text="I'll prescribe Dolo 650, one tablet three times a day for five days.",
        speaker="doctor",
    ),
    Segment(id=3, start=6, end=8, text="This looks like an upper respiratory infection.", speaker="doctor"),
    Segment(id=4, start=8, end=9, text="My left knee hurts too.", speaker="patient"),
]


def med(name: str, ids: list[int], verbatim: str = "", **fields: Any) -> Medication:
    return Medication(name=name, verbatim=verbatim, evidence=Evidence(segment_ids=ids), **fields)


def test_numbers_are_canonical() -> None:
    assert numbers_in("BP 120/80, 1,000 mg, 5.0 ml, 0.50 g, 007") == ["120", "80", "1000", "5", "0.5", "7"]
    assert numbers_preserved("HR 78 is 12 above 66", "Your heart rate of 78 is 12 above your usual 66.")
    assert not numbers_preserved("HR 78 is 12 above 66", "Heart rate is 12 above normal.")
    assert not numbers_preserved("HR 78", "HR 78, about 10% higher")


def test_spoken_numbers_support_digits() -> None:
    assert supports_term(SEGMENTS[1].text, "SpO2 96") is False  # "spo2" is not said
    assert supports_term("oxygen is ninety six percent", "oxygen 96 percent")
    assert supports_term(SEGMENTS[0].text, "cough 2 weeks")


def test_brand_as_spoken_grounds_the_generic_name_and_dose() -> None:
    m = med(
        "paracetamol", [2], verbatim="Dolo 650", strength="650 mg", frequency="three times a day", duration="5 days"
    )
    result = ground_draft(SEGMENTS, medications=[m])
    assert result.medications == [m] and result.unsupported == []


def test_invented_drug_and_wrong_dose_are_removed_and_listed() -> None:
    invented = med("amoxicillin", [2], verbatim="amoxicillin 500", strength="500 mg")
    wrong_dose = med("paracetamol", [2], verbatim="Dolo", strength="500 mg")
    uncited = med("paracetamol", [], verbatim="Dolo")
    ghost = med("paracetamol", [42], verbatim="Dolo")
    result = ground_draft(SEGMENTS, medications=[invented, wrong_dose, uncited, ghost])
    assert [(m.name, m.strength) for m in result.medications] == [("paracetamol", None)]
    assert result.unsupported == [
        "Medication “amoxicillin 500 mg”: not found in the recording",
        "Strength “500 mg” of paracetamol: not found in the recording",
        "Medication “paracetamol”: not found in the recording (no valid citation)",
    ]


def test_vitals_need_their_numbers_in_the_cited_segment() -> None:
    vitals = [
        CitedFact(name="temperature", value="38.5", unit="C", segment_ids=[1]),
        CitedFact(name="spo2", value="96", unit="%", segment_ids=[1]),
        CitedFact(name="bp", value="120/80", unit="mmHg", segment_ids=[1]),
        CitedFact(name="temperature", value="38.5", unit="C", segment_ids=[0]),  # wrong citation
        CitedFact(name="hr", value="normal", segment_ids=[1]),  # no number: nothing to check, not a vital
    ]
    result = ground_draft(SEGMENTS, vitals=vitals)
    assert [(v.name, v.value) for v in result.vitals] == [("temperature", "38.5"), ("spo2", "96")]
    assert len(result.unsupported) == 3 and "bp 120/80 mmHg" in result.unsupported[0]


def test_diagnoses_need_their_words_or_a_given_synonym() -> None:
    dx = [
        CitedFact(name="Upper respiratory infection", segment_ids=[3]),
        CitedFact(name="Pneumonia", segment_ids=[3]),
        CitedFact(name="URTI", segment_ids=[3]),
        CitedFact(name="Right knee pain", segment_ids=[4]),  # laterality matters
    ]
    result = ground_draft(SEGMENTS, diagnoses=dx, synonyms={"urti": ["upper respiratory infection"]})
    assert [d.name for d in result.diagnoses] == ["Upper respiratory infection", "URTI"]
    assert [u.split("”")[0] for u in result.unsupported] == ["Diagnosis “Pneumonia", "Diagnosis “Right knee pain"]


def test_sentences_lose_invented_numbers_and_removed_items() -> None:
    sentences = [
        CitedSentence(section="subjective", text="Cough for 2 weeks.", segment_ids=[0]),
        CitedSentence(section="subjective", text="Cough for 3 weeks.", segment_ids=[0]),
        CitedSentence(section="plan", text="Start amoxicillin.", segment_ids=[2]),
        CitedSentence(section="assessment", text="Likely pneumonia.", segment_ids=[3]),
        CitedSentence(section="plan", text="Dolo 650 three times a day.", segment_ids=[2]),
        CitedSentence(section="plan", text="Rest.", segment_ids=[]),
    ]
    result = ground_draft(
        SEGMENTS,
        sentences=sentences,
        medications=[med("amoxicillin", [2])],
        diagnoses=[CitedFact(name="pneumonia", segment_ids=[3])],
    )
    assert [s.text for s in result.sentences] == ["Cough for 2 weeks.", "Dolo 650 three times a day."]
    assert len(result.unsupported) == 2 + 4


def test_drug_finder_catches_drugs_named_only_in_sentences() -> None:
    def finder(text: str) -> list[str]:
        table = {"dolo": "paracetamol", "paracetamol": "paracetamol", "ibuprofen": "ibuprofen"}
        return [table[w] for w in text.lower().replace(".", "").split() if w in table]

    sentences = [
        CitedSentence(text="Paracetamol three times a day.", segment_ids=[2]),  # Dolo said: same generic
        CitedSentence(text="Ibuprofen as needed.", segment_ids=[2]),
    ]
    result = ground_draft(SEGMENTS, sentences=sentences, find_drugs=finder)
    assert [s.text for s in result.sentences] == ["Paracetamol three times a day."]


def test_document_medications_must_be_printed() -> None:
    text = "Rx\nTab Glycomet 500 1-0-1\nTab Telma 40 0-0-1"
    meds = [
        med("metformin", [], verbatim="Tab Glycomet 500 1-0-1", strength="500 mg"),
        med("telmisartan", [], verbatim="Tab Telma 40", strength="80 mg"),
        med("atorvastatin", [], verbatim="Atorva 10"),
    ]
    kept, unsupported = ground_text_medications(meds, text)
    assert [(m.name, m.strength) for m in kept] == [("metformin", "500 mg"), ("telmisartan", None)]
    assert [u.split(":")[0] for u in unsupported] == ["Strength “80 mg” of telmisartan", "Medication “atorvastatin”"]
    assert all(u.endswith("not found in the document") for u in unsupported)
