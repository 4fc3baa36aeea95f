"""Review a draft note beside its transcript: evidence highlighting, audio replay, who said what, recovered drug
names, edit, save, sign, amend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from backend.domain.drafting.drafter import VITAL_LABELS
from backend.domain.engine_words import what_ran
from backend.domain.errors import CopilotError, NotFound
from backend.domain.models import Medication, Note, NoteStatus
from backend.domain.plural import counted
from backend.domain.speech_words import needs_attention, speech_sentence
from backend.services.access import Permission, Principal
from backend.services.notes import SECTIONS, amend_note, save_draft, sign_draft, version_chain
from backend.services.recordings import recording_audio
from backend.services.scribe_roles import confirm_medication, relabel_roles
from ui import clock
from ui.diagnosis_codes import diagnosis_codes, unconfirmed_codes
from ui.medication_rows import edited_medications
from ui.note_style import style_picker
from ui.note_transcript import role_request, show_transcript
from ui.runtime import get_app
from ui.safe import md_escape

if TYPE_CHECKING:
    from ui.runtime import App

MED_COLUMNS = [
    *("name", "strength", "frequency", "form", "route", "duration", "instructions", "status", "status_reason"),
    "verified",
]
SHOWN_ONLY = ["heard_as"]  # shown in the medication table, never written back from it
NO_EVIDENCE = "(nothing highlighted)"
TRANSCRIBED = "Transcribed"  # how a line of ``what_ran`` about the speech engine begins
DECLINED_HELP = "Status 'declined': the patient refuses it, does not take it or is to avoid it (never active)"


def when(ms: int | None) -> str:
    """When, on the clinic's clock with its zone (``2026-03-08 10:42 IST``)."""
    return clock.when(ms)


def _evidence_choices(note: Note) -> list[tuple[str, list[int]]]:
    choices: list[tuple[str, list[int]]] = []
    for s in note.sentences:
        choices.append((f"{s.section}: {s.text[:90]}", list(s.segment_ids)))
    for label, item in (("chief complaint", note.chief_complaint), ("follow up", note.follow_up)):
        if item is not None and item.text:
            choices.append((f"{label}: {item.text[:90]}", list(item.segment_ids)))
    for v in note.vitals:
        choices.append((f"vital: {VITAL_LABELS.get(v.kind, v.kind)} {v.value} {v.unit}", list(v.segment_ids)))
    for m in note.medications:
        choices.append((f"medication: {m.name} {m.strength or ''}", list(m.evidence.segment_ids)))
    return choices


def _meds_frame(meds: list[Medication]) -> list[dict[str, Any]]:
    # What was heard sits beside the name it was recovered as, where the clinician compares them; "verified"
    # follows at once, so it is on screen at a laptop's width (the table scrolls sideways past the dose).
    shown = ["name", *(SHOWN_ONLY if any(m.heard_as for m in meds) else []), "verified", *MED_COLUMNS[1:-1]]
    return [{c: getattr(m, c) for c in shown} for m in meds]


def _meds_from_rows(rows: list[dict[str, Any]], original: list[Medication]) -> list[Medication]:
    return edited_medications(rows, original, [c for c in MED_COLUMNS if c != "verified"])


