"""Reconciliation rules: start, stop, restart, dose change, conflict, drafts ignored, unverified names kept apart."""

from __future__ import annotations

from backend.domain.models import Medication
from backend.domain.reconcile import DAY_MS, ActiveMed, MedSource, reconcile, strength_key

T0 = 1_700_000_000_000  # 2023-11-14


def med(
    name: str,
    strength: str | None = None,
    frequency: str | None = None,
    status: str | None = None,
    verified: bool = True,
) -> Medication:
    return Medication(
        name=name,
        verbatim=f"{name} {strength or ''}".strip(),
        strength=strength,
        frequency=frequency,
        status=status,
        verified=verified,
    )


def note(day: int, *meds: Medication, signed: bool = True) -> MedSource:
    ts = T0 + day * DAY_MS
    return MedSource("note", ts, signed, {"kind": "note", "timestamp": ts}, list(meds))


def doc(day: int, *meds: Medication) -> MedSource:
    ts = T0 + day * DAY_MS + 1
    return MedSource("document", ts, False, {"kind": "document", "timestamp": ts}, list(meds))


def by_name(sources: list[MedSource]) -> dict[str, ActiveMed]:
    return {m.name: m for m in reconcile(sources)}


def test_started_then_dose_changed_months_later() -> None:
    meds = by_name(
        [
            note(0, med("metformin", "500 mg", "twice daily", "started")),
            note(90, med("metformin", "1000 mg", "twice daily")),
        ]
    )
    m = meds["metformin"]
    assert m.status == "active" and m.strength == "1000 mg"
    assert m.changes == ["started on 2023-11-14", "dose changed 500 mg -> 1000 mg on 2024-02-12"]
    assert m.first_seen == T0 and m.last_seen == T0 + 90 * DAY_MS
    assert not m.conflict and len(m.sources) == 2


def test_stopped_drug_is_stopped_and_a_later_mention_restarts_it() -> None:
    stopped = by_name([note(0, med("amlodipine", "5 mg")), note(10, med("amlodipine", status="stopped"))])["amlodipine"]
    assert stopped.status == "stopped" and stopped.changes[-1] == "stopped on 2023-11-24"
    restarted = by_name(
        [
            note(0, med("amlodipine", "5 mg")),
            note(10, med("amlodipine", status="stopped")),
            note(40, med("amlodipine", "5 mg")),
        ]
    )["amlodipine"]
    assert restarted.status == "active" and "restarted on 2023-12-24" in restarted.changes


def test_active_drugs_are_listed_before_stopped_ones() -> None:
    order = [
        m.name
        for m in reconcile(
            [note(0, med("zinc", "20 mg"), med("aspirin", "75 mg")), note(5, med("aspirin", status="stopped"))]
        )
    ]
    assert order == ["zinc", "aspirin"]


def test_drafts_do_not_count_but_documents_do() -> None:
    meds = by_name([note(0, med("metformin", "500 mg"), signed=False), doc(3, med("atorvastatin", "10 mg"))])
    assert set(meds) == {"atorvastatin"}
    assert meds["atorvastatin"].sources == [{"kind": "document", "timestamp": T0 + 3 * DAY_MS + 1}]


def test_different_doses_from_two_sources_at_the_same_time_are_a_conflict() -> None:
    m = by_name([note(0, med("metformin", "500 mg")), doc(1, med("metformin", "1000 mg"))])["metformin"]
    assert m.conflict
    assert "500 mg" in m.conflict_detail and "1000 mg" in m.conflict_detail
    assert not any(c.startswith("dose changed") for c in m.changes)


def test_an_old_conflict_resolved_by_later_agreeing_sources_is_history_not_a_flag() -> None:
    m = by_name(
        [
            note(0, med("metformin", "500 mg")),
            doc(1, med("metformin", "1000 mg")),
            note(60, med("metformin", "1000 mg")),
        ]
    )["metformin"]
    assert not m.conflict
    assert any(c.startswith("conflicting doses 500 mg") for c in m.changes)


def test_same_dose_written_differently_is_not_a_change() -> None:
    assert strength_key("0.5 g") == strength_key("500mg") == strength_key("500 MG")
    m = by_name(
        [note(0, med("metformin", "500 mg")), doc(1, med("metformin", "500mg")), note(30, med("metformin", "0.5 g"))]
    )["metformin"]
    assert not m.conflict and not any("dose changed" in c for c in m.changes)


def test_frequency_change_is_reported() -> None:
    m = by_name(
        [note(0, med("metformin", "500 mg", "once daily")), note(30, med("metformin", "500 mg", "twice daily"))]
    )["metformin"]
    assert "frequency changed once daily -> twice daily on 2023-12-14" in m.changes and m.frequency == "twice daily"


def test_unverified_names_stay_separate_and_marked() -> None:
    meds = reconcile(
        [
            doc(0, med("Xyzolin", "10 mg", verified=False), med("cetirizine", "10 mg")),
            note(2, med("xyzolin", "10 mg", verified=False)),
        ]
    )
    names = {m.name.lower(): m for m in meds}
    assert set(names) == {"xyzolin", "cetirizine"}  # never folded into a similar-looking real drug
    assert names["xyzolin"].verified is False and names["cetirizine"].verified is True
    assert len(names["xyzolin"].sources) == 2  # the same unverified spelling is still one entry


def test_a_mention_without_strength_keeps_the_known_dose() -> None:
    m = by_name([note(0, med("metformin", "500 mg")), note(20, med("metformin"))])["metformin"]
    assert m.strength == "500 mg" and m.last_seen == T0 + 20 * DAY_MS and m.changes == ["first recorded on 2023-11-14"]


def test_a_stopped_drug_keeps_why_in_the_words_said() -> None:
    tried = med("ibuprofen", status="stopped")
    tried.status_reason = 'tried, did not help: "i tried ibuprofen, no help"'
    m = by_name([note(0, med("ibuprofen", "400 mg")), note(10, tried)])["ibuprofen"]
    assert m.status == "stopped" and m.status_reason == tried.status_reason
    assert m.changes[-1] == f"stopped on 2023-11-24 ({tried.status_reason})"
