"""Doctor's view speed: timeline page <= 1 s, offline Ask <= 300 ms (500 notes, 200 documents, 2 years of metrics).

Everything runs against a temporary SQLite store. The timeline includes anomaly episodes computed from the
stored metric days with the packaged detector (so its cost is counted); Ask is timed cold (index built) and
warm (index cached).
"""

from __future__ import annotations

import argparse
import random
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from backend.adapters.records.sqlite import open_sqlite_store
from backend.bench._timing import measure_ms, summary
from backend.domain.anomaly import detect, synth_patient_days
from backend.domain.models import HistoryEntry, Medication, MetricDay, Note, NoteStatus, Patient, Role
from backend.domain.note_content import CitedText
from backend.ports import RecordStore
from backend.services.access import Principal
from backend.services.ask import AskIndexCache, ask
from backend.services.export import export_bundle
from backend.services.timeline import build_timeline

TIMELINE_TARGET_MS = 1000.0
ASK_TARGET_MS = 300.0
PID = "PAT_be0c0001"
DAY_MS = 86_400_000
T0 = 1_704_067_200_000  # 2024-01-01
METRICS = ("resting_hr", "hrv", "temperature_dev", "spo2", "sleep_hours", "steps")
_COMPLAINTS = [
    "fever and body ache",
    "cough for a week",
    "knee pain",
    "headache",
    "burning urination",
    "dizziness",
    "rash on arms",
]
_DRUGS = [
    ("metformin", "500 mg"),
    ("telmisartan", "40 mg"),
    ("atorvastatin", "10 mg"),
    ("amlodipine", "5 mg"),
    ("paracetamol", "650 mg"),
    ("pantoprazole", "40 mg"),
    ("cetirizine", "10 mg"),
    ("levothyroxine", "50 mcg"),
]
QUESTIONS = [
    "Is the patient on metformin?",
    "What dose of telmisartan?",
    "any knee pain?",
    "When was the fever?",
    "resting heart rate elevated",
    "Was pantoprazole stopped?",
    "rash",
    "HbA1c",
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--documents", type=int, default=200)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--repeats", type=int, default=15)


def _sections(rng: random.Random, complaint: str, drug: str, strength: str) -> dict[str, str]:
    temp, pulse = f"{rng.uniform(36.4, 38.9):.1f}", rng.randrange(60, 110)
    bp, spo2 = f"{rng.randrange(105, 160)}/{rng.randrange(65, 100)}", rng.randrange(93, 100)
    return {
        "subjective": f"Patient reports {complaint} for {rng.randrange(1, 10)} days. Sleep is fair. Appetite normal.",
        "objective": f"Temperature {temp} C. Pulse {pulse} per minute. BP {bp} mmHg. SpO2 {spo2} %.",
        "assessment": f"{complaint.capitalize()}, likely viral. HbA1c {rng.uniform(5.5, 9.5):.1f} last month.",
        "plan": f"{drug.capitalize()} {strength} once daily. Review in {rng.randrange(3, 15)} days.",
    }


