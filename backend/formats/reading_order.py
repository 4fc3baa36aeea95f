"""Reading order of OCR text runs: lines top to bottom, runs left to right, on pages photographed at an angle.

The page's skew is estimated from the boxes themselves, so runs on the same printed line of a photo taken at a
slight angle are still joined. Pure geometry: used by every OCR engine that returns boxes of text runs.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from backend.ports import OcrLine

Point = tuple[float, float]


@dataclass(frozen=True)
class _Run:
    text: str
    box: tuple[Point, ...]
    score: float
    x: float  # centre, in deskewed coordinates
    y: float
    height: float


def page_skew(boxes: list[tuple[Point, ...]]) -> float:
    """Median angle (radians) of the top edges of wide boxes: how far the page is turned."""
    angles = []
    for box in boxes:
        (x0, y0), (x1, y1) = box[0], box[1]
        width, height = math.dist(box[0], box[1]), math.dist(box[0], box[3])
        if width > 2 * height:  # short runs ("Rx") give noisy angles
            angles.append(math.atan2(y1 - y0, x1 - x0))
    return statistics.median(angles) if angles else 0.0


def reading_order(runs: list[tuple[tuple[Point, ...], str, float]], page: int = 0) -> list[OcrLine]:
    """Group text runs ``(box, text, score)`` into lines, top to bottom, each left to right.

    Boxes are 4-point polygons starting at the top-left corner, clockwise (rapidocr's order).
    """
    if not runs:
        return []
    angle = page_skew([box for box, _, _ in runs])
    cos, sin = math.cos(angle), math.sin(angle)
    items = []
    for box, text, score in runs:
        cx = sum(p[0] for p in box) / len(box)
        cy = sum(p[1] for p in box) / len(box)
        # Rotate the centre by -angle so lines of a turned page become horizontal.
        items.append(_Run(text, box, score, cx * cos + cy * sin, -cx * sin + cy * cos, math.dist(box[0], box[3])))
    items.sort(key=lambda r: r.y)
    lines: list[list[_Run]] = []
    for run in items:
        current = lines[-1] if lines else None
        if current is not None:
            mean_y = sum(r.y for r in current) / len(current)
            if abs(run.y - mean_y) < 0.5 * min(run.height, max(r.height for r in current)):
                current.append(run)
                continue
        lines.append([run])
    return [_merge(sorted(line, key=lambda r: r.x), page) for line in lines]


def _merge(line: list[_Run], page: int) -> OcrLine:
    if len(line) == 1:
        return OcrLine(text=line[0].text.strip(), box=line[0].box, score=line[0].score, page=page)
    xs = [p[0] for r in line for p in r.box]
    ys = [p[1] for r in line for p in r.box]
    box = ((min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys)))
    chars = sum(len(r.text) for r in line)
    score = sum(r.score * len(r.text) for r in line) / chars
    return OcrLine(text=" ".join(r.text.strip() for r in line), box=box, score=score, page=page)
