"""The fast FHIR export: the same bytes as the library's dump (demo data, a bigger patient, ABDM), and the cache.

The old path is ``Bundle.model_validate(data).model_dump(mode="json")``; the new one dumps the same validated
model with ``backend.formats.fhir_dump.dump``. Both are serialised as the page writes them (``indent=1``), so
key order counts too.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from backend.bench.timeline import PID as BIG_PID
from backend.bench.timeline import _seed as seed_big_patient
from backend.domain.errors import NotFound, ValidationFailed
from backend.domain.models import MetricDay, Note, NoteStatus, Role
from backend.domain.note_content import Diagnosis
from backend.domain.reconcile import reconcile
from backend.formats import fhir_abdm
from backend.formats.fhir_bundle import validated_bundle
from backend.formats.fhir_r4 import bundle_data
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.demo import seed_demo
from backend.services.demo_metrics import write_demo_metrics
from backend.services.export import export_abdm_record, export_bundle
from backend.services.fhir_cache import FhirBundleCache
from backend.services.notes import choose_diagnosis_code
from backend.services.timeline import all_history, all_notes, medication_sources

DOCTOR = Principal("dr", Role.DOCTOR)
DIAGNOSES = [Diagnosis(text="Hypertension"), Diagnosis(text="Asthma"), Diagnosis(text="Right testicular nodule")]
GENERATED = 1_717_200_000_000


def _text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1)


def _r4_data(stores: RecordStore, pid: str) -> dict[str, Any]:
    notes = all_notes(stores, pid)
    meds = reconcile(medication_sources(notes, all_history(stores, pid)))
    signed = [n for n in notes if n.status is NoteStatus.SIGNED]
    return bundle_data(stores.patients.get(pid), signed, meds, stores.metrics.days(pid), GENERATED)


def _assert_same_as_library(data: dict[str, Any]) -> None:
    old = Bundle.model_validate(data).model_dump(mode="json")
    new = validated_bundle(data, "test")
    assert _text(new) == _text(old)


def _demo(stores: RecordStore) -> list[str]:
    # Wearable days for three patients are enough to cover Observations; every patient has notes and medications.
    seed_demo(stores, metrics_for=lambda pid, seed: write_demo_metrics(stores, pid, seed, days=14) if seed < 3 else 0)
    return [p.patient_id for p in stores.patients.list_page(None, 100).items]


def test_r4_export_of_every_demo_patient_is_byte_identical_to_the_library_dump(stores: RecordStore) -> None:
    pids = _demo(stores)
    assert len(pids) >= 10
    kinds: set[str] = set()
    for pid in pids:
        data = _r4_data(stores, pid)
        kinds |= {e["resource"]["resourceType"] for e in data["entry"]}
        _assert_same_as_library(data)
    assert {"Patient", "DocumentReference", "MedicationStatement", "Observation"} <= kinds


def test_abdm_records_of_demo_notes_are_byte_identical_to_the_library_dump(
    stores: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    pids = _demo(stores)
    seen: list[dict[str, Any]] = []
    real = fhir_abdm.validated_bundle

    def keep(data: dict[str, Any], what: str) -> dict[str, Any]:
        seen.append(data)
        return real(data, what)

    monkeypatch.setattr(fhir_abdm, "validated_bundle", keep)
    for pid in pids:
        for kind in fhir_abdm.KINDS:
            try:
                export_abdm_record(stores, DOCTOR, pid, kind)
            except (NotFound, ValidationFailed):  # no signed note, or a note without medications
                continue
    assert len(seen) >= 5
    for data in seen:
        _assert_same_as_library(data)


def test_a_bigger_patient_with_amendments_and_documents_is_byte_identical(stores: RecordStore) -> None:
    seed_big_patient(stores, 40, 20, 45)
    # Diagnoses with a confirmed code, a suggested one and "no code fits", as the review screen stores them.
    draft = stores.notes.add(Note(patient_id=BIG_PID, timestamp=2_000_000_000_000, diagnoses=DIAGNOSES))
    draft = choose_diagnosis_code(stores, DOCTOR, draft, 1, "J45.0")
    draft = choose_diagnosis_code(stores, DOCTOR, draft, 2, None)
    signed = {"status": NoteStatus.SIGNED, "signer": "dr", "signed_at": draft.timestamp + 60_000}
    stores.notes.update(draft.model_copy(update=signed), draft.version)
    data = _r4_data(stores, BIG_PID)
    kinds = {e["resource"]["resourceType"] for e in data["entry"]}
    assert {"Patient", "DocumentReference", "Condition", "MedicationStatement", "Observation"} <= kinds
    chosen = [
        c["userSelected"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "Condition"
        for c in e["resource"]["code"].get("coding", [])
    ]
    assert sorted(chosen) == [False, True]
    _assert_same_as_library(data)


def test_a_second_export_of_an_unchanged_record_is_not_validated_again_and_is_still_audited(
    stores: RecordStore,
) -> None:
    seed_big_patient(stores, 12, 4, 10)
    cache = FhirBundleCache()
    first = export_bundle(stores, DOCTOR, BIG_PID, cache)
    second = export_bundle(stores, DOCTOR, BIG_PID, cache)
    assert second is first
    assert cache.builds == 1
    exports = [e for e in stores.audit.query(patient_id=BIG_PID).items if e.action == "export.fhir"]
    assert len(exports) == 2


def _signed(stores: RecordStore, pid: str) -> list[Note]:
    return [n for n in all_notes(stores, pid) if n.status is NoteStatus.SIGNED]


def test_an_amended_note_a_changed_metric_and_an_edited_patient_each_change_the_export(stores: RecordStore) -> None:
    seed_big_patient(stores, 12, 4, 10)
    cache = FhirBundleCache()
    before = export_bundle(stores, DOCTOR, BIG_PID, cache)

    latest = max(_signed(stores, BIG_PID), key=lambda n: n.timestamp)
    amended = latest.model_copy(
        update={"timestamp": latest.timestamp + 1, "amends": latest.timestamp, "sections": {"plan": "Stop it."}}
    )
    stores.notes.add(amended)
    after_note = export_bundle(stores, DOCTOR, BIG_PID, cache)
    assert cache.builds == 2
    assert _text(after_note) != _text(before)
    assert after_note["entry"] == export_bundle(stores, DOCTOR, BIG_PID)["entry"]  # what an uncached export says

    day = stores.metrics.days(BIG_PID)[0]
    stores.metrics.upsert_days([MetricDay(patient_id=BIG_PID, metric=day.metric, day=day.day, value=day.value + 7)])
    after_metric = export_bundle(stores, DOCTOR, BIG_PID, cache)
    assert cache.builds == 3
    assert after_metric["entry"] != after_note["entry"]
    assert after_metric["entry"] == export_bundle(stores, DOCTOR, BIG_PID)["entry"]

    patient = stores.patients.get(BIG_PID)
    stores.patients.update(patient.model_copy(update={"phone": "+919812345678"}), patient.version)
    after_patient = export_bundle(stores, DOCTOR, BIG_PID, cache)
    assert cache.builds == 4
    patient_res = after_patient["entry"][0]["resource"]
    assert patient_res["telecom"] == [{"system": "phone", "value": "+919812345678"}]


def test_the_cache_keeps_the_most_recently_used_patients_only() -> None:
    cache = FhirBundleCache(max_patients=2)
    for pid in ("PAT_00000001", "PAT_00000002", "PAT_00000003"):
        cache.put(pid, "d", {"id": pid})
    assert cache.get("PAT_00000001", "d") is None
    assert cache.get("PAT_00000003", "d") == {"id": "PAT_00000003"}
    assert cache.get("PAT_00000003", "other digest") is None
