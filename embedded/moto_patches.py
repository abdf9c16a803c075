"""A performance fix for moto's DynamoDB TransactWriteItems, for the local stack and tests only.

moto 5.2.5 backs up the *whole table* with `copy.deepcopy` once per item of
every transaction, so each commit costs time proportional to the table size
(a month of a clinic made each event take seconds). This replacement keeps the
same semantics — conditions, one operation per item, all-or-nothing — but its
rollback journal holds only the items the transaction touched. Queries are
made index-keyed too (embedded/moto_index.py), and SQS's ReceiveMessage no
longer recounts the whole queue per message it hands out (see `_install_sqs`);
botocore's sessions share one loader of service models (`_share_botocore_loader`).
Lambda never imports this module.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.dynamodb.models import DynamoDBBackend

    from embedded import moto_index

    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    moto_index.install()
    _install_sqs()
    _share_botocore_loader()
    _install_dynamodb_items()
    _INSTALLED = True


# DynamoDB operations whose answers are items (attribute-value maps), counts, keys and consumed capacity:
# no timestamps, nothing the protocol renames, so the JSON moto builds is already the wire form.
# (moto answers BatchWriteItem and TransactWriteItems through its plain ActionResult: not patched.)
ITEM_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan", "PutItem",
                             "UpdateItem", "DeleteItem"})
JSON_10 = "application/x-amz-json-1.0"


def _wire(value: Any) -> Any:
    """An answer as DynamoDB's JSON protocol writes it: no nulls, binary values in base64."""
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_wire(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def _install_dynamodb_items() -> None:
    """moto 5.2.5 serialises every DynamoDB answer by walking botocore's shape of it, member by member:
    each attribute of each item, nested maps included. A clinic's record (its settings, ~40 nested
    sections) cost 0.12 s per GetItem that way, most of a fresh test stack's setup and of every
    event the tests apply. The item answers are written as JSON directly; everything else (errors,
    DescribeTable's dates) still goes through moto's serializer."""
    from moto.dynamodb.responses import DynamoResult

    original = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name not in ITEM_OPERATIONS:
            return original(self, context)
        return 200, {"Content-Type": JSON_10}, json.dumps(_wire(self.result))

    execute_result.original = original  # type: ignore[attr-defined]
    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


class _PathsOnce(list[str]):
    """A search path list that ignores a path it already has (boto3 appends its own per session)."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


def _share_botocore_loader() -> None:
    """Every botocore session of this process reads the service models through one loader.

    Each session builds its own loader, which parses the JSON models (DynamoDB's, SQS's, the
    endpoints…) afresh: ~0.4 s each time the tests build a fresh stack, since the stack, the app
    and PynamoDB each start a session. The loader caches what it read, as one session already
    shares it among its clients. Each boto3 session appends boto3's own data folder to the
    loader's search paths: the shared loader keeps one copy of each path.
    """
    import botocore.session
    from botocore.loaders import create_loader

    shared: dict[str, Any] = {}

    def register_data_loader(self: Any) -> None:
        def loader() -> Any:
            path = self.get_config_variable("data_path")  # read when first used, as botocore does
            key = str(path)
            if key not in shared:
                shared[key] = create_loader(path)
                shared[key]._search_paths = _PathsOnce(shared[key].search_paths)
            return shared[key]

        self._components.lazy_register_component("data_loader", loader)

    botocore.session.Session._register_data_loader = register_data_loader  # type: ignore[method-assign]


def _install_sqs() -> None:
    """moto 5.2.5 checks each received message against the queue's retention period by building *all*
    of the queue's attributes — three times, each counting every message in the queue — so a receive
    from a queue holding clinic A's 500 events cost 30 passes over them: a third of the local stack's
    CPU while A's burst waited (docs/reliability.md, "Fair across clinics"). The period is read
    directly here; the check is the same. And each receive still asks every queued message whether
    it is visible and whether it is delayed, each time building two datetimes to learn the time:
    SQS's models read it from time.time (the clock datetime.now reads) instead."""
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = self.get_queue(queue_name).message_retention_period
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period)
    import time

    from moto.core import utils
    from moto.sqs import models

    def unix_time_millis(dt: Any = None) -> float:
        """Now from the clock datetime.now reads, without building two datetimes per call."""
        return time.time() * 1000.0 if dt is None else utils.unix_time_millis(dt)

    models.unix_time_millis = unix_time_millis  # type: ignore[attr-defined]


def _key(backend: Any, table_name: str, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(table_name)
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    journal: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
    seen: set[tuple[str, str]] = set()
    errors: list[tuple[Any, Any, Any]] = []

    def rollback() -> None:
        for table_name, key, previous in reversed(journal):
            if previous is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, previous)

    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        original_item = None
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            key = _key(self, table_name, op_type, op)
            ident = (str(table_name), str(dict(sorted(key.items()))))
            if ident in seen:
                raise MultipleTransactionsException()
            seen.add(ident)
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            condition = op.get("ConditionExpression")
            current = self.get_item(table_name, key)
            if condition is not None and not get_filter_expression(condition, names, values).expr(current):
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    original_item = current.to_json()["Attributes"]
                raise ConditionalCheckFailed(item=original_item)
            if op_type != "ConditionCheck":
                journal.append((table_name, key, current.to_json()["Attributes"] if current else None))
            if op_type == "Put":
                self.put_item(table_name, op["Item"], condition_expression=condition,
                              expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, condition_expression=condition,
                                 expression_attribute_names=names, expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 condition_expression=condition, expression_attribute_names=names,
                                 expression_attribute_values=values)
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original_item))
        except Exception as exc:  # noqa: BLE001 - moto reports any failure as a cancellation reason
            errors.append((type(exc).__name__, str(exc), original_item))
    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)
