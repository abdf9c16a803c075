"""The local-only index-keyed Query answers exactly as moto's own full-table Query does.

A random history of writes (puts, updates that move or drop index keys, deletes, transactions)
is applied to tables with sparse GSIs, a hash-only GSI, an LSI and projections; after each
write, random queries are asked twice — through the patch and through moto's own `Table.query`
— page by page to the end, and every page must be the same (items, order, counts, the last
evaluated key). The patch's map is built at the first query and then kept up by the writes, so
a stale entry would show as a difference.
"""

from __future__ import annotations

from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from embedded import moto_index, moto_patches

PKS, SKS, G1 = ["a", "b", "c"], ["1", "2", "3", "4", "5"], ["x", "y"]
G1S, G2 = ["p", "q", "r"], ["1", "2", "10"]
_S = {"AttributeType": "S"}


def _tables(ddb: Any) -> None:
    def gsi(name: str, hash_key: str, range_key: str | None, projection: dict[str, Any]) -> dict[str, Any]:
        keys = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        keys += [{"AttributeName": range_key, "KeyType": "RANGE"}] if range_key else []
        return {"IndexName": name, "KeySchema": keys, "Projection": projection}

    ddb.create_table(
        TableName="t", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, **_S} for a in ("pk", "sk", "g1", "g1s", "ls")]
        + [{"AttributeName": "g2", "AttributeType": "N"}],
        GlobalSecondaryIndexes=[gsi("gsi1", "g1", "g1s", {"ProjectionType": "ALL"}),
                                gsi("gsi2", "g2", None, {"ProjectionType": "KEYS_ONLY"}),
                                gsi("gsi3", "g1", None, {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["v"]})],
        LocalSecondaryIndexes=[gsi("lsi", "pk", "ls", {"ProjectionType": "ALL"})])
    ddb.create_table(
        TableName="h", BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", **_S}, {"AttributeName": "g1", **_S}],
        GlobalSecondaryIndexes=[gsi("gsi1", "g1", None, {"ProjectionType": "ALL"})])


maybe = lambda values: st.one_of(st.none(), st.sampled_from(values))  # noqa: E731
attributes = st.fixed_dictionaries({"g1": maybe(G1), "g1s": maybe(G1S), "g2": maybe(G2), "ls": maybe(SKS),
                                    "v": st.integers(0, 9)})


def _item(table: str, pk: str, sk: str, attrs: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": pk}} | ({"sk": {"S": sk}} if table == "t" else {})
    for name, value in attrs.items():
        if value is not None:
            item[name] = {"N": str(value)} if name in ("g2", "v") else {"S": value}
    return item


def _key(table: str, pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}} | ({"sk": {"S": sk}} if table == "t" else {})


