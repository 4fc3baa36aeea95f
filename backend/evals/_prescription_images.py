"""Synthetic printed prescriptions with their ground truth, for the OCR eval, the bench and the tests.

A page looks like a clinic's printed prescription: letterhead, doctor, patient line, "Rx" and numbered
medication lines such as "Tab. Metformin 500 mg BD x 30 days". ``degrade=True`` imitates a phone photo of a
paper copy: a slight rotation, blur, sensor noise, uneven light and JPEG quality 40.

The truth text is the page's lines top to bottom, each line's pieces left to right, one line per row.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

PAGE_SIZE = (1500, 2000)  # a phone photo of an A5/A4 sheet, portrait
_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))

MEDICATION_LINES: tuple[str, ...] = (
    "Tab. Metformin 500 mg BD x 30 days",
    "Tab. Amlodipine 5 mg OD x 30 days",
    "Cap. Omeprazole 20 mg OD before breakfast x 14 days",
    "Tab. Paracetamol 650 mg TDS x 5 days",
    "Tab. Atorvastatin 10 mg HS x 30 days",
    "Syp. Amoxicillin 250 mg/5 ml 5 ml TDS x 7 days",
    "Tab. Telmisartan 40 mg OD x 30 days",
    "Tab. Glimepiride 1 mg 1-0-0 before food x 30 days",
    "Inj. Insulin Glargine 10 units SC at night",
    "Tab. Dolo 650 SOS for fever",
    "Tab. Pan-D 1-0-0 before food x 10 days",
    "Tab. Azithromycin 500 mg OD x 3 days",
    "Tab. Cetirizine 10 mg HS x 5 days",
    "Tab. Losartan 50 mg OD x 30 days",
    "Tab. Aspirin 75 mg OD after lunch",
    "Cap. Vitamin D3 60000 IU once weekly x 8 weeks",
    "Tab. Levothyroxine 50 mcg OD empty stomach",
    "Tab. Salbutamol 4 mg BD x 5 days",
)
_CLINICS = ("Sunrise Family Clinic", "Green Valley Health Centre", "City Care Polyclinic", "Lotus Medical Centre")
_DOCTORS = ("Dr. A. Menon, MBBS, MD", "Dr. S. Iyer, MBBS, DNB", "Dr. R. Khan, MBBS, MD (Med)", "Dr. P. Nair, MBBS")
_PATIENTS = ("Ram Kumar", "Sita Devi", "Arjun Sharma", "Fatima Begum", "Joseph DSouza", "Lakshmi Rao")
_ADVICE = ("Review after 2 weeks with sugar report", "Low salt diet, walk 30 min daily", "Drink plenty of fluids")


@dataclass(frozen=True)
class _Row:
    pieces: tuple[str, ...]  # drawn left to right; a second piece is right-aligned
    size: int
    bold: bool = False
    rule_below: bool = False


@cache
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in _FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size)
    # Pillow's bundled scalable font keeps the generator working where DejaVu is not installed.
    return ImageFont.load_default(size=size)


def random_medication_lines(rng: random.Random, count: int = 4) -> list[str]:
    """``count`` distinct medication lines, numbered "1. ...", drawn from a fixed list."""
    chosen = rng.sample(MEDICATION_LINES, k=min(count, len(MEDICATION_LINES)))
    return [f"{i}. {line}" for i, line in enumerate(chosen, start=1)]


def _rows(lines: list[str], seed: int) -> list[_Row]:
    rng = random.Random(seed)
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    age, sex = rng.randint(18, 85), rng.choice("MF")
    return [
        _Row((rng.choice(_CLINICS),), 60, bold=True),
        _Row(
            (
                f"{rng.randint(1, 99)} MG Road, Bengaluru 5600{rng.randint(10, 99)}",
                f"Ph: 080 {rng.randint(2000, 9999)} {rng.randint(1000, 9999)}",
            ),
            32,
        ),
        _Row((rng.choice(_DOCTORS), f"Reg. No. KMC {rng.randint(10000, 99999)}"), 34, rule_below=True),
        _Row((f"Patient: {rng.choice(_PATIENTS)}  Age/Sex: {age}/{sex}", f"Date: {day:02d}/{month:02d}/2025"), 36),
        _Row(("Rx",), 56, bold=True),
        *(_Row((line,), 38) for line in lines),
        _Row((f"Advice: {rng.choice(_ADVICE)}",), 34),
        _Row(("", "Signature"), 32),
    ]


def prescription_text(lines: list[str], seed: int = 0) -> str:
    """The ground truth of ``render_prescription(lines, seed=seed)``: one line per printed row."""
    return "\n".join(" ".join(p for p in row.pieces if p) for row in _rows(lines, seed))


def render_prescription(lines: list[str], degrade: bool = False, seed: int = 0) -> Image.Image:
    """Draw a printed prescription page with ``lines`` as its medication lines.

    Args:
        lines: medication lines, drawn in order below "Rx".
        degrade: imitate a phone photo (rotation ~3 degrees, blur, noise, JPEG quality 40).
        seed: chooses clinic, doctor, patient, date and the degradation.

    Returns:
        An RGB image of ``PAGE_SIZE`` (a little larger when rotated).
    """
    page = Image.new("RGB", PAGE_SIZE, "white")
    draw = ImageDraw.Draw(page)
    margin, y = 110, 120
    for row in _rows(lines, seed):
        font = _font(row.size, row.bold)
        for i, piece in enumerate(row.pieces):
            if not piece:
                continue
            x = margin if i == 0 else PAGE_SIZE[0] - margin - int(draw.textlength(piece, font=font))
            draw.text((x, y), piece, fill=(20, 20, 30), font=font)
        y += int(row.size * 1.9)
        if row.rule_below:
            draw.line((margin, y - row.size // 2, PAGE_SIZE[0] - margin, y - row.size // 2), fill=(60, 60, 90), width=4)
            y += row.size // 2
    if not degrade:
        return page
    return Image.open(io.BytesIO(degrade_to_jpeg(page, seed))).convert("RGB")


def degrade_to_jpeg(image: Image.Image, seed: int = 0, quality: int = 40) -> bytes:
    """A phone-photo version of ``image`` as JPEG bytes: rotated ~3 deg, blurred, uneven light, noisy."""
    rng = np.random.default_rng(seed)
    angle = float(rng.uniform(2.5, 3.5) * rng.choice([-1, 1]))
    rotated = image.convert("RGB").rotate(
        angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(235, 232, 225)
    )
    blurred = rotated.filter(ImageFilter.GaussianBlur(radius=1.3))
    pixels = np.asarray(blurred, dtype=np.float32)
    h, w = pixels.shape[:2]
    # Light falls off towards one corner, as under a desk lamp.
    yy, xx = np.mgrid[0:h, 0:w]
    light = 1.0 - 0.18 * ((xx / w) * 0.6 + (yy / h) * 0.4)
    pixels = pixels * light[..., None] + rng.normal(0, 12, pixels.shape)
    noisy = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    out = io.BytesIO()
    noisy.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def make_samples(count: int, out_dir: Path, degrade: bool = False, first_seed: int = 0) -> list[Path]:
    """Write ``count`` prescriptions as X.png (or X.jpg when degraded) plus X.txt truth into ``out_dir``.

    Returns:
        The image paths written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for seed in range(first_seed, first_seed + count):
        rng = random.Random(seed)
        lines = random_medication_lines(rng, rng.randint(3, 6))
        stem = f"rx_{'degraded' if degrade else 'clean'}_{seed:03d}"
        clean = render_prescription(lines, seed=seed)
        if degrade:
            path = out_dir / f"{stem}.jpg"
            path.write_bytes(degrade_to_jpeg(clean, seed))
        else:
            path = out_dir / f"{stem}.png"
            clean.save(path)
        (out_dir / f"{stem}.txt").write_text(prescription_text(lines, seed) + "\n", encoding="utf-8")
        written.append(path)
    return written
