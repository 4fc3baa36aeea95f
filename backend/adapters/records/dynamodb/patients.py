"""Patients in DynamoDB: phone lookup through a GSI, word-prefix name search through a token table.

Name search (table ``PatientNameIndex``): every word of a patient's name (folded:
lower-case, accents removed) is one item ``token_bucket = <first character>``,
``token_key = "<word>#<patient_id>"`` carrying ``created_at``. A query word ``w``
becomes ``Query token_bucket = w[0] AND begins_with(token_key, w)`` — a key range,
so the items read are the items matched. Patient and token items change together
in one TransactWriteItems (a name edit deletes the old words and adds the new ones).

Limits: the most selective (longest) query word is looked up; candidates are
ranked newest first and checked against the other words in memory; at most
``MAX_CANDIDATES`` index items are read, so a one-letter query over a huge
registry may miss older matches (type two or more letters). A name may have up
to 90 distinct words (the 100-item transaction limit). Each first letter is one
partition key: fine for a clinic or a region; a national registry would salt it.

Listing newest first uses the sparse GSI ``created-index`` (constant ``entity``,
``created_key = "<created_at>#<patient_id>"``). ``count`` is a COUNT query on that
index: O(patients / 1 MB of keys) reads, meant for admin pages, not hot paths.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from backend.adapters.aws_errors import cancellation_codes, error_code, map_error
from backend.adapters.records.dynamodb.base import SERVICE, Table, av, from_item, plain, to_item
from backend.adapters.records.dynamodb.tables import PATIENT_NAME_INDEX, PATIENTS
from backend.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound, ValidationFailed
from backend.domain.models import Page, Patient, now_ms
from backend.domain.text import name_tokens

MAX_CANDIDATES = 2000
MAX_WORDS = 90
_ENTITY = "patient"
_LIST_KEYS = ("patient_id", "entity", "created_key")


def _created_key(patient: Patient) -> str:
    return f"{patient.created_at:015d}#{patient.patient_id}"


class DynamoPatientStore:
    def __init__(self, client: Any, prefix: str = "") -> None:
        self._t = Table(client, prefix + PATIENTS)
        self._names = Table(client, prefix + PATIENT_NAME_INDEX)

    # -- writes ---------------------------------------------------------------------------------------------------
    def _item(self, patient: Patient) -> dict[str, Any]:
        return to_item(patient, entity=_ENTITY, created_key=_created_key(patient))

    def _token_item(self, token: str, patient: Patient) -> dict[str, Any]:
        return {
            "token_bucket": av(token[0]),
            "token_key": av(f"{token}#{patient.patient_id}"),
            "patient_id": av(patient.patient_id),
            "created_at": av(patient.created_at),
        }

    @staticmethod
    def _words(patient: Patient) -> set[str]:
        words = set(name_tokens(patient.name))
        if len(words) > MAX_WORDS:
            raise ValidationFailed(f"The name has {len(words)} words; the limit is {MAX_WORDS}.")
        return words

    def _transact(self, actions: list[dict[str, Any]]) -> None:
        self._t.client.transact_write_items(TransactItems=actions)

    def add(self, patient: Patient) -> None:
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._t.name,
                    "Item": self._item(patient),
                    "ConditionExpression": "attribute_not_exists(patient_id)",
                }
            }
        ]
        actions += [
            {"Put": {"TableName": self._names.name, "Item": self._token_item(w, patient)}} for w in self._words(patient)
        ]
        try:
            self._transact(actions)
        except ClientError as e:
            if error_code(e) == "TransactionCanceledException" and cancellation_codes(e)[:1] == [
                "ConditionalCheckFailed"
            ]:
                raise AlreadyExists(f"Patient {patient.patient_id} already exists.") from e
            raise map_error(e, SERVICE, f"table {self._t.name}") from e
        except BotoCoreError as e:
            raise map_error(e, SERVICE, f"table {self._t.name}") from e

    def update(self, patient: Patient, expected_version: int) -> Patient:
        old = self._get_item(patient.patient_id)
        stored = patient.model_copy(update={"version": expected_version + 1, "updated_at": now_ms()})
        # The key attributes of the list index must not move: created_at/created_by are set at registration.
        stored = stored.model_copy(update={"created_at": old.created_at, "created_by": old.created_by})
        old_words, new_words = self._words(old), self._words(stored)
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._t.name,
                    "Item": self._item(stored),
                    "ConditionExpression": "attribute_exists(patient_id) AND #v = :expected",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":expected": av(expected_version)},
                }
            }
        ]
        actions += [
            {
                "Delete": {
                    "TableName": self._names.name,
                    "Key": {"token_bucket": av(w[0]), "token_key": av(f"{w}#{old.patient_id}")},
                }
            }
            for w in old_words - new_words
        ]
        actions += [
            {"Put": {"TableName": self._names.name, "Item": self._token_item(w, stored)}} for w in new_words - old_words
        ]
        try:
            self._transact(actions)
        except ClientError as e:
            if error_code(e) == "TransactionCanceledException" and cancellation_codes(e)[:1] == [
                "ConditionalCheckFailed"
            ]:
                raise ConcurrentUpdate() from e
            raise map_error(e, SERVICE, f"table {self._t.name}") from e
        except BotoCoreError as e:
            raise map_error(e, SERVICE, f"table {self._t.name}") from e
        return stored

    # -- reads ----------------------------------------------------------------------------------------------------
    def _get_item(self, patient_id: str) -> Patient:
        item = self._t.get({"patient_id": av(patient_id)})
        if item is None:
            raise NotFound(f"No patient with id {patient_id}.")
        return from_item(Patient, item)

    def get(self, patient_id: str) -> Patient:
        return self._get_item(patient_id)

    def find_by_phone(self, phone: str) -> list[Patient]:
        items = self._t.query_equal("phone-index", "phone", phone)
        return [from_item(Patient, i) for i in items]

    def search_name(self, fragment: str, limit: int = 20) -> list[Patient]:
        words = sorted(set(name_tokens(fragment)), key=len, reverse=True)
        if not words or limit <= 0:
            return []
        lead = words[0]
        hits = self._names.query_all(
            max_items=MAX_CANDIDATES,
            KeyConditionExpression="token_bucket = :b AND begins_with(token_key, :w)",
            ExpressionAttributeValues={":b": av(lead[0]), ":w": av(lead)},
        )
        created: dict[str, int] = {}
        for hit in hits:
            row = plain(hit)
            created[row["patient_id"]] = int(row["created_at"])
        ranked = sorted(created, key=lambda pid: (created[pid], pid), reverse=True)
        found: list[Patient] = []
        for i in range(0, len(ranked), 100):
            chunk = ranked[i : i + 100]
            items = self._t.batch_get([{"patient_id": av(pid)} for pid in chunk])
            by_id = {p.patient_id: p for p in (from_item(Patient, it) for it in items)}
            for pid in chunk:
                patient = by_id.get(pid)
                if patient is not None and _matches(patient.name, words):
                    found.append(patient)
                    if len(found) >= limit:
                        return found
        return found

    def list_page(self, cursor: str | None = None, limit: int = 25) -> Page[Patient]:
        items, nxt = self._t.query_page(
            _LIST_KEYS,
            limit,
            cursor,
            IndexName="created-index",
            KeyConditionExpression="entity = :e",
            ExpressionAttributeValues={":e": av(_ENTITY)},
            ScanIndexForward=False,
        )
        return Page[Patient](items=[from_item(Patient, i) for i in items], next_cursor=nxt)

    def count(self) -> int:
        total = 0
        start = None
        while True:
            request: dict[str, Any] = {
                "TableName": self._t.name,
                "IndexName": "created-index",
                "KeyConditionExpression": "entity = :e",
                "ExpressionAttributeValues": {":e": av(_ENTITY)},
                "Select": "COUNT",
            }
            if start:
                request["ExclusiveStartKey"] = start
            response = self._t.call("query", **request)
            total += int(response.get("Count", 0))
            start = response.get("LastEvaluatedKey")
            if not start:
                return total


def _matches(name: str, words: list[str]) -> bool:
    tokens = name_tokens(name)
    return all(any(t.startswith(w) for t in tokens) for w in words)