def _update(table: str, pk: str, sk: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """SET what is given, REMOVE what is None: an item can leave an index, or move within it."""
    sets = [f"#{n} = :{n}" for n, v in attrs.items() if v is not None]
    removes = [f"#{n}" for n, v in attrs.items() if v is None]
    values = {f":{n}": _item(table, pk, sk, {n: v})[n] for n, v in attrs.items() if v is not None}
    expression = (f"SET {', '.join(sets)} " if sets else "") + (f"REMOVE {', '.join(removes)}" if removes else "")
    return {"TableName": table, "Key": _key(table, pk, sk), "UpdateExpression": expression.strip(),
            "ExpressionAttributeNames": {f"#{n}": n for n in attrs}} | (
        {"ExpressionAttributeValues": values} if values else {})


keys = st.tuples(st.sampled_from(["t", "t", "h"]), st.sampled_from(PKS), st.sampled_from(SKS))
writes: st.SearchStrategy[Any] = st.one_of(
    st.tuples(st.just("put"), keys, attributes),
    st.tuples(st.just("update"), keys, attributes),
    st.tuples(st.just("delete"), keys, st.just({})),
    st.tuples(st.just("transact"), keys, attributes),
)


@st.composite
def queries(draw: Any) -> dict[str, Any]:
    table = draw(st.sampled_from(["t", "t", "t", "h"]))
    index = draw(st.sampled_from([None, "gsi1", "gsi2", "gsi3", "lsi"] if table == "t" else [None, "gsi1"]))
    hash_name, range_name, hash_value, range_values = {
        None: ("pk", "sk" if table == "t" else None, {"S": draw(st.sampled_from(PKS))}, SKS),
        "gsi1": ("g1", "g1s" if table == "t" else None, {"S": draw(st.sampled_from(G1))}, G1S),
        "gsi2": ("g2", None, {"N": draw(st.sampled_from(G2))}, []),
        "gsi3": ("g1", None, {"S": draw(st.sampled_from(G1))}, []),
        "lsi": ("pk", "ls", {"S": draw(st.sampled_from(PKS))}, SKS),
    }[index]
    condition, values = "#h = :h", {":h": hash_value}
    comparison = draw(st.sampled_from(["", "=", "<", "<=", ">", ">=", "between", "begins_with"])) if range_name else ""
    if comparison:
        low, high = sorted(draw(st.lists(st.sampled_from(range_values), min_size=2, max_size=2)))
        values |= {":lo": {"S": low}, ":hi": {"S": high}}
        condition += {"between": " AND #r BETWEEN :lo AND :hi", "begins_with": " AND begins_with(#r, :lo)"}.get(
            comparison, f" AND #r {comparison} :lo")
    names = {"#h": hash_name} | ({"#r": range_name} if comparison else {})
    request: dict[str, Any] = {"TableName": table, "KeyConditionExpression": condition,
                               "ExpressionAttributeNames": names, "ScanIndexForward": draw(st.booleans())}
    if index:
        request["IndexName"] = index
    if draw(st.booleans()):
        request["Limit"] = draw(st.integers(1, 4))
    if draw(st.booleans()):
        request["FilterExpression"], values[":v"] = "#v >= :v", {"N": str(draw(st.integers(0, 9)))}
        request["ExpressionAttributeNames"]["#v"] = "v"
    if draw(st.booleans()):
        request["ProjectionExpression"] = "pk, v"
    request["ExpressionAttributeValues"] = values
    return request


def _pages(ddb: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    pages, start = [], None
    for _ in range(50):
        page = ddb.query(**request, **({"ExclusiveStartKey": start} if start else {}))
        page.pop("ResponseMetadata", None)
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages
    raise AssertionError("more than 50 pages")


def _write(ddb: Any, kind: str, key: tuple[str, str, str], attrs: dict[str, Any]) -> None:
    table, pk, sk = key
    if kind == "put":
        ddb.put_item(TableName=table, Item=_item(table, pk, sk, attrs))
    elif kind == "update":
        ddb.update_item(**_update(table, pk, sk, attrs))
    elif kind == "delete":
        ddb.delete_item(TableName=table, Key=_key(table, pk, sk))
    else:
        other = "b" if pk == "a" else "a"
        ddb.transact_write_items(TransactItems=[{"Update": _update(table, pk, sk, attrs)},
                                                {"Delete": {"TableName": table, "Key": _key(table, other, sk)}}])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=st.lists(st.tuples(writes, st.lists(queries(), min_size=1, max_size=3)), min_size=1, max_size=30))
def test_index_keyed_queries_answer_as_moto_does(history: list[Any]) -> None:
    moto_patches.install()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-central-1")
        _tables(ddb)
        asked = 0
        for (kind, key, attrs), asks in history:
            _write(ddb, kind, key, attrs)
            for request in asks:
                patched = _pages(ddb, request)
                with moto_index.moto_own_query():
                    assert _pages(ddb, request) == patched, request
                asked += 1
        assert asked >= len(history)


def test_a_sparse_index_lists_only_items_with_its_keys_and_follows_updates() -> None:
    moto_patches.install()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-central-1")
        _tables(ddb)

        def listed(value: str) -> list[str]:
            return [i["sk"]["S"] for i in ddb.query(TableName="t", IndexName="gsi1", KeyConditionExpression="g1 = :g",
                                                     ExpressionAttributeValues={":g": {"S": value}})["Items"]]

        ddb.put_item(TableName="t", Item=_item("t", "a", "1", {"g1": "x", "g1s": "p"}))
        ddb.put_item(TableName="t", Item=_item("t", "a", "2", {"g1": "x"}))  # no sort key of gsi1: not in it
        assert listed("x") == ["1"]
        ddb.update_item(**_update("t", "a", "2", {"g1s": "q"}))
        ddb.update_item(**_update("t", "a", "1", {"g1": "y"}))
        assert (listed("x"), listed("y")) == (["2"], ["1"])
        ddb.update_item(**_update("t", "a", "2", {"g1": None}))
        ddb.delete_item(TableName="t", Key=_key("t", "a", "1"))
        assert (listed("x"), listed("y")) == ([], [])
