"""Note templates as data: which sections a clinic's note has, in what order, what each shows, and how long it is.

A template is a TOML file (built-in ones in ``backend/data/templates/notes``, a clinic's own in its data folder)::

    name = "gp_followup"
    title = "GP follow-up"
    compress = true            # short clinical phrases instead of the draft's sentences
    [budget]
    ratio = 0.1                # at most this share of the words spoken ...
    min_words = 30             # ... but never fewer than this
    max_words = 200            # ... nor more than this
    [[sections]]
    heading = "Complaint"
    fields = ["chief_complaint"]

A file with an error is refused with a message naming the file and the line (TOML syntax) or the key (schema).
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from backend.domain.errors import ValidationFailed
from backend.domain.note_content import SoapSection

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "data" / "templates" / "notes"
MAX_TEMPLATE_BYTES = 64_000
# What a section can show: parts of the draft's narrative and its structured fields.
FIELD_SOAP = {
    "chief_complaint": "subjective",
    "hpi": "subjective",
    "ros": "subjective",
    "allergies": "subjective",
    "medications": "plan",
    "vitals": "objective",
    "exam": "objective",
    "results": "objective",
    "diagnoses": "assessment",
    "assessment": "assessment",
    "plan": "plan",
    "follow_up": "plan",
}
FieldName = Literal[
    "chief_complaint", "hpi", "ros", "allergies", "medications", "vitals", "exam", "results",
    "diagnoses", "assessment", "plan", "follow_up",
]  # fmt: skip

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class Budget(BaseModel):
    """Length of the note in words, relative to the consultation: ``clamp(ratio * spoken, min_words, max_words)``."""

    model_config = ConfigDict(extra="forbid")

    ratio: Annotated[float, Field(gt=0, le=1)] = 1.0
    min_words: Annotated[int, Field(ge=5, le=5000)] = 30
    max_words: Annotated[int, Field(ge=5, le=5000)] = 5000

    @model_validator(mode="after")
    def _ordered(self) -> Budget:
        if self.min_words > self.max_words:
            raise ValueError("min_words is larger than max_words")
        return self

    def words_for(self, spoken_words: int) -> int:
        """The budget of a consultation of ``spoken_words`` words."""
        return max(self.min_words, min(self.max_words, round(self.ratio * spoken_words)))


class TemplateSection(BaseModel):
    """One section of the note: its heading, what it shows (in this order) and the SOAP box it is edited in."""

    model_config = ConfigDict(extra="forbid")

    heading: Annotated[str, Field(min_length=1, max_length=60)]
    fields: Annotated[list[FieldName], Field(min_length=1)]
    soap: SoapSection | None = None  # default: the SOAP section of the first field
    max_items: Annotated[int, Field(ge=1, le=100)] | None = None

    @property
    def soap_section(self) -> str:
        """The SOAP box (subjective, objective, assessment, plan) this section's text is edited in."""
        return self.soap or FIELD_SOAP[self.fields[0]]


class NoteTemplate(BaseModel):
    """A note style defined as data."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: Annotated[str, Field(min_length=1, max_length=80)]
    description: Annotated[str, Field(max_length=400)] = ""
    compress: bool = False
    budget: Budget = Field(default_factory=Budget)
    sections: Annotated[list[TemplateSection], Field(min_length=1, max_length=20)]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use 1-40 lower-case letters, digits, '-' or '_', starting with a letter")
        if value == "full":
            raise ValueError("'full' is the full SOAP note; choose another name")
        return value


def _key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item + 1}]" if parts else f"[{item + 1}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def parse_template(text: str, source: str) -> NoteTemplate:
    """A template from TOML text; ``source`` names the file in error messages.

    Raises:
        ValidationFailed: naming the file and line for a TOML error, or the file and key for a schema error
            (sections are counted from 1: ``sections[2].fields``).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # Python 3.11 puts the position only in the message: "Invalid value (at line 4, column 8)".
        at = re.search(r"\s*\(at line (\d+), column (\d+)\)", str(e))
        where = f" line {at.group(1)}, column {at.group(2)}" if at else ""
        reason = str(e)[: at.start()] if at else str(e)
        raise ValidationFailed(f"{source}{where}: {reason} — this is not valid TOML.") from e
    try:
        return NoteTemplate.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors()[:5]:
            message = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown key"
            elif err["type"] == "literal_error":
                message = f"must be one of {', '.join(sorted(FIELD_SOAP))}" if "fields" in err["loc"] else message
            problems.append(f"{_key(err['loc'])}: {message}")
        raise ValidationFailed(f"{source}: " + "; ".join(problems)) from e


def load_template_file(path: Path) -> NoteTemplate:
    """A template from a file; the name in the file must match the file name (``<name>.toml``)."""
    raw = path.read_bytes()
    if len(raw) > MAX_TEMPLATE_BYTES:
        raise ValidationFailed(f"{path.name} is {len(raw):,} bytes; a template is at most {MAX_TEMPLATE_BYTES:,}.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValidationFailed(f"{path.name} is not UTF-8 text — save the template as UTF-8.") from e
    return parse_template(text, path.name)


@cache
def builtin_templates() -> dict[str, NoteTemplate]:
    """The templates shipped with the app, by name (``brief`` among them)."""
    return {t.name: t for t in (load_template_file(p) for p in sorted(BUILTIN_DIR.glob("*.toml")))}


def clinic_templates(folder: Path | None) -> dict[str, NoteTemplate]:
    """Built-in templates and a clinic's own (a clinic's template of the same name replaces the built-in one).

    A broken file in the clinic's folder is skipped here (it was refused on upload; ``load_template_file`` says why).
    """
    found = dict(builtin_templates())
    if folder is not None and folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            try:
                template = load_template_file(path)
            except ValidationFailed:
                continue
            found[template.name] = template
    return found
