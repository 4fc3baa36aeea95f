"""The patient's visit summary as one printable, self-contained HTML page (every value is escaped)."""

from __future__ import annotations

from html import escape

from backend.domain.visit_summary import VisitSummary, medicine_table

_CSS = """
body{font-family:"Noto Sans","Noto Sans Devanagari","DejaVu Sans",system-ui,sans-serif;margin:1.5em;color:#111;
max-width:48em;font-size:15px;line-height:1.45}
h1{font-size:1.5em;margin:0 0 .3em}
h2{font-size:1.15em;border-bottom:2px solid #333;margin:1.2em 0 .4em;padding-bottom:.1em}
table{border-collapse:collapse;width:100%}
th,td{border:1px solid #888;padding:.35em .5em;text-align:left;vertical-align:top}
td.slot{text-align:center;font-size:1.2em;font-weight:600;width:5.5em}
.facts td{border:none;padding:.1em .6em .1em 0}
.small{color:#444;font-size:.9em}
.warn{border:2px solid #a40000;padding:.4em .8em;margin-top:.6em}
.warn h2{border:none;color:#a40000;margin-top:.2em}
.as-written{white-space:pre-line}
@media print{body{margin:0} h2{page-break-after:avoid} tr,.warn{page-break-inside:avoid}}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _section(title: str, body: str) -> str:
    return f"<h2>{_e(title)}</h2>{body}"


def _list(items: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def _medicines(summary: VisitSummary) -> str:
    header, rows = medicine_table(summary)
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + f"<td class='as-written'>{_e(row[0])}</td>"
        + "".join(f"<td class='slot'>{_e(c)}</td>" for c in row[1:4])
        + "".join(f"<td>{_e(c)}</td>" for c in row[4:])
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_visit_summary(summary: VisitSummary) -> str:
    """The whole page; a part the note has nothing for is left out."""
    lang = summary.language
    label = lang.label
    facts = [(label("patient"), summary.patient_name), (label("visit_date"), summary.visit_date)]
    if summary.doctor:
        facts.append((label("doctor"), summary.doctor))
    parts = [
        f"<h1>{_e(label('title'))}</h1><table class='facts'>"
        + "".join(f"<tr><td>{_e(k)}</td><td><b>{_e(v)}</b></td></tr>" for k, v in facts)
        + "</table>"
    ]
    if summary.reason:
        parts.append(_section(label("reason"), f"<p>{_e(summary.reason)}</p>"))
    found = ""
    if summary.conditions:
        found += f"<p><b>{_e(label('conditions'))}:</b></p>{_list(summary.conditions)}"
    if summary.measurements:
        found += f"<p><b>{_e(label('measurements'))}:</b></p><table>" + "".join(
            f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in summary.measurements
        )
        found += "</table>"
    if found:
        parts.append(_section(label("found"), found))
    if summary.medicines:
        parts.append(_section(label("medicines"), _medicines(summary)))
    if summary.stopped:
        parts.append(_section(label("stop"), _list(summary.stopped)))
    if summary.follow_up:
        said = (
            f"<p class='small'>{_e(label('as_written'))}: “{_e(summary.follow_up_as_written)}”</p>"
            if summary.follow_up_as_written
            else ""
        )
        parts.append(_section(label("follow_up"), f"<p><b>{_e(summary.follow_up)}</b></p>{said}"))
    warn = ""
    if summary.warning_signs:
        warn = (
            f"<h2>{_e(label('warnings'))}</h2>{_list(summary.warning_signs)}"
            f"<p class='small'>{_e(label('warnings_general'))}</p>"
        )
    parts.append(f"<div class='warn'>{warn}<p><b>{_e(label('worse'))}</b></p></div>")
    parts.append(f"<p class='small'>{_e(label('footer'))}</p>")
    html_lang = _e(lang.data["meta"].get("html_lang", lang.code))
    return (
        f"<!doctype html><html lang='{html_lang}'><head><meta charset='utf-8'>"
        f"<title>{_e(label('title'))} – {_e(summary.patient_name)}</title><style>{_CSS}</style></head>"
        f"<body>{''.join(parts)}</body></html>"
    )
