"""``python -m backend export ...`` against a seeded SQLite data dir (COPILOT_DATA_DIR)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from backend.__main__ import main
from backend.adapters.records.sqlite import open_sqlite_store
from backend.config import Settings
from backend.domain.models import MetricDay
from backend.formats.fhir_r4 import parse_bundle
from backend.services.demo import demo_patient_id, seed_demo
from tests.conftest import ROOT

PATIENT = demo_patient_id(2)  # has a visit note and a medication list with an unverified name


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export-data")
    stores = open_sqlite_store(Settings(data_dir=path).db_path)
    seed_demo(stores)
    stores.metrics.upsert_days(
        [
            MetricDay(patient_id=PATIENT, metric="resting_hr", day=f"2024-05-{d:02d}", value=60 + d, unit="bpm")
            for d in range(1, 11)
        ]
    )
    return path


def _export(data_dir: Path, out: Path, *args: str) -> Bundle:
    """``python -m backend export fhir --patient PATIENT ARGS --out OUT`` in its own process; the bundle written."""
    proc = subprocess.run(
        [sys.executable, "-m", "backend", "export", "fhir", "--patient", PATIENT, *args, "--out", str(out)],
        cwd=ROOT,
        env={**os.environ, "COPILOT_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return parse_bundle(out.read_text(encoding="utf-8"))


def test_fhir_export_command_writes_a_valid_bundle(data_dir: Path, tmp_path: Path) -> None:
    bundle = _export(data_dir, tmp_path / "bundle.json")
    resources: list[Any] = [e.resource for e in bundle.entry or []]
    kinds = Counter(type(r).__name__ for r in resources)
    assert kinds["Patient"] == 1 and kinds["DocumentReference"] == 1 and kinds["Observation"] == 10
    assert kinds["MedicationStatement"] == 3  # telmisartan (note) + salbutamol + Xyzolin (medication list)
    values = sorted(float(r.valueQuantity.value) for r in resources if type(r).__name__ == "Observation")
    assert values == [60.0 + d for d in range(1, 11)]
    stores = open_sqlite_store(Settings(data_dir=data_dir).db_path)
    event = stores.audit.query(patient_id=PATIENT).items[0]
    assert event.action == "export.fhir" and (event.actor, event.role) == ("(command line)", "operator")


def test_fhir_to_stdout_summary_to_file_and_unknown_patient(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(data_dir))
    assert main(["export", "fhir", "--patient", PATIENT]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["resourceType"] == "Bundle"

    page = tmp_path / "summary.html"
    assert main(["export", "summary", "--patient", PATIENT, "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "Sita Devi" in html and "telmisartan" in html and "name not verified" in html

    assert main(["export", "fhir", "--patient", "PAT_ffffffff"]) == 2
    assert "error:" in capsys.readouterr().err


def test_abdm_export_command_writes_op_consult_and_prescription_documents(data_dir: Path, tmp_path: Path) -> None:
    for kind in ("OPConsultRecord", "PrescriptionRecord"):
        bundle = _export(data_dir, tmp_path / f"{kind}.json", "--abdm", kind)
        assert bundle.type == "document"
        first = bundle.entry[0].resource  # type: ignore[index]
        assert type(first).__name__ == "Composition"
        assert first.meta.profile == [f"https://nrces.in/ndhm/fhir/r4/StructureDefinition/{kind}"]
    stores = open_sqlite_store(Settings(data_dir=data_dir).db_path)
    actions = [e.action for e in stores.audit.query(patient_id=PATIENT).items]
    assert "export.abdm.OPConsultRecord" in actions and "export.abdm.PrescriptionRecord" in actions
