"""What a page opened with no patient chosen offers: how to find one, and the likely ones as one-click choices.

A bare search box and "Choose a patient" leave a doctor guessing; the recent patients (opened by them, drafts
waiting, new notes) and the patients with anomalies are usually the ones they came for.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from backend.domain.models import Patient, now_ms
from backend.services.cohort import recent_anomalies
from backend.services.recent_patients import recent_patients
from ui.clock import clinic_day, clinic_tz, when
from ui.patient_text import age_sex
from ui.runtime import get_app, require_principal
from ui.widgets import PATIENT_PARAM, SELECTED, patient_label

DAY_MS = 86_400_000
RECENT_DAYS = 7


def short_label(p: Patient) -> str:
    """``Ram Kumar · 66 y, male``: what tells patients apart at a glance, short enough for a phone's button."""
    extra = age_sex(p, clinic_day(now_ms()))
    return f"{p.name} · {extra}" if extra else p.name


def _choose(patient_id: str) -> None:
    st.session_state[SELECTED] = patient_id
    st.query_params[PATIENT_PARAM] = patient_id


def patient_choices(
    key: str, purpose: str, *, anomalies_too: bool = True, register: str = "on the Patients page"
) -> None:
    """The hint and the choices; a click selects the patient (as the picker would) and reruns the page.

    Args:
        key: the page's widget key prefix.
        purpose: what the page does once a patient is chosen ("to see their timeline"), ending the hint.
        anomalies_too: also offer the patients with anomalies (pages about a patient's health, not data entry).
        register: where a new patient is registered, as seen from this page.
    """
    app, principal = get_app(), require_principal()
    st.info(
        f"Type a name, phone number or patient ID in the box above {purpose}, or choose one of the patients "
        f"below. A new patient is registered {register}."
    )
    recent = recent_patients(app.stores, principal, since_ms=now_ms() - RECENT_DAYS * DAY_MS)
    anomalies = recent_anomalies(app.stores, principal, days=RECENT_DAYS, tz=clinic_tz())[:5] if anomalies_too else []
    left, right = st.columns(2) if anomalies_too else (st.container(), st.container())
    with left:
        # The name and age on the button (it fits a phone's width); the ID beside why it is offered.
        _choice_list(
            f"{key}_recent",
            "Recent patients",
            "None yet: patients you open, drafts waiting for signature and new notes appear here.",
            [
                _Choice(
                    r.patient.patient_id,
                    short_label(r.patient),
                    f"{r.patient.patient_id} · {r.why} · {when(r.at)}",
                    patient_label(r.patient),
                )
                for r in recent
            ],
        )
    if not anomalies_too:
        return
    with right:
        _choice_list(
            f"{key}_anomaly",
            "Patients with anomalies",
            "No wearable data out of the usual range in these days.",
            [
                _Choice(str(a["patient_id"]), str(a["name"]), f"illness score {a['score']:.2f} (alert at 0.5)")
                for a in anomalies
            ],
        )


@dataclass(frozen=True)
class _Choice:
    patient_id: str
    label: str  # on the button
    caption: str  # under it: why the patient is offered
    help: str | None = None  # on hover


def _choice_list(key: str, title: str, empty: str, choices: list[_Choice]) -> None:
    """A titled list of one-click patient choices, or what fills it when it is empty."""
    st.markdown(f"**{title}** · last {RECENT_DAYS} days")
    if not choices:
        st.caption(empty)
    for c in choices:
        st.button(
            c.label,
            key=f"{key}_{c.patient_id}",
            help=c.help,
            on_click=_choose,
            args=(c.patient_id,),
            width="stretch",
        )
        st.caption(c.caption)
