"""moto keeps nothing across restarts, so the local stack saves the table itself."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def export_table(ddb: Any, table: str, path: Path) -> int:
    """Write every item (DynamoDB JSON, one per line) atomically to `path`."""
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".export-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return len(items)


def import_table(ddb: Any, table: str, path: Path) -> int:
    if not path.exists():
        return 0
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]
        pending: dict[str, Any] = {table: requests}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(items)
