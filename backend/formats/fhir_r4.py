"""FHIR R4 Bundle of one patient, built and validated with ``fhir.resources`` (R4B models carry R4's shapes).

Resources: Patient; each signed note as a DocumentReference (text/plain attachment, amendments linked with
``relatesTo: replaces``); one Condition per diagnosis of each current (not amended) note, coded in WHO ICD-10 as
the ABDM export codes it (``userSelected`` true only for a code a clinician confirmed or picked); one
MedicationStatement per reconciled drug; one Observation per daily metric value with its LOINC code and UCUM unit
(``data/fhir_codes.toml``). Validation checks structure, not code values.
"""

from __future__ import annotations

import base64
import tomllib
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from backend.domain.models import MetricDay, Note, Patient
from backend.domain.note_content import SOAP_SECTIONS, Diagnosis
from backend.domain.reconcile import ActiveMed
from backend.domain.speech_words import speech_sentence
from backend.formats.fhir_abdm import abha_identifiers
from backend.formats.fhir_bundle import instant, validated_bundle
from backend.formats.fhir_condition import condition_resource

CODES_FILE = Path(__file__).resolve().parent.parent / "data" / "fhir_codes.toml"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ID_SYSTEM = "urn:clinical-copilot:patient-id"
NOTE_SYSTEM = "urn:clinical-copilot:note"
PROGRESS_NOTE = {"system": LOINC, "code": "11506-3", "display": "Progress note"}
_NS = uuid.UUID("5b0c8a52-27b1-4c3e-9a39-7f3c0e1b2d64")  # fixed: the same record always gets the same id
_SECTIONS = SOAP_SECTIONS


@lru_cache(maxsize=1)
def metric_codes() -> dict[str, dict[str, str]]:
    """Metric name -> {loinc, display, ucum, unit, category}."""
    return dict(tomllib.loads(CODES_FILE.read_text(encoding="utf-8"))["metrics"])


def _uid(*parts: object) -> str:
    return _uuid5("/".join(str(p) for p in parts))


@lru_cache(maxsize=1 << 16)
def _uuid5(name: str) -> str:
    # The same names come back on every export of a patient (thousands of metric days): hashing them once is enough.
    return str(uuid.uuid5(_NS, name))


def note_text(note: Note) -> str:
    """The note as plain text: sections in SOAP order, then medications."""
    keys = [k for k in _SECTIONS if note.sections.get(k)] + [
        k for k in note.sections if k not in _SECTIONS and note.sections[k]
    ]
    parts = [f"{k.capitalize()}:\n{note.sections[k].strip()}" for k in keys]
    if note.medications:
        lines = [" ".join(x for x in (m.name, m.strength, m.frequency, m.duration) if x) for m in note.medications]
        parts.append("Medications:\n" + "\n".join(f"- {line}" for line in lines))
    return "\n\n".join(parts)


def _patient(p: Patient) -> dict[str, Any]:
    words = p.name.split()
    name: dict[str, Any] = {"text": p.name, "given": words[:-1] or words}
    if len(words) > 1:
        name["family"] = words[-1]
    res: dict[str, Any] = {
        "resourceType": "Patient",
        "id": _uid(p.patient_id, "patient"),
        "identifier": [{"system": ID_SYSTEM, "value": p.patient_id}, *abha_identifiers(p)],
        "name": [name],
        "gender": p.sex if p.sex in ("female", "male", "other") else "unknown",
    }
    if p.phone:
        res["telecom"] = [{"system": "phone", "value": p.phone}]
    if p.dob:
        res["birthDate"] = p.dob
    return res


def _document(note: Note, subject: dict[str, str], exported: set[int], superseded: set[int]) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": _uid(note.patient_id, "note", note.timestamp),
        "identifier": [{"system": NOTE_SYSTEM, "value": f"{note.patient_id}/{note.timestamp}"}],
        "status": "superseded" if note.timestamp in superseded else "current",
        "docStatus": "amended" if note.amends is not None else "final",
        "type": {"coding": [PROGRESS_NOTE], "text": "Clinical note"},
        "subject": subject,
        "date": instant(note.signed_at or note.timestamp),
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(note_text(note).encode()).decode(),
                    "title": f"Clinical note {instant(note.timestamp)[:10]}",
                    "creation": instant(note.timestamp),
                }
            }
        ],
    }
    if note.speech is not None:  # what transcribed the recording the note was drafted from, as the note kept it
        res["description"] = speech_sentence(note.speech)
    if note.author:
        res["author"] = [{"display": note.author}]
    if note.signer:
        res["authenticator"] = {"display": note.signer}
    if note.amends is not None and note.amends in exported:
        res["relatesTo"] = [
            {"code": "replaces", "target": {"reference": "urn:uuid:" + _uid(note.patient_id, "note", note.amends)}}
        ]
    return res


