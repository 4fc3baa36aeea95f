"""The Timeline's exports: the FHIR R4 bundle, an ABDM record of the latest signed note, the printable summary.

Each file is prepared on request and kept for this patient in the session, so preparing one does not take the
download button of another away (a button is true for one run only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import streamlit as st

from backend.domain.errors import CopilotError
from backend.domain.models import Patient, now_ms
from backend.formats.fhir_abdm import KINDS, RecordKind
from backend.services.access import Permission, Principal
from backend.services.export import EpisodesFor, export_abdm_record, export_bundle, summary_html
from ui import clock
from ui.safe import md_escape

if TYPE_CHECKING:
    from ui.runtime import App

ABDM_LABELS: dict[RecordKind, str] = {
    "OPConsultRecord": "Consultation (OPConsultRecord)",
    "PrescriptionRecord": "Prescription (PrescriptionRecord)",
}
# The download's label is short: it fits its column at a laptop's width (the long name is on the choice above).
ABDM_SHORT: dict[RecordKind, str] = {"OPConsultRecord": "consultation", "PrescriptionRecord": "prescription"}
FHIR_JSON = "application/fhir+json"
CODES_NOTE = (
    "Diagnoses carry WHO ICD-10 codes: a code a clinician confirmed on the review screen is exported as chosen; "
    "any other is exported as a suggestion (not chosen by a clinician)."
)


def export_panel(app: App, principal: Principal, patient: Patient, episodes_for: EpisodesFor) -> None:
    """The export buttons for one patient, or why this role has none."""
    if not principal.can(Permission.EXPORT):
        st.info("Exports are available to doctors.")
        return
    pid = patient.patient_id
    ready: dict[str, _Prepared] = st.session_state.setdefault(f"timeline_exports_{pid}", {})
    st.caption(CODES_NOTE)
    fhir, abdm, summary = st.columns(3)
    try:
        if fhir.button("Prepare FHIR R4 bundle", key="timeline_fhir", help="Every signed note, medication and metric"):
            bundle = json.dumps(export_bundle(app.stores, principal, pid, app.fhir_cache()), indent=1)
            ready["fhir"] = _Prepared("Download FHIR bundle (JSON)", bundle, f"{pid}-fhir-r4.json", FHIR_JSON)
        kind: RecordKind | None = abdm.selectbox(
            "ABDM record of the latest signed note",
            list(KINDS),
            format_func=lambda k: ABDM_LABELS[k],
            key="timeline_abdm_kind",
        )
        if kind is not None and abdm.button("Prepare ABDM record", key="timeline_abdm"):
            record = json.dumps(export_abdm_record(app.stores, principal, pid, kind), indent=1)
            label = f"Download {ABDM_SHORT[kind]} (JSON)"
            ready["abdm"] = _Prepared(label, record, f"{pid}-{kind}.json", FHIR_JSON)
        if summary.button("Prepare printable summary", key="timeline_summary"):
            html = summary_html(app.stores, principal, pid, episodes_for=episodes_for, tz=clock.clinic_tz())
            file_name = f"{pid}-summary-{clock.clinic_day(now_ms())}.html"
            ready["summary"] = _Prepared(
                "Download summary (HTML)", html, file_name, "text/html", "print it to PDF from the browser; "
            )
    except CopilotError as e:
        st.error(md_escape(e.message))
    # Each download sits under the button that prepared it, so it is plain which file a click made.
    for slot, column in (("fhir", fhir), ("abdm", abdm), ("summary", summary)):
        file = ready.get(slot)
        if file is None:
            continue
        column.download_button(
            file.label,
            file.data,
            file_name=file.file_name,
            mime=file.mime,
            type="primary",
            key=f"timeline_{slot}_download",
        )
        # The time says how fresh a file prepared earlier in this session is: a note signed since is not in it.
        column.caption(f"{file.hint}Prepared at {file.prepared_at}; prepare it again to include later changes.")


@dataclass(frozen=True)
class _Prepared:
    label: str
    data: str
    file_name: str
    mime: str
    hint: str = ""  # what to do with the file, before when it was prepared
    prepared_at: str = field(default_factory=lambda: clock.clock_text(now_ms()))
