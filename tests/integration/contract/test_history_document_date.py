"""HistoryStore contract, ``document_date``: rows written before the field existed still load (no value),
and a new row keeps the document's date beside its upload timestamp, in SQLite and DynamoDB alike."""

from __future__ import annotations

import json
from typing import Any

from backend.adapters.records.dynamodb.base import to_item
from backend.domain.models import HistoryEntry, Medication
from backend.ports import RecordStore

PID = "PAT_0ldd0c00"
OLD_TS = 1_700_000_000_000


def _old_row() -> dict[str, Any]:
    """The JSON form of a history entry as the version before ``document_date`` wrote it."""
    entry = HistoryEntry(
        patient_id=PID,
        timestamp=OLD_TS,
        source="digitize:image",
        medications=[Medication(name="metformin", verbatim="Metformin", strength="500 mg")],
        document_key="documents/ab/abcdef",
        document_mime="image/png",
        extracted_text="Metformin 500 mg BD",
        author="asha",
    )
    data = json.loads(entry.model_dump_json())
    del data["document_date"]
    return data


def _write_old_row(store: RecordStore) -> None:
    history: Any = store.history
    data = _old_row()
    if hasattr(history, "_db"):  # SQLite: the body column holds the JSON
        with history._db.tx() as conn:
            conn.execute(
                "INSERT INTO history (patient_id, ts, version, body) VALUES (?, ?, ?, ?)",
                (PID, OLD_TS, 1, json.dumps(data)),
            )
        return
    table = history._t  # DynamoDB: one attribute per field, as the old version put it
    item = {k: v for k, v in to_item(HistoryEntry.model_validate(data)).items() if k != "document_date"}
    table.client.put_item(TableName=table.name, Item=item)


def test_old_row_without_document_date_loads(stored_record_store: RecordStore) -> None:
    record_store = stored_record_store
    _write_old_row(record_store)
    got = record_store.history.get(PID, OLD_TS)
    assert got.document_date is None
    assert got.medications[0].strength == "500 mg"
    assert [e.timestamp for e in record_store.history.list_for_patient(PID).items] == [OLD_TS]


def test_new_row_keeps_document_date_and_upload_time(record_store: RecordStore) -> None:
    added = record_store.history.add(
        HistoryEntry(patient_id=PID, timestamp=OLD_TS + 5, document_key="documents/cd/cdef", document_date="2024-03-12")
    )
    got = record_store.history.get(PID, added.timestamp)
    assert (got.document_date, got.timestamp) == ("2024-03-12", OLD_TS + 5)
