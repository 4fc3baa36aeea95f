"""Reading order of OCR text runs: lines top to bottom, runs left to right, skew of a photo tolerated."""

from __future__ import annotations

import math

from backend.formats.reading_order import page_skew, reading_order

Box = tuple[tuple[float, float], ...]


def _box(x: float, y: float, width: float, height: float = 40, angle_deg: float = 0.0) -> Box:
    """A run's quadrilateral: top-left corner at (x, y), turned by ``angle_deg`` about the page origin."""
    a = math.radians(angle_deg)
    corners = ((x, y), (x + width, y), (x + width, y + height), (x, y + height))
    return tuple((px * math.cos(a) - py * math.sin(a), px * math.sin(a) + py * math.cos(a)) for px, py in corners)


def test_runs_on_one_line_are_joined_left_to_right_and_lines_go_down() -> None:
    runs = [
        (_box(1000, 300, 300), "Date: 05/10/2025", 0.99),
        (_box(100, 200, 600), "Dr. S. Iyer, MBBS", 0.98),
        (_box(100, 300, 600), "Patient: Fatima Begum", 0.97),
        (_box(1000, 200, 300), "Reg. No. 22302", 0.96),
    ]
    lines = reading_order(runs, page=2)
    assert [line.text for line in lines] == [
        "Dr. S. Iyer, MBBS Reg. No. 22302",
        "Patient: Fatima Begum Date: 05/10/2025",
    ]
    assert all(line.page == 2 for line in lines)
    # The merged box covers both runs; the score is weighted by characters.
    (x0, y0), _, (x1, y1), _ = lines[0].box
    assert (x0, y0, x1, y1) == (100, 200, 1300, 240)
    assert 0.96 < lines[0].score < 0.98


def test_a_turned_page_keeps_its_lines() -> None:
    # 3 degrees clockwise: the right-hand run of the first line sits ~50 px lower than its left-hand run,
    # lower than the start of the next line; without deskewing it would be put on the wrong line.
    runs = []
    for row, (left, right) in enumerate(
        [("Dr. S. Iyer, MBBS, DNB", "Reg. No. KMC 22302"), ("Patient: Ram", "Date: 1/2")]
    ):
        y = 200 + 60 * row
        runs.append((_box(100, y, 700, angle_deg=3), left, 0.9))
        runs.append((_box(1050, y, 300, angle_deg=3), right, 0.9))
    assert abs(math.degrees(page_skew([box for box, _, _ in runs])) - 3) < 0.01
    lines = reading_order(runs)
    assert [line.text for line in lines] == ["Dr. S. Iyer, MBBS, DNB Reg. No. KMC 22302", "Patient: Ram Date: 1/2"]


def test_single_runs_keep_their_polygon_and_nothing_gives_nothing() -> None:
    box = _box(10, 10, 200, angle_deg=2)
    (line,) = reading_order([(box, "  Rx ", 0.5)])
    assert line.text == "Rx" and line.box == box
    assert reading_order([]) == []
    assert page_skew([]) == 0.0
