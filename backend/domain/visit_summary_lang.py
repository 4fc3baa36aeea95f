"""The words of the patient's visit summary, one data file per language (``backend/data/visit_summary``).

A language is a file ``<code>.toml`` with the same keys as ``en.toml``; a key it lacks falls back to English,
and an unknown language falls back to English with a notice for the clinician.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "visit_summary"
DEFAULT = "en"
_CODE = re.compile(r"[a-z]{2,3}")  # ISO 639 codes only: never a path


@dataclass(frozen=True)
class Language:
    """The words of one language: ``data`` holds every table of the file, merged over English."""

    code: str
    data: dict[str, Any]

    def label(self, key: str) -> str:
        """A label of the ``[labels]`` table."""
        return str(self.data["labels"][key])

    def table(self, name: str) -> dict[str, Any]:
        """One table of the file (``frequency``, ``instructions``, ``vitals``, ...)."""
        return dict(self.data.get(name, {}))

    def notice(self, key: str, **values: str) -> str:
        """A notice for the clinician, with its placeholders filled."""
        return str(self.data["notices"][key]).format(**values)


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return out


@cache
def rules() -> dict[str, Any]:
    """The language-independent rules (``rules.toml``): schedule slots, follow-up patterns, conditions."""
    return _load(DATA_DIR / "rules.toml")


def available() -> dict[str, str]:
    """Language code -> the language's own name, for every data file present."""
    out: dict[str, str] = {}
    for path in sorted(DATA_DIR.glob("*.toml")):
        if _CODE.fullmatch(path.stem):
            out[path.stem] = str(language(path.stem).data["meta"]["name"])
    return out


@cache
def language(code: str) -> Language:
    """The words of ``code`` merged over English (raises KeyError for an unknown code)."""
    english = _load(DATA_DIR / f"{DEFAULT}.toml")
    if code == DEFAULT:
        return Language(DEFAULT, english)
    path = DATA_DIR / f"{code}.toml"
    if not _CODE.fullmatch(code) or not path.is_file():
        raise KeyError(code)
    return Language(code, _merge(english, _load(path)))


def choose(code: str | None) -> tuple[Language, str | None]:
    """The language asked for, or English and a notice saying so when there is no data file for it."""
    asked = (code or DEFAULT).strip().lower()
    try:
        return language(asked), None
    except KeyError:
        english = language(DEFAULT)
        return english, english.notice("fallback", asked=asked[:20])
