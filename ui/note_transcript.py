"""A note's transcript as a conversation (who said what, how each role was found, recovered drug names heard)
and the controls that fix roles: swap two roles (clinician, patient, other speaker), or set the role of single
turns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import streamlit as st

from backend.domain.medications.recovery import UNCLEAR
from backend.domain.models import Note, Segment
from backend.domain.note_content import RecoveredName
from backend.domain.plural import counted
from backend.services.scribe_roles import ROLES, SWAPS, swapped_roles
from ui.safe import md_escape

ROLE_NAMES = {"clinician": "Clinician", "patient": "Patient", "other": "Other speaker"}
AVATARS = {"clinician": ":material/stethoscope:", "patient": ":material/person:", "other": ":material/group:"}
UNKNOWN_AVATAR = ":material/help:"
COLOURS = {"clinician": "blue", "patient": "green", "other": "violet"}
# How the role was found, in the words a nurse reads (Segment.role_source).
HOW_FOUND = {
    "engine": "speech engine's labels",
    "voice": "by voice",
    "wording": "by wording",
    "clinician": "set by clinician",
    "tag": "transcript tag",
}


def clock(seconds: float) -> str:
    """Minutes and seconds into the recording, as a player shows them (7:05)."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def role_name(speaker: str | None) -> str:
    return ROLE_NAMES.get(speaker or "", "Speaker not known")


def show_transcript(note: Note, highlight: set[int], height: int = 520) -> None:
    """The conversation, one block per run of turns by the same speaker; ``highlight`` marks evidence."""
    if not note.transcript:
        st.markdown("_(no transcript)_")
        return
    recovered = _recoveries_by_segment(note)
    confirmed = {(m.name.lower(), m.heard_as) for m in note.medications if m.verified and m.heard_as}
    evidence = [s for s in note.transcript if s.id in highlight]
    if evidence:
        # The conversation box does not scroll to the evidence: show it here too, with who said it.
        with st.container(border=True):
            st.markdown(
                "  \n".join(
                    f"{_header(s.speaker, [s])}  \n:orange-background[:gray[{clock(s.start)}] "
                    f"{_heard(s.text, recovered.get(s.id, []), confirmed)}]"
                    for s in evidence
                )
            )
    with st.container(height=height, border=True):
        for run in _runs(note.transcript):
            lines = [_header(run[0].speaker, run)]
            for seg in run:
                text = f":gray[{clock(seg.start)}] " + _heard(seg.text, recovered.get(seg.id, []), confirmed)
                lines.append(f":orange-background[{text}]" if seg.id in highlight else text)
            st.markdown("  \n".join(lines))


def role_request(note: Note, key: str) -> dict[int, str] | None:
    """The swap buttons and the single-turn editor of a draft; the roles asked for, or None."""
    asked = _swap_buttons(note, key)
    if asked is not None:
        return asked
    if not st.toggle("Fix the role of single turns", key=f"{key}_fix_turns"):
        return None
    chosen: dict[int, str] = {}
    with st.container(height=360, border=True):
        for seg in note.transcript:
            role_col, text_col = st.columns([2, 3], vertical_alignment="center")
            current = seg.speaker if seg.speaker in ROLES else None
            role = role_col.selectbox(
                f"Role of turn {seg.id}",
                ROLES,
                index=ROLES.index(current) if current else None,
                format_func=lambda r: ROLE_NAMES[r],
                placeholder="not known",
                label_visibility="collapsed",
                # The version is in the key: after a relabel every choice starts from the stored role again.
                key=f"{key}_role_v{note.version}_{seg.id}",
            )
            text_col.markdown(f":gray[{clock(seg.start)}] {md_escape(seg.text)}")
            if role is not None and role != seg.speaker:
                chosen[seg.id] = role
    label = f"Apply {counted(len(chosen), 'role change')} and redo the draft" if chosen else "No role changed yet"
    if st.button(label, key=f"{key}_apply_roles", disabled=not chosen, type="primary"):
        return chosen
    return None


def _swap_buttons(note: Note, key: str) -> dict[int, str] | None:
    """Clinician and patient swap; with a third speaker in the transcript, patient or clinician and that speaker too.

    Three voices are often told apart but named the wrong way round (the parent taken for the patient): one
    swap fixes every turn of both roles, where the turn-by-turn editor would take a click per turn.
    """
    has_other = any(s.speaker == "other" for s in note.transcript)
    swaps = [pair for pair in SWAPS if has_other or "other" not in pair]
    for first, second in swaps:  # one under the other: the transcript column is narrow beside the draft
        swap = swapped_roles(note, first, second)
        a, b = ROLE_NAMES[first].lower(), ROLE_NAMES[second].lower()
        # The first swap keeps its old key: tests and habits know it.
        suffix = "" if (first, second) == SWAPS[0] else f"_{first}_{second}"
        if st.button(
            f"Swap {a} and {b}",
            icon=":material/swap_horiz:",
            key=f"{key}_swap{suffix}",
            disabled=not swap,
            help=f"Every {a} turn becomes the {b}'s and every {b} turn the {a}'s; the other turns stay and the "
            "draft is redone (confirmed drug names and chosen codes are kept)."
            if swap
            else f"No turn has the {a} or {b} role yet: set them one by one.",
        ):
            return swap
    return None


def _header(speaker: str | None, run: Sequence[Segment]) -> str:
    """The speaker's icon and role in its colour, and how the role was found (role_source of the turns)."""
    how = ", ".join(dict.fromkeys(HOW_FOUND[s.role_source] for s in run if s.role_source in HOW_FOUND))
    colour = COLOURS.get(speaker or "", "gray")
    header = f":{colour}[{AVATARS.get(speaker or '', UNKNOWN_AVATAR)} **{role_name(speaker)}**]"
    return header + (f" :gray[· {how}]" if how else "")


def _runs(segments: Sequence[Segment]) -> Iterator[list[Segment]]:
    run: list[Segment] = []
    for seg in segments:
        if run and seg.speaker != run[-1].speaker:
            yield run
            run = []
        run.append(seg)
    if run:
        yield run


def _recoveries_by_segment(note: Note) -> dict[int, list[RecoveredName]]:
    out: dict[int, list[RecoveredName]] = {}
    for r in note.provenance.recovered_names:
        if r.heard and r.drug:
            out.setdefault(r.segment_id, []).append(r)
    return out


# A drug name the recogniser may have been steered to, not heard again when that stretch was listened to again.
NOT_HEARD_AGAIN = "(no drug heard when listened to again: not listed)"


def _heard(text: str, recoveries: list[RecoveredName], confirmed: set[tuple[str, str]]) -> str:
    """``text`` as markdown with each recovered name's heard words marked and the name they sound like."""
    spans: list[tuple[int, int, str, bool]] = []
    lower = text.lower()
    for r in recoveries:
        heard, drug = r.heard, r.drug
        at = lower.find(heard.lower())
        if at >= 0 and all(at >= end or at + len(heard) <= start for start, end, _, _ in spans):
            is_confirmed = any(drug.lower() == name and heard in h for name, h in confirmed)
            spans.append((at, at + len(heard), drug, is_confirmed))
    out, pos = [], 0
    for start, end, drug, is_confirmed in sorted(spans):
        out.append(md_escape(text[pos:start]))
        said = NOT_HEARD_AGAIN if drug == UNCLEAR else f"→ {md_escape(drug)}{'' if is_confirmed else '?'}"
        out.append(f"**:violet[{md_escape(text[start:end])}]** :violet[{said}]")
        pos = end
    out.append(md_escape(text[pos:]))
    return "".join(out)
