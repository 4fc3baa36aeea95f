"""Medication recognition and parsing shared by the Scribe drafter and the Digitize flow.

Public API:
    parse_line(text) -> Medication | None
    parse_lines(text) -> list[Medication]
    extract_mentions(text) -> list[MedMention]
    lookup_name(token) -> DrugMatch | None
    warm_up() -> None
"""

from __future__ import annotations

from backend.domain.medications.dictionary import warm_up
from backend.domain.medications.names import DrugMatch, lookup_name
from backend.domain.medications.parser import MedMention, extract_mentions, parse_line, parse_lines

__all__ = ["DrugMatch", "MedMention", "extract_mentions", "lookup_name", "parse_line", "parse_lines", "warm_up"]
