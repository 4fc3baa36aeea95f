"""A printable one-page patient summary as self-contained HTML (every stored value is escaped)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, tzinfo
from html import escape
from typing import Any

from backend.domain.models import MetricDay, Note, Patient
from backend.domain.reconcile import ActiveMed, day_of

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#111;max-width:60em}
h1{font-size:1.5em;margin-bottom:.2em}
h2{font-size:1.15em;border-bottom:1px solid #999;margin-top:1.5em}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
.muted{color:#555} .flag{color:#a40000;font-weight:600}
.note{margin:.6em 0;padding:.4em .6em;border-left:3px solid #999}
@media print{body{margin:0} h2{page-break-after:avoid} .note{page-break-inside:avoid}}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _meds_table(meds: list[ActiveMed], tz: tzinfo) -> str:
    if not meds:
        return "<p class='muted'>No medications recorded in signed notes or documents.</p>"
    rows = []
    for m in meds:
        flags = []
        if not m.verified:
            flags.append("name not verified")
        if m.conflict:
            flags.append(m.conflict_detail)
        flag_html = "".join(f"<div class='flag'>{_e(f)}</div>" for f in flags)
        changes = "; ".join(m.changes)
        seen = f"{m.first_day or day_of(m.first_seen, tz)} – {m.last_day or day_of(m.last_seen, tz)}"
        rows.append(
            f"<tr><td>{_e(m.name)}{flag_html}</td><td>{_e(m.strength or '')}</td><td>{_e(m.frequency or '')}</td>"
            f"<td>{_e(m.status)}</td><td>{_e(seen)}</td><td>{_e(changes)}</td></tr>"
        )
    head = "<tr><th>Medication</th><th>Strength</th><th>Frequency</th><th>Status</th><th>Seen</th><th>Changes</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def _notes(notes: list[Note], tz: tzinfo) -> str:
    if not notes:
        return "<p class='muted'>No signed notes.</p>"
    out = []
    for n in notes:
        sections = "".join(
            f"<div><b>{_e(k.capitalize())}:</b> {_e(v)}</div>" for k, v in n.sections.items() if v and v.strip()
        )
        signer = f", signed by {_e(n.signer)}" if n.signer else ""
        out.append(f"<div class='note'><div class='muted'>{_e(day_of(n.timestamp, tz))}{signer}</div>{sections}</div>")
    return "".join(out)


def _metrics(latest: list[MetricDay]) -> str:
    if not latest:
        return "<p class='muted'>No wearable data.</p>"
    rows = "".join(
        f"<tr><td>{_e(d.metric.replace('_', ' '))}</td><td>{_e(f'{d.value:g} {d.unit}')}</td><td>{_e(d.day)}</td></tr>"
        for d in latest
    )
    return f"<table><tr><th>Metric</th><th>Latest value</th><th>Day</th></tr>{rows}</table>"


def _episodes(episodes: list[Mapping[str, Any]]) -> str:
    if not episodes:
        return "<p class='muted'>No anomaly episodes.</p>"
    items = "".join(
        f"<li><b>{_e(ep.get('metric'))}</b> {_e(ep.get('start_day'))} – {_e(ep.get('end_day'))}: "
        f"{_e(ep.get('explanation'))}</li>"
        for ep in episodes
    )
    return f"<ul>{items}</ul>"


def render_summary(
    patient: Patient,
    meds: list[ActiveMed],
    notes: list[Note],
    latest: list[MetricDay],
    episodes: list[Mapping[str, Any]],
    generated_ms: int,
    tz: tzinfo = UTC,
) -> str:
    """The summary page: demographics, reconciled medications, recent signed notes, latest metrics, anomalies.

    Days are the clinic's (``tz``) calendar days.
    """
    facts = " · ".join(
        _e(x) for x in (patient.patient_id, patient.dob and f"born {patient.dob}", patient.sex, patient.phone) if x
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Patient summary – {_e(patient.name)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(patient.name)}</h1><div class='muted'>{facts}</div>"
        f"<div class='muted'>Summary generated {_e(day_of(generated_ms, tz))} from signed records only.</div>"
        f"<h2>Medications</h2>{_meds_table(meds, tz)}"
        f"<h2>Recent signed notes</h2>{_notes(notes, tz)}"
        f"<h2>Wearable data (latest)</h2>{_metrics(latest)}"
        f"<h2>Anomaly episodes</h2>{_episodes(episodes)}"
        "</body></html>"
    )
