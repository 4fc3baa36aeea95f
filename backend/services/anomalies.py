"""Anomaly episodes per patient for the timeline, Ask and exports; cached until the patient's data changes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from backend.domain.anomaly import detect
from backend.ports import RecordStore

_MAX_PATIENTS = 64


class EpisodeCache:
    """``episodes(patient_id)`` recomputed only when the patient's stored days change (count or last day or sum)."""

    def __init__(self, stores: RecordStore, rewrite: Callable[[str], str] | None = None) -> None:
        self._stores = stores
        self._rewrite = rewrite  # an LLM that rewords explanations (numbers checked by the adapter)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[tuple[int, str, float], list[Mapping[str, Any]]]] = OrderedDict()

    def episodes(self, patient_id: str) -> list[Mapping[str, Any]]:
        days = self._stores.metrics.days(patient_id)
        if not days:
            return []
        stamp = (len(days), max(d.day for d in days), round(sum(d.value for d in days), 3))
        with self._lock:
            hit = self._cache.get(patient_id)
            if hit and hit[0] == stamp:
                self._cache.move_to_end(patient_id)
                return hit[1]
        frame = pd.DataFrame([{"day": d.day, "metric": d.metric, "value": d.value} for d in days])
        result = detect(frame)
        episodes: list[Mapping[str, Any]] = [
            {
                "start_day": e.start_day.isoformat(),
                "end_day": e.end_day.isoformat(),
                "metric": e.metric,
                "kind": e.kind,
                "explanation": self._rewrite(e.explanation) if self._rewrite else e.explanation,
            }
            for e in result.episodes
        ]
        with self._lock:
            self._cache[patient_id] = (stamp, episodes)
            while len(self._cache) > _MAX_PATIENTS:
                self._cache.popitem(last=False)
        return episodes

    def metric_passages(self, patient_id: str) -> list[Mapping[str, Any]]:
        """Ask passages: one per anomaly episode, cited by its first day."""
        passages: list[Mapping[str, Any]] = [
            {
                "day": e["start_day"],
                "metric": e["metric"],
                "text": f"{e['start_day']} to {e['end_day']}: {e['explanation']}",
            }
            for e in self.episodes(patient_id)
        ]
        return passages
