"""The patient's visit summary as a PDF (fpdf2 with HarfBuzz text shaping, so Hindi conjuncts and matras join).

The fonts are the language file's ``fonts`` / ``bold_fonts``, looked up among the system's fonts (Debian:
``fonts-dejavu-core``, ``fonts-noto-core`` for Noto Sans Devanagari); the first font sets the text, the next
ones cover the characters it lacks (Latin drug names and marks in a Hindi page).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from backend.domain.errors import ProviderUnavailable
from backend.domain.visit_summary import VisitSummary, medicine_table

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".local/share/fonts")
_PACKAGES = {"NotoSans": "fonts-noto-core", "DejaVu": "fonts-dejavu-core"}
_RED = (164, 0, 0)


@cache
def find_font(file_name: str) -> Path:
    """The path of a font file among the system's fonts (``COPILOT_FONT_DIR`` is searched first).

    Raises:
        ProviderUnavailable: the font is not installed (the message names the Debian package).
    """
    extra = os.environ.get("COPILOT_FONT_DIR")
    for root in ([Path(extra)] if extra else []) + list(FONT_DIRS):
        if root.is_dir():
            hit = next(iter(sorted(root.rglob(file_name))), None)
            if hit is not None:
                return hit
    package = next((p for prefix, p in _PACKAGES.items() if file_name.startswith(prefix)), "a package that has it")
    raise ProviderUnavailable(
        f"The PDF needs the font {file_name}, which is not installed (Debian: apt-get install {package}). "
        "The HTML summary works without it: download that and print it from the browser."
    )


def _fonts(pdf: FPDF, summary: VisitSummary) -> None:
    meta = summary.language.data["meta"]
    regular, bold = list(meta["fonts"]), list(meta["bold_fonts"])
    for i, (r, b) in enumerate(zip(regular, bold, strict=True)):
        family = f"f{i}"
        pdf.add_font(family, "", str(find_font(r)))
        pdf.add_font(family, "B", str(find_font(b)))
    pdf.set_font("f0", size=11)
    if len(regular) > 1:
        pdf.set_fallback_fonts([f"f{i}" for i in range(1, len(regular))], exact_match=False)
    pdf.set_text_shaping(True)


class _Page:
    """Writes the parts of the summary one after another."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf

    def heading(self, text: str, size: float = 13, color: tuple[int, int, int] = (0, 0, 0)) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - pdf.b_margin - 40:
            pdf.add_page()  # a heading never ends a page without what it heads
        pdf.ln(3)
        pdf.set_font(style="B", size=size)
        pdf.set_text_color(*color)
        pdf.multi_cell(0, size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        y = pdf.get_y() + 0.5
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
        pdf.ln(2)
        pdf.set_font(style="", size=11)

    def text(self, text: str, bold: bool = False, size: float = 11) -> None:
        self.pdf.set_font(style="B" if bold else "", size=size)
        self.pdf.multi_cell(0, size * 0.55, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_font(style="", size=11)

    def bullets(self, items: list[str]) -> None:
        for item in items:
            self.text(f"•  {item}")

    def table(self, header: list[str] | None, rows: list[list[str]], widths: tuple[float, ...]) -> None:
        pdf = self.pdf
        with pdf.table(
            col_widths=widths,
            text_align="LEFT",
            first_row_as_headings=header is not None,
            headings_style=FontFace(emphasis="BOLD", fill_color=(232, 232, 232)),
            line_height=6,
            padding=1.5,
        ) as table:
            for row in ([header] if header else []) + rows:
                cells = table.row()
                for cell in row:
                    cells.cell(cell)
        pdf.ln(1)


def render_visit_summary_pdf(summary: VisitSummary) -> bytes:
    """The summary as PDF bytes (A4); a part the note has nothing for is left out, as on the HTML page."""
    label = summary.language.label
    pdf = FPDF(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    pdf.set_title(f"{label('title')} – {summary.patient_name}")
    pdf.add_page()
    _fonts(pdf, summary)
    page = _Page(pdf)
    page.text(label("title"), bold=True, size=18)
    facts = [[label("patient"), summary.patient_name], [label("visit_date"), summary.visit_date]]
    if summary.doctor:
        facts.append([label("doctor"), summary.doctor])
    for key, value in facts:
        page.text(f"{key}: {value}")
    if summary.reason:
        page.heading(label("reason"))
        page.text(summary.reason)
    if summary.conditions or summary.measurements:
        page.heading(label("found"))
        if summary.conditions:
            page.text(f"{label('conditions')}:", bold=True)
            page.bullets(summary.conditions)
        if summary.measurements:
            page.text(f"{label('measurements')}:", bold=True)
            page.table(None, [[k, v] for k, v in summary.measurements], (1, 1))
    if summary.medicines:
        page.heading(label("medicines"))
        header, rows = medicine_table(summary)
        page.table(header, rows, (3.0, 1.55, 1.55, 1.55, *([1.9] * (len(header) - 4))))
    if summary.stopped:
        page.heading(label("stop"))
        page.bullets(summary.stopped)
    if summary.follow_up:
        page.heading(label("follow_up"))
        page.text(summary.follow_up, bold=True)
        if summary.follow_up_as_written:
            page.text(f"{label('as_written')}: “{summary.follow_up_as_written}”", size=9.5)
    if summary.warning_signs:
        page.heading(label("warnings"), color=_RED)
        page.bullets(summary.warning_signs)
        page.text(label("warnings_general"), size=9.5)
    pdf.ln(2)
    page.text(label("worse"), bold=True)
    pdf.ln(3)
    page.text(label("footer"), size=9)
    return bytes(pdf.output())
