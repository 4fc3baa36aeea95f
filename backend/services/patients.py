"""Register, find, read and edit patients. Reads and writes are audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from backend.domain import abha
from backend.domain import patients as rules
from backend.domain.errors import AlreadyExists, NotFound, ValidationFailed
from backend.domain.models import Page, Patient
from backend.domain.wearable_link import clean_account_email
from backend.ports import RecordStore
from backend.services.access import Permission, Principal, record, require
from backend.services.audit_shown import record_shown

_MAX_ID_TRIES = 5


@dataclass(frozen=True)
class PatientInput:
    name: str
    phone: str = ""
    dob: str | date | None = None
    sex: str | None = None
    external_id: str | None = None
    abha_number: str | None = None  # 14 digits, any spacing; stored as 91-1234-5678-9012
    abha_address: str | None = None  # name@abdm (or name@sbx)


@dataclass(frozen=True)
class Registration:
    patient: Patient
    same_phone: list[Patient]  # other patients already registered with this phone (a warning, not an error)


def _clean(data: PatientInput, region: str) -> dict[str, str | None]:
    return {
        "name": rules.clean_name(data.name),
        "phone": rules.normalise_phone(data.phone, region) if data.phone.strip() else None,
        "dob": rules.clean_dob(data.dob),
        "sex": rules.clean_sex(data.sex),
        "external_id": rules.clean_external_id(data.external_id),
        "abha_number": abha.clean_abha_number(data.abha_number),
        "abha_address": abha.clean_abha_address(data.abha_address),
    }


def register_patient(stores: RecordStore, principal: Principal, data: PatientInput, region: str = "IN") -> Registration:
    """Validate and store a new patient. Nothing is stored if any field is invalid."""
    require(principal, Permission.WRITE_PATIENTS)
    fields = _clean(data, region)
    same_phone = stores.patients.find_by_phone(fields["phone"]) if fields["phone"] else []
    for _ in range(_MAX_ID_TRIES):
        patient = Patient(patient_id=rules.new_patient_id(), created_by=principal.username, **fields)  # type: ignore[arg-type]
        try:
            stores.patients.add(patient)
            break
        except AlreadyExists:
            continue
    else:
        raise ValidationFailed("Could not allocate a patient ID; try again.")
    record(stores.audit, principal, "patient.create", patient.patient_id)
    return Registration(patient=patient, same_phone=same_phone)


def update_patient(
    stores: RecordStore,
    principal: Principal,
    patient_id: str,
    expected_version: int,
    data: PatientInput,
    region: str = "IN",
) -> Patient:
    """Edit demographics; raises ConcurrentUpdate if someone else saved first."""
    require(principal, Permission.WRITE_PATIENTS)
    current = stores.patients.get(patient_id)
    updated = current.model_copy(update=_clean(data, region))
    saved = stores.patients.update(updated, expected_version)
    record(stores.audit, principal, "patient.update", patient_id)
    return saved


def link_wearable(
    stores: RecordStore, principal: Principal, patient_id: str, expected_version: int, email: str | None
) -> Patient:
    """Link the patient's Ultrahuman account (its e-mail address) for the daily sync; empty unlinks.

    The audit line says linked or unlinked, not the address. Raises ValidationFailed (not an e-mail address)
    or ConcurrentUpdate (someone else saved first).
    """
    require(principal, Permission.WRITE_PATIENTS)
    cleaned = clean_account_email(email)
    current = stores.patients.get(patient_id)
    saved = stores.patients.update(current.model_copy(update={"ultrahuman_email": cleaned}), expected_version)
    record(stores.audit, principal, "patient.wearable_link", patient_id, "Ultrahuman linked" if cleaned else "unlinked")
    return saved


def get_patient(stores: RecordStore, principal: Principal, patient_id: str) -> Patient:
    require(principal, Permission.READ_PATIENTS)
    if not rules.is_patient_id(patient_id):
        raise NotFound("No such patient.")
    patient = stores.patients.get(patient_id)
    record(stores.audit, principal, "patient.read", patient_id)
    return patient


def search_patients(
    stores: RecordStore, principal: Principal, query: str, region: str = "IN", limit: int = 20
) -> list[Patient]:
    """By patient ID, phone number (any common format) or name words (each a word prefix)."""
    require(principal, Permission.READ_PATIENTS)
    query = query.strip()[:200]
    if not query:
        return []
    if rules.is_patient_id(query):
        try:
            found = [stores.patients.get(query)]
        except NotFound:
            found = []
    elif sum(c.isdigit() for c in query) >= 6 and not any(c.isalpha() for c in query):
        try:
            found = stores.patients.find_by_phone(rules.normalise_phone(query, region))
        except ValidationFailed:
            found = []
    else:
        found = stores.patients.search_name(query, limit)
    found = found[:limit]
    record_shown(stores.audit, principal, "patient.search", [p.patient_id for p in found], f"query_chars={len(query)}")
    return found


def list_patients(
    stores: RecordStore, principal: Principal, cursor: str | None = None, limit: int = 25
) -> Page[Patient]:
    require(principal, Permission.READ_PATIENTS)
    page = stores.patients.list_page(cursor, limit)
    record_shown(stores.audit, principal, "patient.list", [p.patient_id for p in page.items])
    return page
