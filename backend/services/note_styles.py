"""Note styles of a draft: re-render it in a style (full SOAP, brief, a clinic's template), a user's default style,
and the clinic's template files (listed, uploaded with validation, kept in the data folder)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from backend.domain.drafting.styles import FULL, StyledNote, render_style
from backend.domain.drafting.templates import MAX_TEMPLATE_BYTES, NoteTemplate, clinic_templates, parse_template
from backend.domain.errors import ValidationFailed
from backend.domain.models import Note, NoteStatus
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require

FULL_TITLE = "Full SOAP note"
TEMPLATES_FOLDER = "note_templates"  # under the data folder: a clinic's templates survive upgrades of the app


def templates_dir(data_dir: Path) -> Path:
    """Where a clinic's own templates are kept."""
    return data_dir / TEMPLATES_FOLDER


def style_titles(templates: dict[str, NoteTemplate]) -> dict[str, str]:
    """Style name -> title, the full SOAP note first."""
    return {FULL: FULL_TITLE, **{name: t.title for name, t in sorted(templates.items())}}


def can_restyle(note: Note) -> bool:
    """Whether the note keeps the draft's sentences a style is rendered from (drafts made before styles do too)."""
    return note.status is NoteStatus.DRAFT and bool(note.sentences)


def render_note(note: Note, style: str, templates: dict[str, NoteTemplate]) -> StyledNote:
    """The note's draft in ``style`` (nothing is stored)."""
    spoken = sum(len(s.text.split()) for s in note.transcript)
    if style != FULL and style not in templates:
        raise ValidationFailed(f"No note style {style!r}; choose one of: {', '.join(style_titles(templates))}.")
    return render_style(note.content, style, templates, spoken)


def apply_style(
    stores: RecordStore, principal: Principal, note: Note, style: str, templates: dict[str, NoteTemplate]
) -> Note:
    """Store the draft re-rendered in ``style`` as the note's text (a view of the same facts and evidence).

    The sections become the styled text and ``Note.style`` names the style; text typed since is replaced,
    so the page asks first. Raises ValidationFailed for a signed note or one without the draft's sentences.
    """
    require(principal, Permission.EDIT_NOTES)
    if not can_restyle(note):
        raise ValidationFailed(
            "This note cannot change style: it is signed, or it has no draft sentences to render from."
        )
    styled = render_note(note, style, templates)
    restyled = note.model_copy(update={"sections": styled.soap, "style": style, "edited_by": None})
    saved = stores.notes.update(restyled, note.version)
    record(stores.audit, principal, "note.style", note.patient_id, f"{note.timestamp} {style}")
    return saved


def default_style(stores: RecordStore, principal: Principal) -> str:
    """The style the user's drafts open in (``full`` unless they chose another)."""
    return stores.users.get(principal.username).note_style or FULL


def set_default_style(
    stores: RecordStore, principal: Principal, style: str, templates: dict[str, NoteTemplate]
) -> None:
    """Remember ``style`` as the signed-in user's default."""
    if style != FULL and style not in templates:
        raise ValidationFailed(f"No note style {style!r}.")
    user = stores.users.get(principal.username)
    stores.users.update(user.model_copy(update={"note_style": style}), user.version)
    record(stores.audit, principal, "user.note_style", None, style)


def list_templates(principal: Principal, data_dir: Path) -> dict[str, NoteTemplate]:
    """Built-in templates and the clinic's own (the clinic's wins on a name both use)."""
    if not principal.can(Permission.MANAGE_PROVIDERS):
        require(principal, Permission.READ_PATIENTS)
    return clinic_templates(templates_dir(data_dir))


def upload_template(
    stores: RecordStore, principal: Principal, data_dir: Path, filename: str, data: bytes
) -> NoteTemplate:
    """Validate a template file and save it as ``<name>.toml`` in the clinic's templates folder.

    Raises:
        ValidationFailed: naming the file and the line (TOML) or key (schema) that is wrong; nothing is saved.
    """
    require(principal, Permission.MANAGE_PROVIDERS)
    if len(data) > MAX_TEMPLATE_BYTES:
        raise ValidationFailed(f"{filename} is {len(data):,} bytes; a template is at most {MAX_TEMPLATE_BYTES:,}.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValidationFailed(f"{filename} is not UTF-8 text — save the template as UTF-8.") from e
    template = parse_template(text, filename)
    folder = templates_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, folder / f"{template.name}.toml")  # whole file or none: a reader never sees half a template
    record(stores.audit, principal, "template.upload", None, template.name)
    return template
