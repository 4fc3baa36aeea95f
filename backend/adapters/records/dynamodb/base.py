"""Plumbing shared by the DynamoDB stores: client, item codec, cursors, paged queries, versioned writes.

Items hold the entity's fields as native DynamoDB attributes (so streams and the
console show real data), plus key/index attributes. Numbers travel as Decimal.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from backend.adapters.aws_errors import aws_client, error_code, map_error
from backend.domain.errors import ConcurrentUpdate, NotFound

M = TypeVar("M", bound=BaseModel)
_SER = TypeSerializer()
_DESER = TypeDeserializer()
SERVICE = "DynamoDB"


def make_client(
    client: Any = None, endpoint_url: str | None = None, region: str | None = None, max_attempts: int = 5
) -> Any:
    """Return ``client`` or build one (adaptive retries); ``AWS_ENDPOINT_URL`` is honoured by boto3 itself."""
    return aws_client("dynamodb", client, endpoint_url, region, max_attempts)


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        # "72" stays an int; "72.5" (or a normalised "7.2E+1") becomes a float, as pydantic expects.
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [_from_dynamo(v) for v in value]
    return value


def to_item(model: BaseModel, **extra: Any) -> dict[str, Any]:
    """Low-level item (``{"name": {"S": ...}}``) of ``model``'s JSON form plus ``extra`` key/index attributes."""
    data = json.loads(model.model_dump_json())
    data.update(extra)
    return {k: _SER.serialize(_to_dynamo(v)) for k, v in data.items() if v is not None}


def plain(item: dict[str, Any]) -> dict[str, Any]:
    """Low-level item -> plain Python values (ints/floats, not Decimal)."""
    return {k: _from_dynamo(_DESER.deserialize(v)) for k, v in item.items()}


def from_item(model: type[M], item: dict[str, Any]) -> M:
    return model.model_validate(plain(item))


def av(value: Any) -> dict[str, Any]:
    """One attribute value in low-level form."""
    return _SER.serialize(_to_dynamo(value))


def encode_cursor(key: dict[str, Any]) -> str:
    """Opaque cursor: base64 of the JSON of a (low-level) ExclusiveStartKey."""
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, dict) else None


