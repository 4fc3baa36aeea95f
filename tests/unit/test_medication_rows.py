"""The one rule of every medication editor (note review and digitize): table rows back to medications."""

from __future__ import annotations

import math

from backend.domain.models import Evidence, Medication
from ui.medication_rows import edited_medications, medication_rows

COLUMNS = ["strength", "frequency", "instructions"]


def _original() -> list[Medication]:
    return [
        Medication(
            name="Metformin",
            verbatim="Glycomet",
            strength="500 mg",
            frequency="BD",
            verified=True,
            found_by="brand",
            evidence=Evidence(segment_ids=[3]),
        ),
        Medication(
            name="Lisinopril", strength="10 mg", verified=True, found_by="sounds_like", heard_as="list in April"
        ),
    ]


def test_an_unedited_table_gives_back_the_same_medications() -> None:
    meds = _original()
    assert edited_medications(medication_rows(meds, ["name", *COLUMNS]), meds, COLUMNS) == meds


def test_an_empty_cell_clears_its_field_whatever_the_editor_gives_for_it() -> None:
    rows = [
        {"name": "Metformin", "strength": "", "frequency": None, "instructions": "   "},
        {"name": "Lisinopril", "strength": math.nan, "frequency": " OD ", "instructions": "after food"},
    ]
    first, second = edited_medications(rows, _original(), COLUMNS)
    assert (first.strength, first.frequency, first.instructions) == (None, None, None)
    assert (second.strength, second.frequency, second.instructions) == (None, "OD", "after food")


def test_fields_outside_the_table_stay_as_they_were() -> None:
    rows = [{"name": "Metformin", "strength": "1 g"}, {"name": "Lisinopril", "frequency": "OD"}]
    first, second = edited_medications(rows, _original(), ["strength"])
    assert first.strength == "1 g" and first.frequency == "BD"  # frequency is not an edited column here
    assert first.verbatim == "Glycomet" and first.evidence.segment_ids == [3] and first.found_by == "brand"
    assert second.heard_as == "list in April" and second.frequency is None


def test_a_renamed_medication_is_no_longer_verified_and_a_nameless_row_is_dropped() -> None:
    rows = [{"name": " Metformin "}, {"name": "Losartan"}, {"name": "  ", "strength": "5 mg"}]
    kept = edited_medications(rows, _original(), COLUMNS)
    assert [(m.name, m.verified) for m in kept] == [("Metformin", True), ("Losartan", False)]


def test_added_rows_are_unverified_and_a_documents_editor_keeps_what_was_typed_as_written() -> None:
    rows = [*medication_rows(_original(), ["name", *COLUMNS]), {"name": "Dolo 650", "frequency": "SOS"}]
    in_note = edited_medications(rows, _original(), COLUMNS)[-1]
    on_document = edited_medications(rows, _original(), COLUMNS, added_verbatim=True)[-1]
    assert (in_note.name, in_note.verbatim, in_note.frequency, in_note.verified) == ("Dolo 650", "", "SOS", False)
    assert (on_document.name, on_document.verbatim) == ("Dolo 650", "Dolo 650")
