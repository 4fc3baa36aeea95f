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


def test_cross_validation_scores_each_fold_with_constants_chosen_on_the_other(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    ts = pd.date_range("2014-04-01", periods=2000, freq="5min")
    files = []
    for k, bump in enumerate((25.0, 6.0, 25.0, 6.0)):  # two easy and two subtle events
        x = 10 * np.sin(2 * np.pi * np.arange(2000) / 288) + rng.normal(0, 0.5, 2000)
        x[1500:1530] += bump
        frame = pd.DataFrame({"timestamp": ts, "value": x})
        files.append((f"f{k}.csv", frame, [[str(ts[1450]), str(ts[1550])]]))
    result = anomalies.cross_validate(files, threshold=0.5)
    assert result["grid_size"] == len(anomalies.GRID) and len(result["folds"]) == 2
    for fold in result["folds"]:
        assert anomalies.AlarmParams(**fold["params"]) in anomalies.GRID
        assert fold["train_files"] == fold["test_files"] == 2
    # fold 1 holds out files 0 and 2: recompute their score from scratch with the constants fold 1 chose
    from backend.domain.anomaly.nab import PROFILES, normalised, probation_length, score_file, window_indices
    from backend.domain.anomaly.streaming import stream_scores

    params = anomalies.AlarmParams(**result["folds"][0]["params"])
    raw = null = perfect = 0.0
    for _name, frame, windows in (files[0], files[2]):
        values = frame["value"].to_numpy()
        labels = (stream_scores(values, probation_length(values.size), params) >= 0.5).astype(np.int8)
        fs = score_file(labels, window_indices(frame["timestamp"].to_numpy(), windows), PROFILES["standard"])
        raw, null, perfect = raw + fs.raw, null + fs.null, perfect + fs.perfect
    assert result["folds"][0]["test_standard"] == round(normalised(raw, null, perfect), 2)
    assert set(result["shipped_params_all_files"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    printed = argparse.Namespace(nab=_nab_dir(tmp_path / "nab", False), out=None, json=True, cross_validate=True)
    assert "held_out" in anomalies.run(printed)["cross_validated"]
