"""Idempotent demo data: accounts, ~20 synthetic patients, notes, medication lists and 90 days of wearable metrics."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from backend.domain.errors import NotFound, ValidationFailed
from backend.domain.models import (
    AuditEvent,
    HistoryEntry,
    Medication,
    Note,
    NoteStatus,
    Patient,
    Role,
    Segment,
    now_ms,
)
from backend.domain.note_content import SOAP_SECTIONS, CitedText
from backend.ports import RecordStore
from backend.services.auth import ensure_user, password_matches
from backend.services.paging import every

DEMO_FILE = Path(__file__).resolve().parent.parent / "data" / "demo_patients.json"
DAY_MS = 86_400_000
# The audit line that marks a database as a demo; parentheses cannot occur in a username, so no user forges it.
DEMO_ACTOR = "(demo seed)"
DEMO_ACTION = "demo.seed"
NOT_A_DEMO = (
    "This database holds accounts or patients that are not demo data, so no demo accounts or demo patients "
    "were added. Start it without demo data (COPILOT_DEMO=0 make run), or point COPILOT_DATA_DIR at an empty "
    "folder for a demo."
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    display_name: str


def demo_accounts() -> list[DemoAccount]:
    """The demo sign-ins (shown on the login page in demo mode only)."""
    data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    return [DemoAccount(**u) for u in data["users"]]


def demo_patient_id(i: int) -> str:
    return f"PAT_de{i:06x}"


def seed_demo(stores: RecordStore, metrics_for: Callable[[str, int], int] | None = None, days: int = 90) -> int:
    """Create what is missing of the demo set; returns how many patients were created.

    Args:
        stores: the record store.
        metrics_for: called as ``metrics_for(patient_id, seed)`` to write wearable days for a new patient.
        days: how far back the demo history reaches.

    Raises:
        ValidationFailed: the database holds real (non-demo) accounts or patients; nothing was written.
    """
    if not is_demo_database(stores):
        if not _only_demo_data(stores):
            raise ValidationFailed(NOT_A_DEMO)
        stores.audit.append(
            AuditEvent(
                actor=DEMO_ACTOR,
                role="none",
                action=DEMO_ACTION,
                detail="demo database: synthetic patients; accounts with published passwords",
            )
        )
    data = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    # ensure_user leaves an existing account alone: a changed password is never reset to the published one.
    for account in demo_accounts():
        ensure_user(stores, account.username, account.password, Role(account.role), account.display_name)
    rng = random.Random(7)
    created = 0
    start = now_ms() - days * DAY_MS
    for i, name in enumerate(data["names"], start=1):
        pid = demo_patient_id(i)
        try:
            stores.patients.get(pid)
            continue
        except NotFound:
            pass
        phone = f"+9198{rng.randrange(10**7, 10**8):08d}"
        dob = date(1950 + rng.randrange(50), rng.randrange(1, 13), rng.randrange(1, 28)).isoformat()
        sex = "female" if name.split()[0] in _FEMALE else "male"
        stores.patients.add(
            Patient(patient_id=pid, name=name, phone=phone, dob=dob, sex=sex, created_by="demo", created_at=start + i)
        )
        visit = data["visits"][i % len(data["visits"])]
        _add_visit_note(stores, pid, visit, start + rng.randrange(5, days - 5) * DAY_MS)
        if i % 5 == 0:  # a few follow-up visits drafted by the nurse and waiting for the doctor's signature
            follow_up = data["visits"][(i + 1) % len(data["visits"])]
            _add_visit_note(stores, pid, follow_up, now_ms() - (i // 5) * DAY_MS, signed=False)
        if i % 2 == 0:
            meds = data["medication_lists"][i % len(data["medication_lists"])]
            stores.history.add(
                HistoryEntry(
                    patient_id=pid,
                    timestamp=start + rng.randrange(1, days // 2) * DAY_MS,
                    source="demo",
                    medications=[Medication(**m) for m in meds],
                    extracted_text="\n".join(m["verbatim"] for m in meds),
                    author="demo",
                )
            )
        if metrics_for is not None:
            metrics_for(pid, i)
        created += 1
    return created


def is_demo_database(stores: RecordStore) -> bool:
    """True if demo data was seeded into this database (its sign-in page then says it is a demo)."""
    events = stores.audit.query(actor=DEMO_ACTOR, limit=1).items
    return any(e.action == DEMO_ACTION for e in events)


def _only_demo_data(stores: RecordStore) -> bool:
    """True for an empty database or one holding nothing but demo data (seeded before databases were marked)."""
    published = {a.username: a.password for a in demo_accounts()}
    for user in stores.users.list_all():
        # A real account may be called "admin": only the published password makes it a demo account.
        if user.username not in published or not password_matches(user, published[user.username]):
            return False
    demo_ids = {demo_patient_id(i) for i in range(1, len(_names()) + 1)}
    patients = every(lambda cursor: stores.patients.list_page(cursor, limit=100))
    return all(p.patient_id in demo_ids and p.created_by == "demo" for p in patients)


def _names() -> list[str]:
    return list(json.loads(DEMO_FILE.read_text(encoding="utf-8"))["names"])


def _add_visit_note(
    stores: RecordStore, patient_id: str, visit: dict[str, object], ts: int, signed: bool = True
) -> None:
    sentences = [str(visit[k]) for k in SOAP_SECTIONS]
    segments = [Segment(id=n, start=n * 6.0, end=n * 6.0 + 5.5, text=s) for n, s in enumerate(sentences)]
    sections = dict(zip(SOAP_SECTIONS, sentences, strict=True))
    meds = [Medication(**m) for m in visit["medications"]]  # type: ignore[attr-defined]
    stores.notes.add(
        Note(
            patient_id=patient_id,
            timestamp=ts,
            status=NoteStatus.SIGNED if signed else NoteStatus.DRAFT,
            author="nurse",
            signer="doctor" if signed else None,
            signed_at=ts + 3_600_000 if signed else None,
            transcript=segments,
            sections=sections,
            chief_complaint=CitedText(text=str(visit["complaint"]), segment_ids=[0]),
            medications=meds,
            updated_at=ts,
        )
    )


_FEMALE = {"Sita", "Priya", "Lakshmi", "Fatima", "Anita", "Meena", "Kavya", "Sunita", "Neha", "Deepa"}
