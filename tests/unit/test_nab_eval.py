"""``eval anomalies``: NAB folder layout, --out files, reference detectors, fixed threshold."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backend.domain.errors import ValidationFailed
from backend.evals import anomalies


def _nab_dir(root: Path, labels_subdir: bool) -> Path:
    rng = np.random.default_rng(0)
    ts = pd.date_range("2014-04-01", periods=2000, freq="5min")
    x = 10 * np.sin(2 * np.pi * np.arange(2000) / 288) + rng.normal(0, 0.5, 2000)
    x[1500:1530] += 25
    (root / "data" / "artificial").mkdir(parents=True)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M:%S"), "value": x}).to_csv(
        root / "data/artificial/a.csv", index=False
    )
    windows = {"artificial/a.csv": [[str(ts[1450]) + ".000000", str(ts[1550]) + ".000000"]], "missing/b.csv": []}
    target = root / "labels" if labels_subdir else root
    target.mkdir(exist_ok=True)
    (target / "combined_windows.json").write_text(json.dumps(windows))
    return root


@pytest.mark.parametrize("labels_subdir", [False, True])
def test_eval_scores_and_writes_outputs(tmp_path: Path, labels_subdir: bool) -> None:
    root = _nab_dir(tmp_path / "nab", labels_subdir)
    out = tmp_path / "out"
    result = anomalies.run(argparse.Namespace(nab=root, out=out, json=True))
    assert result["files"] == 1 and result["windows"] == 1
    assert result["score"]["null"]["standard"] == 0
    assert result["score"]["perfect"]["standard"] == 100
    assert result["score"]["copilot"]["standard"] > 50  # the injected bump is found early in its window
    assert set(result["score"]) >= {"rolling_z3", "random_same_budget"}
    written = pd.read_csv(out / "artificial" / "a.csv")
    assert list(written.columns) == ["timestamp", "value", "anomaly_score", "label"]
    assert written["anomaly_score"].between(0, 1).all()
    assert ((written["anomaly_score"] >= result["threshold"]) == (written["label"] == 1)).all()


def test_missing_windows_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match=r"combined_windows\.json"):
        anomalies.run(argparse.Namespace(nab=tmp_path, out=None, json=False))
