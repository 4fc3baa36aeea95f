"""Words that are not a medication stay out of the list; hydrocodone combination brands are read as both drugs."""

from __future__ import annotations

import pytest

from backend.domain.medications import extract_mentions


@pytest.mark.parametrize(
    "text",
    ["I think it's all clear now.", "His alkaline phosphatase was high.", "Uric acid was 7.2 last month."],
)
def test_a_lab_result_or_an_everyday_phrase_is_not_a_medication(text: str) -> None:
    assert extract_mentions(text) == []


@pytest.mark.parametrize("brand", ["Lortab", "Norco", "Vicodin"])
def test_a_hydrocodone_combination_brand_is_hydrocodone_with_paracetamol(brand: str) -> None:
    (mention,) = extract_mentions(f"She takes {brand} 5 mg at night.")
    assert mention.medication.name == "hydrocodone + paracetamol"
    assert mention.medication.strength == "5 mg"