def speech_engine_line(note: Note) -> None:
    """The engine that transcribed the note, from the note itself: a warning when it stood in or is the backup."""
    if note.speech is None:
        return
    sentence = md_escape(speech_sentence(note.speech))
    if needs_attention(note.speech):
        st.warning(sentence, icon=":material/swap_horiz:")
    else:
        st.caption(f":material/mic: {sentence}")


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
    provenance = note.provenance
    speech_engine_line(note)
    # What really drafted (and, on a note made before its speech engine was kept, transcribed) this note where
    # it is not what the sidebar names (a fallback).
    ran = what_ran(provenance.engine_fallback, provenance.low_accuracy_engine, app.providers.get("stt", ""))
    for line in ran:
        if note.speech is None or not line.startswith(TRANSCRIBED):
            st.warning(md_escape(line), icon=":material/swap_horiz:")
    for w in provenance.audio_warnings:
        st.warning(md_escape(w))
    notice = st.session_state.pop(f"{key}_notice", None)
    if notice:
        st.success(notice)
    unverified = [m.name for m in note.medications if not m.verified and m.found_by != "sounds_like"]
    if unverified:
        st.warning(
            "Unverified medication names (not in the drug dictionary) — check them: "
            + ", ".join(md_escape(n) for n in unverified)
        )
    recovered = [m for m in note.medications if _awaits_confirmation(m)]
    if recovered:
        st.warning(
            "Drug names recovered from misheard speech — unverified until you confirm them under Medications: "
            + ", ".join(_as_heard(m) for m in recovered)
        )
    if provenance.unsupported:
        st.warning(
            "Not found in the recording (removed from the draft): "
            + "; ".join(md_escape(u) for u in provenance.unsupported)
        )

    editable = note.status is NoteStatus.DRAFT and principal.can(Permission.EDIT_NOTES)
    roles_asked: dict[int, str] | None = None
    left, right = st.columns([3, 2])
    with right:
        st.markdown("**Transcript** · who said what")
        choices = _evidence_choices(note)
        label = st.selectbox(
            "Highlight where the draft's words came from",
            [NO_EVIDENCE] + [c[0] for c in choices],
            key=f"{key}_evidence",
            help="Choose a line of the draft: the turns it was taken from are highlighted and the audio starts there.",
        )
        ids = next((c[1] for c in choices if c[0] == label), [])
        if note.audio_key:
            start = min((s.start for s in note.transcript if s.id in ids), default=0.0) if ids else 0.0
            _play(app, principal, note, start)
        show_transcript(note, set(ids))
        if editable and note.transcript:
            roles_asked = role_request(note, key)
        elif note.status is NoteStatus.SIGNED and note.transcript:
            st.caption("Roles of a signed note no longer change; amend the note to fix them.")
        roles_slot = st.container()
    with left:
        if editable:
            style_picker(app, principal, note, key)
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
                    "verified", disabled=True, help="Name found in the drug dictionary or confirmed by a clinician"
                ),
                "heard_as": st.column_config.TextColumn(
                    "heard as", disabled=True, help="The words speech recognition heard where this name was recovered"
                ),
                "status_reason": st.column_config.TextColumn("why declined", help=DECLINED_HELP),
            },
            key=f"{key}_meds",
            width="stretch",
            placeholder="",  # an empty cell reads as empty, not as the word "None"
        )
        to_confirm = _recovered_names(note, editable, key)
        diagnosis_codes(app, principal, note, editable, key)
        _vitals(note)
        may_sign = note.status is NoteStatus.DRAFT and principal.can(Permission.SIGN_NOTES)
        suggested = unconfirmed_codes(note)
        if may_sign and suggested:
            st.info(
                f"{counted(suggested, 'ICD-10 code')} above {'is a suggestion' if suggested == 1 else 'are suggestions'}"
                f" nobody has confirmed. You can sign now: {'it stays' if suggested == 1 else 'they stay'} marked as "
                "suggested (not chosen by a clinician) in the record and its exports."
            )
        if note.status is NoteStatus.DRAFT and editable and not may_sign:
            st.caption("A doctor signs this note: save your changes and it waits on the doctor's dashboard.")
        c1, c2 = st.columns(2)
        try:
            if to_confirm is not None:
                confirm_medication(app.stores, principal, note, to_confirm)
                med = note.medications[to_confirm]
                st.session_state[f"{key}_notice"] = (
                    f"Confirmed: {_as_heard(med.model_copy(update={'verified': True}))}."
                )
                st.rerun()
            if editable and c1.button("Save draft", key=f"{key}_save"):
                save_draft(app.stores, principal, note, sections, _meds_from_rows(list(rows), note.medications))
                # Said after the rerun (a message shown before it would vanish with it, and the click look idle).
                st.session_state[f"{key}_notice"] = "Draft saved." + (
                    "" if may_sign else " It waits on the doctor's dashboard for signature."
                )
                st.rerun()
            if may_sign and c2.button("Sign note", type="primary", key=f"{key}_sign"):
                sign_draft(app.stores, principal, note, sections, _meds_from_rows(list(rows), note.medications))
                st.session_state[f"{key}_notice"] = (
                    "Signed. The note is now on the patient's timeline and can no longer change."
                    + (
                        " The patient's after-visit summary is below, to preview and print."
                        if principal.can(Permission.EXPORT)
                        else ""
                    )
                    + (f" {_unconfirmed(suggested)}" if suggested else "")
                )
                st.rerun()
            if (
                note.status is NoteStatus.SIGNED
                and principal.can(Permission.EDIT_NOTES)
                and c1.button("Amend", key=f"{key}_amend")
            ):
                amended = amend_note(app.stores, principal, note)
                st.session_state[f"{key}_notice"] = (
                    f"Amendment started as a new draft of {when(amended.timestamp)}: choose it in the Note list "
                    "(or open it on the timeline) to edit and sign it; this signed version is kept."
                )
                st.rerun()
        except CopilotError as e:
            st.error(e.message)
        if editable:
            with roles_slot:
                _roles_change(app, principal, note, key, roles_asked, _draft_edited(note, sections, key))
        if note.amends:
            with st.expander("Version history"):
                for v in version_chain(app.stores, principal, note)[1:]:
                    st.markdown(f"- {when(v.timestamp)} · {v.status.value} · signed by {md_escape(v.signer or '—')}")


def _unconfirmed(n: int) -> str:
    return f"{counted(n, 'ICD-10 code')} {'remains an unconfirmed suggestion' if n == 1 else 'remain unconfirmed suggestions'}."


