"""Review a draft note beside its transcript: evidence highlighting, audio replay, edit, save, sign, amend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st

from backend.domain.errors import CopilotError, NotFound
from backend.domain.models import Medication, Note, NoteStatus
from backend.services.access import Permission, Principal
from backend.services.notes import SECTIONS, amend_note, save_draft, sign_note, version_chain
from ui.runtime import get_app
from ui.safe import md_escape

MED_COLUMNS = ["name", "strength", "form", "route", "frequency", "duration", "instructions", "status", "verified"]


def when(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC") if ms else "—"


def _evidence_choices(note: Note) -> list[tuple[str, list[int]]]:
    choices: list[tuple[str, list[int]]] = []
    for s in note.fields.get("sentences", []):
        choices.append((f"{s['section']}: {s['text'][:90]}", list(s.get("segment_ids", []))))
    for key in ("chief_complaint", "follow_up"):
        item = note.fields.get(key)
        if isinstance(item, dict) and item.get("text"):
            choices.append((f"{key.replace('_', ' ')}: {item['text'][:90]}", list(item.get("segment_ids", []))))
    for v in note.fields.get("vitals", []):
        choices.append((f"vital {v['kind']}: {v['value']} {v.get('unit', '')}", list(v.get("segment_ids", []))))
    for m in note.medications:
        choices.append((f"medication: {m.name} {m.strength or ''}", list(m.evidence.segment_ids)))
    return choices


def _transcript(note: Note, highlight: set[int]) -> None:
    lines = []
    for seg in note.transcript:
        speaker = f"**{md_escape(seg.speaker)}:** " if seg.speaker else ""
        text = f"`{seg.start:6.1f}s` {speaker}{md_escape(seg.text)}"
        lines.append(f":orange-background[{text}]" if seg.id in highlight else text)
    with st.container(height=520, border=True):
        st.markdown("  \n".join(lines) or "_(no transcript)_")


def _meds_frame(meds: list[Medication]) -> list[dict[str, Any]]:
    return [{c: getattr(m, c) for c in MED_COLUMNS} for m in meds]


def _meds_from_rows(rows: list[dict[str, Any]], original: list[Medication]) -> list[Medication]:
    out = []
    for i, row in enumerate(rows):
        if not str(row.get("name") or "").strip():
            continue
        base = original[i] if i < len(original) else Medication(name=str(row["name"]))
        values = {
            c: (row.get(c) if row.get(c) not in ("", None) else None)
            for c in MED_COLUMNS
            if c not in ("name", "verified")
        }
        changed_name = str(row["name"]).strip() != base.name
        out.append(
            base.model_copy(
                update={**values, "name": str(row["name"]).strip(), "verified": base.verified and not changed_name}
            )
        )
    return out


def review_note(principal: Principal, note: Note, key: str) -> None:
    """The review panel for one note."""
    app = get_app()
    status = (
        ":material/verified: signed"
        if note.status is NoteStatus.SIGNED
        else ":material/edit_note: draft — not yet signed"
    )
    st.markdown(
        f"**Note of {when(note.timestamp)}** · {status} · author {md_escape(note.author)}"
        + (f" · signed by {md_escape(note.signer)} {when(note.signed_at)}" if note.signer else "")
    )
    if note.fields.get("engine_fallback"):
        st.warning(md_escape(str(note.fields["engine_fallback"])))
    if note.fields.get("low_accuracy_engine"):
        st.warning(
            "This transcript comes from the low-accuracy fallback speech engine: check every word against the audio."
        )
    for w in note.fields.get("audio_warnings", []):
        st.warning(md_escape(w))
    unverified = [m.name for m in note.medications if not m.verified]
    if unverified:
        st.warning(
            "Unverified medication names (not in the drug dictionary) — check them: "
            + ", ".join(md_escape(n) for n in unverified)
        )
    if note.unsupported:
        st.warning(
            "Not found in the recording (removed from the draft): " + "; ".join(md_escape(u) for u in note.unsupported)
        )

    left, right = st.columns([3, 2])
    with right:
        st.markdown("**Transcript**")
        choices = _evidence_choices(note)
        label = st.selectbox("Show the evidence of", ["—"] + [c[0] for c in choices], key=f"{key}_evidence")
        ids = next((c[1] for c in choices if c[0] == label), [])
        if note.audio_key:
            start = min((s.start for s in note.transcript if s.id in ids), default=0.0) if ids else 0.0
            _play(app, note.audio_key, start)
        _transcript(note, set(ids))
    with left:
        editable = note.status is NoteStatus.DRAFT and principal.can(Permission.EDIT_NOTES)
        sections = {
            s: st.text_area(
                s.capitalize(), value=note.sections.get(s, ""), height=130, disabled=not editable, key=f"{key}_{s}"
            )
            for s in SECTIONS
        }
        st.markdown("**Medications**")
        rows = st.data_editor(
            _meds_frame(note.medications),
            num_rows="dynamic" if editable else "fixed",
            disabled=not editable,
            column_config={
                "verified": st.column_config.CheckboxColumn(
                    "verified", disabled=True, help="Name found in the drug dictionary"
                )
            },
            key=f"{key}_meds",
            width="stretch",
        )
        _vitals(note)
        c1, c2, c3 = st.columns(3)
        try:
            if editable and c1.button("Save draft", key=f"{key}_save"):
                save_draft(app.stores, principal, note, sections, _meds_from_rows(list(rows), note.medications))
                st.success("Draft saved.")
                st.rerun()
            if (
                note.status is NoteStatus.DRAFT
                and principal.can(Permission.SIGN_NOTES)
                and c2.button("Sign note", type="primary", key=f"{key}_sign")
            ):
                saved = save_draft(app.stores, principal, note, sections, _meds_from_rows(list(rows), note.medications))
                sign_note(app.stores, principal, saved)
                st.success("Signed. The note is now on the patient's timeline and can no longer change.")
                st.rerun()
            if (
                note.status is NoteStatus.SIGNED
                and principal.can(Permission.EDIT_NOTES)
                and c3.button("Amend", key=f"{key}_amend")
            ):
                amend_note(app.stores, principal, note)
                st.success("Amendment started as a new draft; the signed version is kept.")
                st.rerun()
        except CopilotError as e:
            st.error(e.message)
        if note.amends:
            with st.expander("Version history"):
                for v in version_chain(app.stores, principal, note)[1:]:
                    st.markdown(f"- {when(v.timestamp)} · {v.status.value} · signed by {md_escape(v.signer or '—')}")


def _vitals(note: Note) -> None:
    vitals = note.fields.get("vitals", [])
    if not vitals:
        return
    st.markdown("**Vital signs**")
    st.dataframe(
        [
            {
                "vital": v["kind"],
                "value": v["value"],
                "unit": v.get("unit", ""),
                "check": "ok" if v.get("plausible", True) else f"check: {v.get('reason', 'implausible')}",
            }
            for v in vitals
        ],
        hide_index=True,
        width="stretch",
    )


def _play(app: Any, key: str, start: float) -> None:
    """The recording from ``start`` seconds, or why it cannot be played."""
    try:
        audio = app.blobs.get(key)
    except NotFound:
        st.info("The recording was deleted under the clinic's audio retention policy; the transcript remains.")
        return
    except CopilotError as e:
        st.error(e.message)
        return
    st.audio(audio, start_time=int(start))
