"""Demo data shows every part of the product: a few drafts wait for the doctor's signature, and seeding twice adds nothing."""

from __future__ import annotations

from backend.domain.models import NoteStatus, Role
from backend.services.access import Principal
from backend.services.demo import seed_demo
from backend.services.timeline import dashboard_summary
from tests.fakes.records import fake_record_store

DOCTOR = Principal("doctor", Role.DOCTOR)


def test_demo_has_drafts_waiting_and_reseeding_adds_nothing() -> None:
    stores = fake_record_store()
    assert seed_demo(stores) == 20
    drafts = dashboard_summary(stores, DOCTOR, 0).drafts
    assert len(drafts) == 4 and all(d.headline for d in drafts)
    assert all(n.status is NoteStatus.DRAFT and n.signer is None for n in stores.notes.drafts())
    assert seed_demo(stores) == 0
    assert len(stores.notes.drafts()) == 4
