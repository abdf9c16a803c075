"""What one Query costs the local stack's moto on a big table, with and without embedded/moto_index.py.

A table shaped like ClinicFlow's (pk/sk, a sparse gsi1 with gsi1pk/gsi1sk) holding ITEMS items
spread over 100 clinics; a GSI query for one clinic's index partition (50 items, a page of 20)
and a table query for one partition (20 items) are timed through boto3, as the app asks them,
first with moto's own `Table.query` and then index-keyed. `python -m bench.moto_query [items]`.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

ITEMS = 10_000
ROUNDS = 20


def _median_ms(ask: Callable[[], Any]) -> float:
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        ask()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(items: int = ITEMS) -> dict[str, tuple[float, float]]:
    import boto3
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from embedded import moto_index, moto_patches

    moto_patches.install()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-central-1")
        ddb.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk")],
            GlobalSecondaryIndexes=[{"IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
                {"AttributeName": "gsi1pk", "KeyType": "HASH"}, {"AttributeName": "gsi1sk", "KeyType": "RANGE"}]}])
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].get_table("t")
        for n in range(items):
            item = {"pk": {"S": f"C#{n % 100}#P#{n % 500}"}, "sk": {"S": f"V#{n:08d}"}, "name": {"S": f"Пациент {n}"}}
            if n % 2 == 0:  # sparse: half the items are in gsi1
                item |= {"gsi1pk": {"S": f"C#{n % 100}#TASKS"}, "gsi1sk": {"S": f"{n:08d}"}}
            table.put_item(item)
        gsi = lambda: ddb.query(TableName="t", IndexName="gsi1", KeyConditionExpression="gsi1pk = :p",  # noqa: E731
                                ExpressionAttributeValues={":p": {"S": "C#8#TASKS"}}, Limit=20)
        base = lambda: ddb.query(TableName="t", KeyConditionExpression="pk = :p",  # noqa: E731
                                 ExpressionAttributeValues={":p": {"S": "C#8#P#8"}})
        with moto_index.moto_own_query():
            before = {"gsi": _median_ms(gsi), "table": _median_ms(base)}
        started = time.perf_counter()
        assert gsi()["Items"] and base()["Items"]
        first = (time.perf_counter() - started) * 1000
        after = {"gsi": _median_ms(gsi), "table": _median_ms(base)}
    return {kind: (before[kind], after[kind]) for kind in before} | {"first (builds the map)": (first, first)}


def main() -> int:
    items = int(sys.argv[1]) if len(sys.argv) > 1 else ITEMS
    figures = measure(items)
    first = figures.pop("first (builds the map)")[0]
    for kind, (before, after) in figures.items():
        print(f"{kind} query on {items:,} items: moto's own {before:.1f} ms, index-keyed {after:.1f} ms "
              f"(median of {ROUNDS})")
    print(f"the first index-keyed query, which builds the table's map: {first:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
