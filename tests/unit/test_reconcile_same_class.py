"""Reconciliation flags two active drugs of one same-class group or one ingredient, naming both sources."""

from __future__ import annotations

from backend.domain.models import Medication
from backend.domain.reconcile import DAY_MS, ActiveMed, MedSource, reconcile

T0 = 1_709_251_200_000  # 2024-03-01


def _source(kind: str, day: int, *names: str, stopped: bool = False) -> MedSource:
    ts = T0 + day * DAY_MS
    meds = [Medication(name=n, status="stopped" if stopped else None, verified=True) for n in names]
    return MedSource(kind, ts, True, {"kind": kind, "timestamp": ts}, meds)  # type: ignore[arg-type]


def _by_name(*sources: MedSource) -> dict[str, ActiveMed]:
    return {m.name: m for m in reconcile(sources)}


def test_two_arbs_are_flagged_on_both_with_both_sources() -> None:
    meds = _by_name(_source("note", 0, "telmisartan", "amlodipine"), _source("document", 2, "losartan"))
    warning = (
        "losartan (document 2024-03-03) and telmisartan (note 2024-03-01): the same class, "
        "ARB (angiotensin receptor blocker), both active — check whether one replaced the other."
    )
    assert meds["telmisartan"].same_class == [warning] and meds["losartan"].same_class == [warning]
    assert meds["amlodipine"].same_class == []  # an ARB with a calcium channel blocker is usual treatment


def test_two_nsaids_and_two_statins_are_flagged_separately() -> None:
    meds = _by_name(
        _source("note", 0, "ibuprofen", "atorvastatin"), _source("document", 1, "diclofenac", "rosuvastatin")
    )
    assert ["NSAID" in w for w in meds["ibuprofen"].same_class] == [True]
    assert ["statin" in w for w in meds["rosuvastatin"].same_class] == [True]


def test_a_shared_ingredient_is_one_warning_not_three() -> None:
    meds = _by_name(_source("note", 0, "telmisartan"), _source("document", 1, "telmisartan + hydrochlorothiazide"))
    [warning] = meds["telmisartan"].same_class  # not again as "ARB" and "ACE inhibitor or ARB"
    assert (
        "the same medicine, telmisartan" in warning
        and "telmisartan + hydrochlorothiazide (document 2024-03-02)" in warning
    )
    paracetamol = _by_name(_source("note", 0, "paracetamol", "ibuprofen + paracetamol"))
    assert "the same medicine, paracetamol" in paracetamol["paracetamol"].same_class[0]


def test_stopped_unrelated_and_unknown_drugs_are_not_flagged() -> None:
    meds = _by_name(
        _source("note", 0, "losartan"),
        _source("note", 5, "losartan", stopped=True),
        _source("document", 6, "telmisartan", "metformin", "Xyzolin", "Zyxolin"),
    )
    assert all(m.same_class == [] for m in meds.values())


def test_since_is_the_start_of_the_current_course() -> None:
    meds = _by_name(
        _source("note", 0, "losartan"), _source("note", 5, "losartan", stopped=True), _source("document", 9, "losartan")
    )
    m = meds["losartan"]
    assert m.status == "active" and m.since == T0 + 9 * DAY_MS and m.since_word == "restarted"
    assert m.since_ref == {"kind": "document", "timestamp": T0 + 9 * DAY_MS} and m.last_source == "document 2024-03-10"