def _awaits_confirmation(med: Medication) -> bool:
    return med.found_by == "sounds_like" and not med.verified


def _as_heard(med: Medication) -> str:
    """“list in April” → lisinopril? (the question mark stays until a clinician confirms)."""
    mark = "?" if _awaits_confirmation(med) else ""
    return f"“{md_escape(med.heard_as or med.verbatim)}” → **{md_escape(med.name)}{mark}**"


def _recovered_names(note: Note, editable: bool, key: str) -> int | None:
    """Each name recovered from speech with what was heard; the index of the one the clinician confirms now."""
    asked = None
    for i, med in enumerate(note.medications):
        if not med.heard_as or med.found_by not in ("sounds_like", "clinician"):
            continue
        text, button = st.columns([4, 1], vertical_alignment="center")
        if _awaits_confirmation(med):
            text.markdown(f":material/hearing: {_as_heard(med)} · :orange[unverified: confirm it was said]")
            if editable and button.button("Confirm", key=f"{key}_confirm_{i}", help=f"{med.name} was said"):
                asked = i
        else:
            text.markdown(f":material/hearing: {_as_heard(med)} · :green[confirmed by a clinician]")
    return asked


def _draft_edited(note: Note, sections: dict[str, str], key: str) -> bool:
    """Whether redrafting would lose a clinician's work: saved edits, or text/medications changed on screen."""
    typed = any((sections.get(s) or "").strip() != (note.sections.get(s) or "").strip() for s in SECTIONS)
    meds = st.session_state.get(f"{key}_meds") or {}
    meds_changed = any(meds.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))
    return bool(note.edited_by) or typed or meds_changed


def _roles_change(
    app: App, principal: Principal, note: Note, key: str, asked: dict[int, str] | None, edited: bool
) -> None:
    """Relabel and redraft at once, or first ask when the clinician's edits of the draft would be replaced."""
    pending_key = f"{key}_pending_roles"
    if asked:
        if not edited:
            _relabel(app, principal, note, key, asked)
            return
        st.session_state[pending_key] = {"version": note.version, "roles": asked}
    pending = st.session_state.get(pending_key)
    if not pending or pending["version"] != note.version:
        st.session_state.pop(pending_key, None)
        return
    n = sum(1 for s in note.transcript if s.id in pending["roles"] and pending["roles"][s.id] != s.speaker)
    st.warning(
        f"This draft has been edited. Changing the role of {counted(n, 'turn')} redoes it from the transcript: its text and "
        "medications are replaced by a new draft and your edits are lost. Redo the draft?"
    )
    yes, no = st.columns(2)
    if yes.button("Redo the draft", type="primary", key=f"{key}_relabel_yes"):
        st.session_state.pop(pending_key, None)
        _relabel(app, principal, note, key, pending["roles"])
    if no.button("Keep my edits", key=f"{key}_relabel_no"):
        st.session_state.pop(pending_key, None)
        st.rerun()


def _relabel(app: App, principal: Principal, note: Note, key: str, roles: dict[int, str]) -> None:
    changed = sum(1 for s in note.transcript if s.id in roles and roles[s.id] != s.speaker)
    try:
        with st.spinner("Redoing the draft from the new roles…"):
            relabel_roles(
                app.stores, principal, note.patient_id, note.timestamp, roles, app.drafter(), version=note.version
            )
    except CopilotError as e:
        st.error(md_escape(e.message))
        return
    # Widgets keep what they showed: drop them so the new draft is what appears.
    for k in [*(f"{key}_{s}" for s in SECTIONS), f"{key}_meds"]:
        st.session_state.pop(k, None)
    st.session_state[f"{key}_notice"] = f"Roles changed on {counted(changed, 'turn')}; the draft was redone from them."
    st.rerun()


def _vitals(note: Note) -> None:
    if not note.vitals:
        return
    st.markdown("**Vital signs**")
    st.dataframe(
        [
            {
                "vital": VITAL_LABELS.get(v.kind, v.kind),
                "value": v.value,
                "unit": v.unit,
                # "plausible" says the reading can be real, not that it is normal (150/95 is plausible).
                "reading": "plausible" if v.plausible else f"check: {v.reason or 'implausible'}",
            }
            for v in note.vitals
        ],
        hide_index=True,
        width="stretch",
    )


def _play(app: App, principal: Principal, note: Note, start: float) -> None:
    """The recording from ``start`` seconds, or why it cannot be played."""
    try:
        audio = recording_audio(app.stores, app.blobs, principal, note.patient_id, note.timestamp)
    except NotFound:
        st.info("The recording was deleted under the clinic's audio retention policy; the transcript remains.")
        return
    except CopilotError as e:
        st.error(e.message)
        return
    st.audio(audio, start_time=int(start))
