"""The one table's key schema and indexes, shared by the local stack, tests and CDK."""

from __future__ import annotations

from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"
# index name -> (partition key, sort key); every index projects ALL attributes.
INDEXES: dict[str, tuple[str, str]] = {
    "gsi1": ("gsi1pk", "gsi1sk"),
    "gsi2": ("gsi2pk", "gsi2sk"),
    "gsi3": ("gsi3pk", "gsi3sk"),  # sparse calendar entries (birthdays): a patient's gsi2 is their subject
}


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """Arguments of DynamoDB CreateTable for the local stack and tests."""
    attributes = [PARTITION_KEY, SORT_KEY] + [k for pair in INDEXES.values() for k in pair]
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": pk, "KeyType": "HASH"},
                    {"AttributeName": sk, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for name, (pk, sk) in INDEXES.items()
        ],
    }