def _condition(note: Note, d: Diagnosis, subject: dict[str, str]) -> dict[str, Any]:
    res = condition_resource(note, d, subject, _uid(note.patient_id, "condition", note.timestamp, d.text.casefold()))
    res["evidence"] = [{"detail": [{"reference": "urn:uuid:" + _uid(note.patient_id, "note", note.timestamp)}]}]
    if note.signer:
        res["recorder"] = {"display": note.signer}
    return res


# The reconciled list's status as R4 MedicationStatement.status (value set medication-statement-status).
_STATUS = {"active": "active", "stopped": "stopped", "declined": "not-taken"}


def _medication(patient_id: str, med: ActiveMed, subject: dict[str, str], exported: set[int]) -> dict[str, Any]:
    period = {"start": instant(med.first_seen)}
    if med.status == "stopped":
        period["end"] = instant(med.last_seen)
    res: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": _uid(patient_id, "med", med.name.casefold()),
        "status": _STATUS[med.status],
        "medicationCodeableConcept": {"text": med.name},
        "subject": subject,
        "dateAsserted": instant(med.last_seen),
    }
    if med.status == "declined":  # never taken: no period of use, the reason instead
        if med.status_reason:
            res["statusReason"] = [{"text": med.status_reason}]
    else:
        res["effectivePeriod"] = period
    dose = " ".join(x for x in (med.strength, med.frequency) if x)
    if dose:
        res["dosage"] = [{"text": dose}]
    notes = [] if med.verified else [{"text": "Name not verified against the drug dictionary; shown as written."}]
    if med.conflict:
        notes.append({"text": med.conflict_detail})
    notes += [{"text": change} for change in med.changes]
    if notes:
        res["note"] = notes
    derived = [
        {"reference": "urn:uuid:" + _uid(patient_id, "note", s["timestamp"])}
        for s in med.sources
        if s.get("kind") == "note" and s.get("timestamp") in exported
    ]
    if derived:
        res["derivedFrom"] = derived
    return res


def _observation(day: MetricDay, code: dict[str, str], subject: dict[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": _uid(day.patient_id, "metric", day.metric, day.day),
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": code["category"]}]}],
        "code": {
            "coding": [{"system": LOINC, "code": code["loinc"], "display": code["display"]}],
            "text": code["display"],
        },
        "subject": subject,
        "effectiveDateTime": day.day,
        "valueQuantity": {"value": day.value, "unit": code["unit"], "system": UCUM, "code": code["ucum"]},
    }


def bundle_data(
    patient: Patient, signed_notes: list[Note], meds: list[ActiveMed], days: list[MetricDay], generated_ms: int
) -> dict[str, Any]:
    """The FHIR R4 ``collection`` Bundle as plain data, not yet validated (see :func:`build_bundle`).

    Only the Bundle's ``id`` and ``timestamp`` depend on ``generated_ms``: the entries are a function of the
    records alone, so they can key a cache.
    """
    pid = patient.patient_id
    patient_res = _patient(patient)
    subject = {"reference": f"urn:uuid:{patient_res['id']}", "display": patient.name}
    exported = {n.timestamp for n in signed_notes}
    superseded = {n.amends for n in signed_notes if n.amends is not None}
    resources = [patient_res]
    resources += [_document(n, subject, exported, superseded) for n in sorted(signed_notes, key=lambda n: n.timestamp)]
    # An amended note's diagnoses live on in its amendment: exporting both would list each condition twice.
    current = [n for n in signed_notes if n.timestamp not in superseded]
    conditions = {_uid(pid, "condition", n.timestamp, d.text.casefold()): (n, d) for n in current for d in n.diagnoses}
    resources += [_condition(n, d, subject) for n, d in conditions.values()]
    resources += [_medication(pid, m, subject, exported) for m in meds]
    codes = metric_codes()
    resources += [_observation(d, codes[d.metric], subject) for d in days if d.metric in codes]
    return {
        "resourceType": "Bundle",
        "id": _uid(pid, "bundle", generated_ms),
        "type": "collection",
        "timestamp": instant(generated_ms),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


def build_bundle(
    patient: Patient, signed_notes: list[Note], meds: list[ActiveMed], days: list[MetricDay], generated_ms: int
) -> dict[str, Any]:
    """A validated FHIR R4 ``collection`` Bundle as a JSON-ready dict.

    Args:
        patient: the patient.
        signed_notes: signed notes only (drafts are not part of the record).
        meds: the reconciled medication list.
        days: daily metric values; metrics without a LOINC code in ``fhir_codes.toml`` are skipped.
        generated_ms: the bundle's timestamp (epoch ms).

    Raises:
        ValidationFailed: the bundle did not validate (a bug or a malformed stored value).
    """
    data = bundle_data(patient, signed_notes, meds, days, generated_ms)
    return validated_bundle(data, f"The FHIR export of {patient.patient_id}")


def parse_bundle(text: str | bytes) -> Bundle:
    """Parse and validate a Bundle from JSON (R4 shapes)."""
    return Bundle.model_validate_json(text)
