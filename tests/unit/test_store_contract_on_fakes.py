"""Services over the record fakes where the stores' refusals matter (the fakes pass the whole store contract:
``tests/integration/contract``, the ``fake`` parameter)."""

from __future__ import annotations

import pytest

from backend.domain.audit_chain import verify_chain
from backend.domain.errors import PermissionDenied, SignedNoteImmutable
from backend.domain.models import Note, NoteStatus, Role
from backend.services.access import Principal
from backend.services.audit_verify import verify_audit_chain
from backend.services.notes import amend_note, sign_note
from tests.fakes.records import fake_record_store
from tests.integration.contract import test_audit_log as audit_contract

DOCTOR = Principal("dr", Role.DOCTOR)


def test_signing_then_amending_goes_through_the_refusing_store() -> None:
    stores = fake_record_store()
    draft = stores.notes.add(Note(patient_id="PAT_00000001", timestamp=1000, author="dr", sections={"plan": "a"}))
    signed = sign_note(stores, DOCTOR, draft)
    with pytest.raises(SignedNoteImmutable):
        stores.notes.update(signed.model_copy(update={"sections": {"plan": "b"}}), signed.version)
    amendment = amend_note(stores, DOCTOR, signed)
    assert (amendment.status, amendment.amends, amendment.version) == (NoteStatus.DRAFT, 1000, 1)
    assert stores.notes.get("PAT_00000001", 1000) == signed


def test_verify_service_reports_a_changed_row_and_audits_the_check() -> None:
    stores = fake_record_store()
    for i in range(3):
        stores.audit.append(audit_contract._event(i, "asha", None))
    assert verify_audit_chain(stores, DOCTOR).intact
    links = stores.audit.links  # type: ignore[attr-defined]
    links[1] = type(links[1])(links[1].seq, {**links[1].fields, "actor": "ravi"}, links[1].prev_hash, links[1].hash)
    report = verify_chain(stores.audit.chain())
    assert (report.broken_at, report.rows) == (2, 2)
    assert stores.audit.query(limit=1).items[0].action == "audit.verify"
    with pytest.raises(PermissionDenied):
        verify_audit_chain(stores, Principal("nurse", Role.NURSE))
