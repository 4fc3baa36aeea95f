"""Drug-name lookup: Indian brands, combinations, INN names, the unverified and near-miss rules.

The drug dictionary loads lazily once per process, so this module pays for it once per session.
"""

from __future__ import annotations

import threading

import pytest

from backend.domain.medications import dictionary, lookup_name, parse_line, warm_up


@pytest.mark.parametrize(
    ("brand", "generic"),
    [
        ("Dolo", "paracetamol"),
        ("Crocin", "paracetamol"),
        ("Calpol", "paracetamol"),
        ("Pan", "pantoprazole"),
        ("Pantop", "pantoprazole"),
        ("Pantocid", "pantoprazole"),
        ("Glycomet", "metformin"),
        ("Telma", "telmisartan"),
        ("Ecosprin", "aspirin"),
        ("Asthalin", "salbutamol"),
        ("Montair", "montelukast"),
        ("Allegra", "fexofenadine"),
        ("Azithral", "azithromycin"),
        ("Azee", "azithromycin"),
        ("Thyronorm", "levothyroxine"),
        ("Amlokind", "amlodipine"),
        ("Amlong", "amlodipine"),
        ("Rosuvas", "rosuvastatin"),
        ("Atorva", "atorvastatin"),
        ("Januvia", "sitagliptin"),
        ("Zerodol", "aceclofenac"),
        ("Cetzine", "cetirizine"),
        ("Meftal", "mefenamic acid"),
        ("Omez", "omeprazole"),
        ("Rantac", "ranitidine"),
        ("Ondem", "ondansetron"),
        ("Taxim-O", "cefixime"),
        ("Cifran", "ciprofloxacin"),
        ("Norflox", "norfloxacin"),
        ("Metrogyl", "metronidazole"),
        ("Limcee", "ascorbic acid"),
        ("Budecort", "budesonide"),
        ("Levipil", "levetiracetam"),
    ],
)
def test_indian_brands_map_to_generic(brand: str, generic: str) -> None:
    match = lookup_name(brand)
    assert match is not None
    assert match.generic == generic
    assert match.source == "brand"
    assert match.corrected_from is None


@pytest.mark.parametrize(
    ("name", "components"),
    [
        ("Pan-D", ("pantoprazole", "domperidone")),
        ("Pantop-D", ("pantoprazole", "domperidone")),
        ("Pantocid-D", ("pantoprazole", "domperidone")),
        ("Augmentin", ("amoxicillin", "clavulanic acid")),
        ("Telma-H", ("telmisartan", "hydrochlorothiazide")),
        ("Combiflam", ("ibuprofen", "paracetamol")),
        ("Janumet", ("sitagliptin", "metformin")),
        ("Foracort", ("formoterol", "budesonide")),
        ("Seroflo", ("salmeterol", "fluticasone")),
        ("Duolin", ("levosalbutamol", "ipratropium")),
        ("co-amoxiclav", ("amoxicillin", "clavulanic acid")),
    ],
)
def test_combinations_keep_every_component(name: str, components: tuple[str, ...]) -> None:
    match = lookup_name(name)
    assert match is not None
    assert match.components == components
    assert match.generic == " + ".join(components)


def test_pantop_d_is_never_opium() -> None:
    match = lookup_name("Pantop-D")
    assert match is not None and "opium" not in match.generic


@pytest.mark.parametrize(
    ("us_name", "inn"),
    [("acetaminophen", "paracetamol"), ("Tylenol", "paracetamol"), ("albuterol", "salbutamol"),
     ("Ventolin", "salbutamol"), ("glyburide", "glibenclamide"), ("Lipitor", "atorvastatin")],
)  # fmt: skip
def test_dictionary_names_are_shown_as_inn(us_name: str, inn: str) -> None:
    match = lookup_name(us_name)
    assert match is not None and match.generic == inn


@pytest.mark.parametrize("word", ["I", "Take", "Patient", "the", "daily", "tablet", "antibiotics", "caps", "at 10"])
def test_common_words_are_not_drugs(word: str) -> None:
    assert lookup_name(word) is None


def test_ocr_digit_noise_is_repaired_and_recorded() -> None:
    match = lookup_name("Metf0rmin")
    assert match is not None and match.generic == "metformin" and match.corrected_from == "Metf0rmin"
    dolo = lookup_name("Dol0")
    assert dolo is not None and dolo.generic == "paracetamol" and dolo.corrected_from == "Dol0"


def test_near_miss_corrects_one_edit_on_long_names() -> None:
    match = lookup_name("Amlodipin")
    assert match is not None
    assert match.generic == "amlodipine"
    assert match.corrected_from == "Amlodipin"


def test_near_miss_needs_six_letters_and_the_same_first_letter() -> None:
    assert lookup_name("Telmo") is None  # 5 letters: too short to correct
    assert lookup_name("Xmlodipine") is None  # one edit away, but another first letter


def test_near_miss_refuses_when_two_drugs_are_one_edit_away() -> None:
    # "norflx" is one edit from both Norflox (norfloxacin) and Norflex (orphenadrine)
    assert lookup_name("Norflx") is None


def test_near_miss_can_be_switched_off() -> None:
    assert lookup_name("Amlodipin", correct=False) is None


@pytest.mark.parametrize("line", ["Tab. Glucoryl-M 1-0-1", "Tab Zytanix 5 mg OD", "Cap. Rablet-D 1-0-0 before food"])
def test_unknown_brand_is_kept_verbatim_and_unverified(line: str) -> None:
    med = parse_line(line)
    assert med is not None
    assert med.verified is False
    assert med.corrected_from is None
    assert med.name == med.verbatim
    assert med.name in line


def test_unknown_suffix_of_a_known_brand_is_not_mapped_to_the_plain_brand() -> None:
    # Rablet is rabeprazole, but Rablet-D is a combination we do not know: never guess
    med = parse_line("Cap. Rablet-D 1-0-0")
    assert med is not None and med.name == "Rablet-D" and not med.verified


def test_warm_up_is_safe_from_many_threads() -> None:
    threads = [threading.Thread(target=warm_up) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert dictionary.is_variant("metformin")