def _seed(stores: RecordStore, n_notes: int, n_docs: int, days: int) -> None:
    rng = random.Random(3)
    stores.patients.add(Patient(patient_id=PID, name="Bench Patient"))
    span = days * DAY_MS
    for i in range(n_notes):
        ts = T0 + rng.randrange(span)
        complaint = rng.choice(_COMPLAINTS)
        drug, strength = rng.choice(_DRUGS)
        stores.notes.add(
            Note(
                patient_id=PID,
                timestamp=ts,
                status=NoteStatus.SIGNED if i % 10 else NoteStatus.DRAFT,
                author="nurse",
                sections=_sections(rng, complaint, drug, strength),
                chief_complaint=CitedText(text=complaint),
                medications=[Medication(name=drug, strength=strength, frequency="once daily", verified=True)],
                updated_at=ts,
            )
        )
    for _ in range(n_docs):
        ts = T0 + rng.randrange(span)
        picks = rng.sample(_DRUGS, 3)
        lines = [f"Tab. {d.capitalize()} {s} OD" for d, s in picks]
        text = "\n".join(
            ["City Clinic, Dr. Rao", "Rx", *lines, "Advice: diet and walk 30 minutes daily", "Review after 1 month"]
        )
        meds = [
            Medication(name=d, verbatim=line, strength=s, frequency="once daily", verified=True)
            for (d, s), line in zip(picks, lines, strict=True)
        ]
        stores.history.add(
            HistoryEntry(
                patient_id=PID,
                timestamp=ts,
                source="digitize:image",
                document_key=f"img/{ts}",
                document_mime="image/png",
                medications=meds,
                extracted_text=text,
            )
        )
    frame = synth_patient_days(
        days, 5, [(days // 3, days // 3 + 5), (2 * days // 3, 2 * days // 3 + 4)], metrics=METRICS, start="2024-01-01"
    )
    stores.metrics.upsert_days(
        MetricDay(patient_id=PID, metric=r.metric, day=pd.Timestamp(r.day).date().isoformat(), value=float(r.value))
        for r in frame.itertuples()
    )


def _episodes_for(stores: RecordStore) -> Any:
    def episodes_for(patient_id: str) -> list[dict[str, Any]]:
        days = stores.metrics.days(patient_id)
        frame = pd.DataFrame(
            {"day": [d.day for d in days], "metric": [d.metric for d in days], "value": [d.value for d in days]}
        )
        result = detect(frame)
        return [
            {
                "start_day": e.start_day.isoformat(),
                "end_day": e.end_day.isoformat(),
                "metric": e.metric,
                "explanation": e.explanation,
            }
            for e in result.episodes
        ]

    return episodes_for


def _metric_passages(stores: RecordStore) -> Any:
    """Anomaly-day summaries for Ask; detection runs once (the app caches it per metrics import, not per question)."""
    memo: dict[str, list[dict[str, Any]]] = {}

    def metric_passages(patient_id: str) -> list[dict[str, Any]]:
        if patient_id not in memo:
            days = stores.metrics.days(patient_id)
            frame = pd.DataFrame(
                {"day": [d.day for d in days], "metric": [d.metric for d in days], "value": [d.value for d in days]}
            )
            per_day = detect(frame).per_day
            flagged = per_day[per_day["is_anomaly"]]
            memo[patient_id] = [
                {"day": pd.Timestamp(r.day).date().isoformat(), "metric": r.metric, "text": r.explanation}
                for r in flagged.itertuples()
            ]
        return memo[patient_id]

    return metric_passages


def run(args: argparse.Namespace) -> dict[str, Any]:
    doctor = Principal("bench", Role.DOCTOR)
    with tempfile.TemporaryDirectory() as tmp:
        stores = open_sqlite_store(Path(tmp) / "bench.sqlite3")
        _seed(stores, args.notes, args.documents, args.days)
        episodes_for = _episodes_for(stores)
        n_episodes = len(episodes_for(PID))

        def first_page() -> Any:
            return build_timeline(stores, doctor, PID, limit=50, episodes_for=episodes_for)

        def notes_only() -> Any:
            return build_timeline(stores, doctor, PID, kinds={"note"}, limit=50)

        total = first_page().total
        timeline = summary(measure_ms(first_page, args.repeats))
        timeline_notes = summary(measure_ms(notes_only, args.repeats))
        detection = summary(measure_ms(lambda: episodes_for(PID), args.repeats))

        mp = _metric_passages(stores)
        questions = iter(QUESTIONS * (args.repeats * 3))
        cold = summary(
            measure_ms(
                lambda: ask(stores, doctor, PID, next(questions), cache=AskIndexCache(), metric_passages=mp),
                max(3, args.repeats // 3),
            )
        )
        cache = AskIndexCache()
        ask(stores, doctor, PID, QUESTIONS[0], cache=cache, metric_passages=mp)
        warm_samples = measure_ms(
            lambda: ask(stores, doctor, PID, next(questions), cache=cache, metric_passages=mp), args.repeats * 2
        )
        fhir_ms = measure_ms(lambda: export_bundle(stores, doctor, PID), 1)[0]
        answered = sum(ask(stores, doctor, PID, q, cache=cache, metric_passages=mp).mode != "none" for q in QUESTIONS)
        warm = summary(warm_samples)
        passages = len(cache.get(PID).passages)  # type: ignore[union-attr]
    return {
        "notes": args.notes,
        "documents": args.documents,
        "metric_days": args.days * len(METRICS),
        "timeline_items": total,
        "anomaly_episodes": n_episodes,
        "timeline_first_page": timeline,
        "timeline_notes_only": timeline_notes,
        "anomaly_detection_part": detection,
        "ask_passages": passages,
        "ask_questions_answered": f"{answered}/{len(QUESTIONS)}",
        "ask_cold": cold,
        "ask_warm": warm,
        "index_builds_warm_run": cache.builds,
        "fhir_export_ms": round(fhir_ms, 1),
        "timeline_target_ms": TIMELINE_TARGET_MS,
        "ask_target_ms": ASK_TARGET_MS,
        "pass": timeline["p95_ms"] <= TIMELINE_TARGET_MS and warm["p95_ms"] <= ASK_TARGET_MS,
    }
