"""What an import did: counts, rejected lines with reasons, unknown metric names."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import tzinfo
from typing import Any

MAX_LISTED_REJECTIONS = 1000  # a 1M-row file of garbage must not produce a 1M-line report


@dataclass
class ImportLog:
    """Collects problems while the importers stream; becomes part of the :class:`ImportReport`."""

    rejected: list[tuple[int, str]] = field(default_factory=list)
    rejected_total: int = 0
    unknown: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    tz_hint: str | tzinfo | None = None  # a time zone the file itself names (Ultrahuman, Apple offsets)

    def reject(self, line: int, reason: str) -> None:
        """Record one rejected line (1-based line or record number; 0 when the source has none)."""
        self.rejected_total += 1
        if len(self.rejected) < MAX_LISTED_REJECTIONS:
            self.rejected.append((int(line), reason))

    def reject_many(self, lines: list[int], reasons: list[str], total: int | None = None) -> None:
        """Record many rejections at once; ``total`` counts those not listed (reasons built only for the first ones)."""
        room = max(0, MAX_LISTED_REJECTIONS - len(self.rejected))
        self.rejected.extend((int(n), r) for n, r in list(zip(lines, reasons, strict=True))[:room])
        self.rejected_total += len(lines) if total is None else total

    def unknown_metric(self, name: str, count: int = 1) -> None:
        self.unknown[name] += count


@dataclass
class ImportReport:
    """The outcome of one import, shown to the user as-is."""

    format: str
    filename: str = ""
    patient_ids: list[str] = field(default_factory=list)
    imported_samples: int = 0
    duplicates: int = 0
    days_written: int = 0
    days_unchanged: int = 0  # of days_written, already stored with the same value (re-import)
    days_by_metric: dict[str, int] = field(default_factory=dict)
    first_day: str | None = None
    last_day: str | None = None
    rejected: list[tuple[int, str]] = field(default_factory=list)
    rejected_total: int = 0
    unknown_metrics: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    blob_key: str | None = None
    already_imported: bool = False

    @classmethod
    def from_log(cls, fmt: str, filename: str, log: ImportLog) -> ImportReport:
        """A report carrying the log's rejections, unknown metric names (most frequent first) and notes."""
        return cls(
            format=fmt,
            filename=filename,
            rejected=sorted(log.rejected),
            rejected_total=log.rejected_total,
            unknown_metrics=[name for name, _ in log.unknown.most_common()],
            notes=list(log.notes),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (CLI ``--json``, audit detail)."""
        return asdict(self)

    def summary(self) -> str:
        """One line for the audit trail and the page's toast."""
        text = f"{self.imported_samples} samples -> {self.days_written} daily values ({self.format})"
        if self.rejected_total:
            text += f", {self.rejected_total} rejected"
        if self.unknown_metrics:
            text += f", unknown metrics: {', '.join(self.unknown_metrics[:5])}"
        return text
