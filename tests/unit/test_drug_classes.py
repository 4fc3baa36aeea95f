"""The class table covers every generic the app knows, agrees with its ATC groups, and maps questions to classes."""

from __future__ import annotations

import re

import pytest

from backend.domain.drug_classes import (
    asked_classes,
    atc_in_class,
    class_named_in,
    class_table,
    classes_in_question,
    classes_of,
    drug_table,
    is_classified,
)
from backend.domain.medications.lexicon import DATA_DIR, brands, inn_names
from backend.domain.medications.names import lookup_name

_ATC = re.compile(r"^[A-Z](\d\d([A-Z]([A-Z](\d\d)?)?)?)?$")  # level 1 to level 5


def _recovery_generics() -> set[str]:
    out: set[str] = set()
    for line in (DATA_DIR / "recovery_drugs.txt").read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()  # as the recovery reads it: '#' starts a comment anywhere
        if name:
            match = lookup_name(name, correct=False)
            assert match is not None, name
            out.update(match.components)
    return out


def test_every_generic_of_the_brand_inn_and_primary_care_lists_has_a_row() -> None:
    rows = drug_table()
    brand_generics = {g for b in brands().values() for g in b.generics}
    inn_generics = {g for components in inn_names().values() for g in components}
    for source, generics in (
        ("brands.csv", brand_generics),
        ("inn_names.csv", inn_generics),
        ("recovery_drugs.txt", _recovery_generics()),
    ):
        missing = sorted(g for g in generics if g not in rows)
        assert not missing, f"{source}: no row in drug_classes.csv for {missing}"


def test_rows_use_known_classes_valid_atc_codes_and_agree_with_each_class_atc_groups() -> None:
    classes = class_table()
    for row in drug_table().values():
        assert all(_ATC.match(code) for code in row.atc), row
        assert set(row.classes) <= set(classes), row
        for c in classes.values():
            if any(code.startswith(p) for code in row.atc for p in c.atc):
                assert c.id in row.classes, f"{row.generic} has an ATC code of '{c.id}' but not the class"
    # Every class is reachable from a question, and every same-class group has drugs in it.
    assert all(c.words or c.cue_words for c in classes.values())
    assert all(any(c.id in r.classes for r in drug_table().values()) for c in classes.values() if c.same_class)


@pytest.mark.parametrize(
    ("name", "expected", "atc"),
    [
        ("telmisartan", {"blood pressure", "arb"}, ("C09CA07",)),
        ("Telma-H", {"blood pressure", "arb", "diuretic"}, ("C09CA07", "C03AA03")),  # a brand: its generics
        ("amlodipine besylate", {"blood pressure", "calcium channel blocker"}, ("C08CA01",)),  # a salt
        ("metformin", {"sugar/diabetes"}, ()),
        ("warfarin", {"blood thinner", "anticoagulant"}, ()),
        ("aspirin", {"blood thinner", "antiplatelet", "painkiller"}, ()),
        ("atorvastatin", {"cholesterol", "statin"}, ()),
        ("salbutamol", {"inhaler", "asthma/copd"}, ()),
        ("acetaminophen", {"painkiller"}, ()),  # a US name: through the INN table
    ],
)
def test_class_lookup(name: str, expected: set[str], atc: tuple[str, ...]) -> None:
    assert expected <= set(classes_of(name)) and is_classified(name)
    if atc:
        assert atc_in_class(name, "blood pressure") == atc


def test_unknown_names_have_no_class() -> None:
    assert classes_of("Xyzolin") == () and not is_classified("Xyzolin")
    assert not is_classified("telmisartan + Xyzolin") and "arb" in classes_of("telmisartan + Xyzolin")
    assert "blood pressure" not in classes_of("paracetamol") and "antibiotic" not in classes_of("paracetamol")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Is the patient on any blood pressure medicine, and since when?", ["blood pressure"]),
        ("Is he on BP tablets?", ["blood pressure"]),
        ("hypertension medicine", ["blood pressure"]),
        ("sugar tablets", ["sugar/diabetes"]),
        ("diabetes medicines", ["sugar/diabetes"]),
        ("any blood thinner?", ["blood thinner"]),
        ("Is she anticoagulated? anticoagulant", ["anticoagulant"]),
        ("statins", ["statin"]),
        ("Any painkiller?", ["painkiller"]),
        ("Has she had antibiotics?", ["antibiotic"]),
        ("Is she on a statin or a blood thinner?", ["statin", "blood thinner"]),
        ("Any medicine for uric acid?", ["gout"]),  # the longer words win over "acid"
        ("Two ARBs?", ["arb"]),
    ],
)
def test_questions_map_to_classes(question: str, expected: list[str]) -> None:
    assert [c.id for c in asked_classes(question)] == expected


@pytest.mark.parametrize(
    "question",
    [
        "What was her BP?",  # a reading, not a medicine
        "Any episodes of low sugar?",
        "Any drug allergies?",  # what she is allergic to, not allergy medicines
        "Is she taking folic acid?",  # a drug's name, not the acid/stomach class
        "Is he on metformin?",
    ],
)
def test_questions_that_are_not_about_a_class(question: str) -> None:
    assert asked_classes(question) == []


def test_condition_words_map_but_need_a_medication_word() -> None:
    [bp] = classes_in_question("BP")
    assert bp.drug_class.id == "blood pressure" and bp.needs_cue
    [diabetes] = classes_in_question("diabetes")
    assert diabetes.drug_class.id == "sugar/diabetes" and diabetes.needs_cue and diabetes.said == "diabetes"
    assert classes_in_question("blood thinner")[0].needs_cue is False


def test_free_text_names_of_a_class_include_brands_but_not_english_word_brands() -> None:
    assert class_named_in("Tab. Telma 40 mg OD started", "blood pressure") == "telma"
    assert class_named_in("Continue amlodipine 5 mg.", "calcium channel blocker") == "amlodipine"
    assert class_named_in("Review with BP log.", "blood pressure") is None
    assert class_named_in("Heat oil in a pan.", "ppi") is None  # "Pan" (pantoprazole) is also an English word