class Table:
    """One table under a prefix, with the calls the stores need (errors already translated)."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def call(self, op: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, op)(**kwargs)
            return result
        except (ClientError, BotoCoreError) as e:
            raise map_error(e, SERVICE, f"table {self.name}") from e

    def get(self, key: dict[str, Any], consistent: bool = True) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self.call(
            "get_item", TableName=self.name, Key=key, ConsistentRead=consistent
        ).get("Item")
        return item

    def put_new(self, item: dict[str, Any], key_attr: str) -> bool:
        """PutItem only if no item has this key; False when one exists (nothing overwritten)."""
        return self.put_if(item, "attribute_not_exists(#k)", {"#k": key_attr})

    def put_if(
        self, item: dict[str, Any], condition: str, names: dict[str, str], values: dict[str, Any] | None = None
    ) -> bool:
        """PutItem only if ``condition`` holds for the stored item; False when it does not (nothing written)."""
        return self._conditional("put_item", condition, names, values, Item=item)

    def delete_if(
        self, key: dict[str, Any], condition: str, names: dict[str, str], values: dict[str, Any] | None = None
    ) -> bool:
        """DeleteItem only if ``condition`` holds for the stored item; False when it does not (nothing deleted)."""
        return self._conditional("delete_item", condition, names, values, Key=key)

    def _conditional(
        self, op: str, condition: str, names: dict[str, str], values: dict[str, Any] | None, **request: Any
    ) -> bool:
        extra: dict[str, Any] = {"ExpressionAttributeValues": values} if values else {}
        try:
            getattr(self.client, op)(
                TableName=self.name, ConditionExpression=condition, ExpressionAttributeNames=names, **request, **extra
            )
            return True
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                return False
            raise map_error(e, SERVICE, f"table {self.name}") from e
        except BotoCoreError as e:
            raise map_error(e, SERVICE, f"table {self.name}") from e

    def put_versioned(self, item: dict[str, Any], key: dict[str, Any], expected_version: int, label: str) -> None:
        """Replace the item only if its stored ``version`` is ``expected_version``.

        Raises:
            NotFound: no item with this key.
            ConcurrentUpdate: someone else wrote first; the stored item is untouched.
        """
        try:
            self.client.put_item(
                TableName=self.name,
                Item=item,
                ConditionExpression="attribute_exists(#k) AND #v = :expected",
                ExpressionAttributeNames={"#k": next(iter(key)), "#v": "version"},
                ExpressionAttributeValues={":expected": {"N": str(expected_version)}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                if not e.response.get("Item") and self.get(key) is None:
                    raise NotFound(f"No {label}.") from e
                raise ConcurrentUpdate() from e
            raise map_error(e, SERVICE, f"table {self.name}") from e
        except BotoCoreError as e:
            raise map_error(e, SERVICE, f"table {self.name}") from e

    def replace_versioned(self, model: M, key: dict[str, Any], expected_version: int, label: str, **extra: Any) -> M:
        """Store ``model`` as its next version (``expected_version`` + 1) over the one the caller read, and return it.

        Args:
            extra: key/index attributes of the item besides the model's fields (e.g. ``entity``).

        Raises:
            NotFound: no item with this key.
            ConcurrentUpdate: someone else wrote first; the stored item is untouched.
        """
        stored = model.model_copy(update={"version": expected_version + 1})
        self.put_versioned(to_item(stored, **extra), key, expected_version, label)
        return stored

    def query_equal(self, index: str | None, attr: str, value: Any, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item whose partition key ``attr`` (of ``index``, or of the table when None) is ``value``.

        The attribute is named through a placeholder, so reserved words (``status``) need no care at call sites.
        ``params`` go to :meth:`query_all` (``max_items``, ``ScanIndexForward``, ``Limit``).
        """
        if index is not None:
            params["IndexName"] = index
        return self.query_all(
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": attr},
            ExpressionAttributeValues={":v": av(value)},
            **params,
        )

    def query_page(
        self, key_attrs: tuple[str, ...], limit: int, cursor: str | None = None, **params: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a Query: at most ``limit`` items and the cursor of the next page (None at the end).

        Reads ``limit + 1`` items so the last page is known to be last; the cursor is
        built from the ``limit``-th item's key attributes (table + index keys).
        """
        start = decode_cursor(cursor)
        items: list[dict[str, Any]] = []
        while len(items) <= limit:
            request = dict(params, TableName=self.name, Limit=limit + 1 - len(items))
            if start:
                request["ExclusiveStartKey"] = start
            response = self.call("query", **request)
            items.extend(response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        if len(items) > limit:
            last = items[limit - 1]
            return items[:limit], encode_cursor({k: last[k] for k in key_attrs if k in last})
        return items, None

    def query_all(self, max_items: int | None = None, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item a Query returns, following LastEvaluatedKey (stops after ``max_items``)."""
        start = None
        seen = 0
        while True:
            request = dict(params, TableName=self.name)
            if start:
                request["ExclusiveStartKey"] = start
            response = self.call("query", **request)
            for item in response.get("Items", []):
                yield item
                seen += 1
                if max_items is not None and seen >= max_items:
                    return
            start = response.get("LastEvaluatedKey")
            if not start:
                return

    def batch_write(self, requests: list[dict[str, Any]], sleep: Callable[[float], None] | None = None) -> None:
        """BatchWriteItem in chunks of 25, resubmitting UnprocessedItems with backoff."""
        import time

        pause = sleep or time.sleep
        for i in range(0, len(requests), 25):
            pending: dict[str, Any] = {self.name: requests[i : i + 25]}
            for attempt in range(10):
                response = self.call("batch_write_item", RequestItems=pending)
                pending = response.get("UnprocessedItems") or {}
                if not pending:
                    break
                pause(min(2.0, 0.05 * 2**attempt))
            else:
                raise map_error(
                    ClientError({"Error": {"Code": "ProvisionedThroughputExceededException"}}, "BatchWriteItem"),
                    SERVICE,
                    f"table {self.name}",
                )

    def batch_get(self, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """BatchGetItem in chunks of 100 (order not kept), resubmitting UnprocessedKeys."""
        out: list[dict[str, Any]] = []
        for i in range(0, len(keys), 100):
            pending: dict[str, Any] = {self.name: {"Keys": keys[i : i + 100], "ConsistentRead": True}}
            while pending:
                response = self.call("batch_get_item", RequestItems=pending)
                out.extend(response.get("Responses", {}).get(self.name, []))
                pending = response.get("UnprocessedKeys") or {}
        return out
