"""PatientStore contract: every backend behaves the same."""

from __future__ import annotations

import pytest

from backend.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound
from backend.domain.models import Patient
from backend.ports import RecordStore


def _patient(n: int, name: str, phone: str | None = None) -> Patient:
    return Patient(patient_id=f"PAT_{n:08x}", name=name, phone=phone, created_at=1_700_000_000_000 + n)


def test_add_get_and_refuse_duplicate_id(record_store: RecordStore) -> None:
    p = _patient(1, "Anita Sharma", "+919876543210")
    record_store.patients.add(p)
    assert record_store.patients.get(p.patient_id) == p
    with pytest.raises(AlreadyExists):
        record_store.patients.add(_patient(1, "Someone Else"))
    assert record_store.patients.get(p.patient_id).name == "Anita Sharma"
    with pytest.raises(NotFound):
        record_store.patients.get("PAT_ffffffff")


def test_versioned_update_and_stale_version_overwrites_nothing(record_store: RecordStore) -> None:
    p = _patient(2, "Ravi Kumar")
    record_store.patients.add(p)
    v2 = record_store.patients.update(p.model_copy(update={"name": "Ravi Kumar Iyer"}), expected_version=1)
    assert v2.version == 2
    with pytest.raises(ConcurrentUpdate, match="changed by someone else"):
        record_store.patients.update(p.model_copy(update={"name": "Stale Edit"}), expected_version=1)
    stored = record_store.patients.get(p.patient_id)
    assert (stored.name, stored.version) == ("Ravi Kumar Iyer", 2)
    with pytest.raises(NotFound):
        record_store.patients.update(_patient(99, "Ghost"), expected_version=1)


def test_find_by_phone_returns_every_patient_sharing_it(record_store: RecordStore) -> None:
    for n, name in enumerate(["Sita Devi", "Ram Devi", "Other Person"], start=10):
        record_store.patients.add(_patient(n, name, "+919000000001" if n < 12 else "+919000000002"))
    assert [p.name for p in record_store.patients.find_by_phone("+919000000001")] == ["Sita Devi", "Ram Devi"]
    assert record_store.patients.find_by_phone("+911111111111") == []


def test_name_search_is_word_prefix_case_and_accent_insensitive(record_store: RecordStore) -> None:
    record_store.patients.add(_patient(20, "Anita Kumari Sharma"))
    record_store.patients.add(_patient(21, "Aniket Rao"))
    record_store.patients.add(_patient(22, "José Kumar"))
    ids = lambda found: [p.patient_id for p in found]  # noqa: E731
    assert ids(record_store.patients.search_name("ani")) == ["PAT_00000015", "PAT_00000014"]  # newest first
    assert ids(record_store.patients.search_name("SHAR ani")) == ["PAT_00000014"]
    assert ids(record_store.patients.search_name("jose")) == ["PAT_00000016"]
    assert ids(record_store.patients.search_name("kum")) == ["PAT_00000016", "PAT_00000014"]
    assert record_store.patients.search_name("nita") == []  # inside a word is not a prefix
    assert record_store.patients.search_name("   ") == []
    assert len(record_store.patients.search_name("a", limit=1)) == 1


def test_rename_moves_the_name_index(record_store: RecordStore) -> None:
    p = _patient(30, "Meena Iyer")
    record_store.patients.add(p)
    record_store.patients.update(p.model_copy(update={"name": "Meena Pillai"}), expected_version=1)
    assert record_store.patients.search_name("iyer") == []
    assert [x.name for x in record_store.patients.search_name("pill")] == ["Meena Pillai"]


def test_list_pages_newest_first_and_count(record_store: RecordStore) -> None:
    for n in range(7):
        record_store.patients.add(_patient(100 + n, f"Patient {n}"))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = record_store.patients.list_page(cursor=cursor, limit=3)
        seen += [p.name for p in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"Patient {n}" for n in reversed(range(7))]
    assert pages == 3
    assert record_store.patients.count() == 7
    exact = record_store.patients.list_page(limit=7)
    assert len(exact.items) == 7 and exact.next_cursor is None
