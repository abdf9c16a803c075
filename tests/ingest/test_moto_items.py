"""The local-only JSON answers to DynamoDB item operations read exactly as moto's own serialised ones.

Random items (every attribute type, nested maps and lists, binary, empty sets left out as DynamoDB
refuses them) go through each item operation twice — once answered by the patch, once by moto's
serializer — and boto3 must parse the same response both times (its metadata aside): items,
returned attributes, counts, last evaluated keys, consumed capacity, and the error of a failed
condition. (moto answers the write batches and transactions through its plain result: not patched.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.exceptions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.responses import DynamoResult

from embedded import moto_patches

scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=12)),
    st.builds(lambda n: {"N": str(n)}, st.one_of(st.integers(-10**12, 10**12),
                                                 st.decimals(-1000, 1000, places=3, allow_nan=False))),
    st.builds(lambda b: {"B": b}, st.binary(max_size=12)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda s: {"SS": sorted(s)}, st.sets(st.text(min_size=1, max_size=5), min_size=1, max_size=3)),
    st.builds(lambda s: {"NS": sorted(str(n) for n in s)}, st.sets(st.integers(0, 99), min_size=1, max_size=3)),
    st.builds(lambda s: {"BS": sorted(s)}, st.sets(st.binary(min_size=1, max_size=4), min_size=1, max_size=3)),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.builds(lambda m: {"M": m}, st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=4)),
    st.builds(lambda items: {"L": items}, st.lists(inner, max_size=4))), max_leaves=12)
attributes = st.dictionaries(st.sampled_from(["doc", "v", "name", "tags", "blob"]), values, max_size=4)
rows = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["1", "2", "3"]), attributes),
                min_size=1, max_size=6)


@contextmanager
def answered(by_patch: bool) -> Iterator[list[str]]:
    """Answers by the patch or by moto's serializer; yields the operations the patch wrote itself."""
    patched = DynamoResult.execute_result
    written: list[str] = []

    def counting(self: Any, context: Any) -> Any:
        if context.operation_model.name in moto_patches.ITEM_OPERATIONS:
            written.append(context.operation_model.name)
        return patched(self, context)

    DynamoResult.execute_result = counting if by_patch else patched.original  # type: ignore[attr-defined, method-assign]
    try:
        yield written
    finally:
        DynamoResult.execute_result = patched  # type: ignore[method-assign]


def _without_metadata(response: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}


def _outcome(call: Callable[[], dict[str, Any]]) -> Any:
    try:
        return _without_metadata(call())
    except botocore.exceptions.ClientError as err:
        return ("error", err.response["Error"], err.response.get("CancellationReasons"))


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _operations(ddb: Any, pk: str, sk: str, attrs: dict[str, Any]) -> list[Callable[[], dict[str, Any]]]:
    """Every item operation the patch answers, on one row: old or new attributes, capacity, a failed condition."""
    item = {**_key(pk, sk), **attrs}
    cap = {"ReturnConsumedCapacity": "INDEXES"}
    return [
        lambda: ddb.put_item(TableName="t", Item=item, ReturnValues="ALL_OLD", **cap),
        lambda: ddb.get_item(TableName="t", Key=_key(pk, sk), **cap),
        lambda: ddb.get_item(TableName="t", Key=_key(pk, sk), ProjectionExpression="v, doc"),
        lambda: ddb.query(TableName="t", KeyConditionExpression="pk = :p", Limit=2,
                          ExpressionAttributeValues={":p": {"S": pk}}, **cap),
        lambda: ddb.query(TableName="t", IndexName="by_name", KeyConditionExpression="#n = :n",
                          ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":n": {"S": "x"}}),
        lambda: ddb.scan(TableName="t", Limit=3, **cap),
        lambda: ddb.batch_get_item(RequestItems={"t": {"Keys": [_key(pk, sk), _key(pk, "9")]}}, **cap),
        lambda: ddb.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": _key(pk, sk)}}], **cap),
        lambda: ddb.update_item(TableName="t", Key=_key(pk, sk), UpdateExpression="SET #n = :n",
                                ExpressionAttributeNames={"#n": "name"}, ExpressionAttributeValues={":n": {"S": "x"}},
                                ReturnValues="ALL_NEW", **cap),
        lambda: ddb.update_item(TableName="t", Key=_key(pk, sk), UpdateExpression="SET v = :v",
                                ConditionExpression="attribute_not_exists(pk)",
                                ExpressionAttributeValues={":v": {"N": "1"}}),
        lambda: ddb.put_item(TableName="t", Item=item, ConditionExpression="attribute_not_exists(pk)"),
        lambda: ddb.delete_item(TableName="t", Key=_key(pk, sk), ReturnValues="ALL_OLD", **cap),
    ]


def _table(ddb: Any) -> None:
    ddb.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "name")],
        GlobalSecondaryIndexes=[{"IndexName": "by_name", "KeySchema": [{"AttributeName": "name", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=rows)
def test_item_answers_parse_as_moto_serialises_them(history: list[tuple[str, str, dict[str, Any]]]) -> None:
    """The same operations on two identical tables (two regions): one answered by moto, one by the patch."""
    moto_patches.install()
    with mock_aws():
        theirs_db, ours_db = (boto3.client("dynamodb", region_name=r) for r in ("eu-central-1", "eu-west-1"))
        _table(theirs_db)
        _table(ours_db)
        for pk, sk, attrs in history:
            for theirs_op, ours_op in zip(_operations(theirs_db, pk, sk, attrs), _operations(ours_db, pk, sk, attrs),
                                          strict=True):
                with answered(by_patch=False):
                    theirs = _outcome(theirs_op)
                with answered(by_patch=True) as written:
                    ours = _outcome(ours_op)
                assert ours == theirs
                assert written or isinstance(ours, tuple), "an answer the patch did not write was compared"


def test_the_comparison_sees_an_answer_that_differs(monkeypatch: Any) -> None:
    """A patch that lost binary values' encoding (or anything else) would not pass unseen."""
    moto_patches.install()
    monkeypatch.setattr(moto_patches, "_wire", lambda value: {"Item": {"pk": {"S": "other"}}})
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-central-1")
        _table(ddb)
        operation = _operations(ddb, "a", "1", {"blob": {"B": b"\x00\x01"}})[:2]
        operation[0]()
        with answered(by_patch=False):
            theirs = _outcome(operation[1])
        with answered(by_patch=True):
            ours = _outcome(operation[1])
        assert ours != theirs


def test_every_botocore_session_reads_the_service_models_through_one_loader() -> None:
    import botocore.session

    moto_patches.install()
    first, second = botocore.session.get_session(), botocore.session.get_session()
    assert first.get_component("data_loader") is second.get_component("data_loader")
    for _ in range(3):
        boto3.session.Session(region_name="eu-central-1")  # each appends boto3's data folder
    paths = first.get_component("data_loader").search_paths
    assert len(paths) == len(set(paths))
    assert first.get_service_model("dynamodb").operation_names == second.get_service_model("dynamodb").operation_names
