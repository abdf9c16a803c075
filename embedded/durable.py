"""A 202 survives `kill -9` on the embedded default: a write-ahead log of every DynamoDB write.

moto keeps its tables in this process's memory. Every write request it serves
(PutItem, UpdateItem, DeleteItem, TransactWriteItems, BatchWriteItem) appends the
resulting state of each item it touched to `dynamodb.wal.<generation>` and fsyncs
it *before* moto answers, so before the app can answer 202 (or 200 to a desk
outcome or a settings change). A snapshot (`dynamodb.jsonl`, first line a header
naming the last generation it covers) is written every minute and on shutdown;
start-up loads it straight into moto's backend and replays the newer logs over it.

Each log line holds an item's whole state after the write (or its deletion), so
replaying is idempotent and order-safe: the log is appended under one lock, and
each line is read from the table after its write was applied, so the last line of
a key is never older than the last acknowledged write of that key.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from embedded import moto_index

SNAPSHOT = "dynamodb.jsonl"
WAL_PREFIX = "dynamodb.wal."
_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items", "batch_write_item")


class WriteAheadLog:
    """Appends item states to the current generation's file and fsyncs each batch."""

    def __init__(self, folder: Path, generation: int) -> None:
        self._folder = folder
        self._lock = threading.Lock()
        self.generation = generation
        self._file = self._open(generation)

    def _open(self, generation: int) -> Any:
        private_folder(self._folder)
        # the log holds patients' names and phones: owner-only from the first byte (and if an older run left it 0644)
        fd = os.open(self._folder / f"{WAL_PREFIX}{generation:08d}", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        handle = os.fdopen(fd, "a", encoding="utf-8")
        _fsync_dir(self._folder)  # the new file's name is durable too
        return handle

    def log(self, backend: Any, touched: list[tuple[str, dict[str, Any]]]) -> None:
        """Write the current state of each (table, key) and make it durable."""
        with self._lock:
            for table_name, key in touched:
                item = backend.get_item(table_name, key)
                state = item.to_json()["Attributes"] if item is not None else None
                self._file.write(json.dumps({"t": table_name, "k": key, "i": state}, ensure_ascii=False) + "\n")
            self._file.flush()
            os.fsync(self._file.fileno())

    def rotate(self) -> int:
        """Seal the current generation and start the next; returns the sealed one."""
        with self._lock:
            self._file.close()
            sealed = self.generation
            self.generation += 1
            self._file = self._open(self.generation)
            return sealed

    def close(self) -> None:
        with self._lock:
            self._file.close()


def _generations(folder: Path) -> list[int]:
    return sorted(int(p.name.removeprefix(WAL_PREFIX)) for p in folder.glob(f"{WAL_PREFIX}*")
                  if p.name.removeprefix(WAL_PREFIX).isdigit())


def _key_of(table: Any, item: dict[str, Any]) -> dict[str, Any]:
    key = {table.hash_key_attr: item[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = item[table.range_key_attr]
    return key


def touched_keys(backend: Any, operation: str, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(table, key) of every item a successful write request changed."""
    if operation == "put_item":
        return [(body["TableName"], _key_of(backend.get_table(body["TableName"]), body["Item"]))]
    if operation in ("update_item", "delete_item"):
        return [(body["TableName"], body["Key"])]
    out = []
    if operation == "transact_write_items":
        for entry in body["TransactItems"]:
            for kind, op in entry.items():
                if kind == "Put":
                    out.append((op["TableName"], _key_of(backend.get_table(op["TableName"]), op["Item"])))
                elif kind in ("Update", "Delete"):
                    out.append((op["TableName"], op["Key"]))
        return out
    for table_name, requests in body.get("RequestItems", {}).items():
        for request in requests:
            if "PutRequest" in request:
                out.append((table_name, _key_of(backend.get_table(table_name), request["PutRequest"]["Item"])))
            elif "DeleteRequest" in request:
                out.append((table_name, request["DeleteRequest"]["Key"]))
    return out


def install(wal: WriteAheadLog) -> None:
    """Make moto's DynamoDB write handlers log before they answer."""
    from moto.dynamodb.responses import DynamoHandler

    for operation in _WRITES:
        original = getattr(DynamoHandler, operation)
        original = getattr(original, "__wal_original__", original)

        def logged(self: Any, _original: Any = original, _operation: str = operation) -> Any:
            result = _original(self)  # raises on a failed condition: nothing changed, nothing logged
            wal.log(self.dynamodb_backend, touched_keys(self.dynamodb_backend, _operation, self.body))
            return result

        logged.__wal_original__ = original  # type: ignore[attr-defined]
        setattr(DynamoHandler, operation, logged)


def backend_of(region: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][region]


def _lines(path: Path) -> Iterator[dict[str, Any]]:
    """JSON lines of a file; a torn last line (a crash mid-append, never acknowledged) is skipped."""
    with open(path, encoding="utf-8") as source:
        for line in source:
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


def restore(backend: Any, table_name: str, folder: Path) -> tuple[int, int, int]:
    """Load the snapshot and replay newer logs straight into moto's table.

    Returns (items in the table, log lines replayed, the next log generation)."""
    table = backend.get_table(table_name)
    snapshot, covers = folder / SNAPSHOT, -1
    if snapshot.exists():
        snapshot.chmod(0o600)  # an older run's may be 0644
        for row in _lines(snapshot):
            if "__snapshot__" in row:
                covers = int(row["__snapshot__"]["covers"])
                continue
            _load(table, row)
    replayed = 0
    generations = _generations(folder) if folder.exists() else []
    for generation in generations:
        if generation <= covers:
            continue
        for row in _lines(folder / f"{WAL_PREFIX}{generation:08d}"):
            if row.get("t") != table_name:
                continue
            if row["i"] is None:
                hash_key, range_key = backend.get_keys_value(table, row["k"])
                table.delete_item(hash_key, range_key)
            else:
                _load(table, row["i"])
            replayed += 1
    moto_index.forget(table)  # items were loaded past moto's put_item: its index map is rebuilt on the next query
    count = sum(len(v) if table.range_key_attr else 1 for v in list(table.items.values()))
    return count, replayed, max([covers, *generations]) + 1


def _load(table: Any, attrs: dict[str, Any]) -> None:
    """Put an item that was valid when it was written, without moto's per-put checks (fast start-up)."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
    item = Item(hash_value, range_value, {})
    # LimitedSizeDict re-measures the whole item on every attribute set (quadratic); dict.update does not
    item.attrs = LimitedSizeDict({key: DynamoType(value) for key, value in attrs.items()})
    if range_value is None:
        table.items[hash_value] = item
    else:
        table.items[hash_value][range_value] = item


def snapshot(backend: Any, table_name: str, folder: Path, wal: WriteAheadLog) -> int:
    """Seal the log, write the table atomically, then drop the logs the snapshot covers."""
    sealed = wal.rotate()  # every write from here on lands in the next generation
    table = backend.get_table(table_name)
    items: list[Any] = []
    for value in list(table.items.values()):
        items.extend(list(value.values()) if table.range_key_attr else [value])
    private_folder(folder)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".snapshot-")  # 0600, and so the snapshot it becomes
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(json.dumps({"__snapshot__": {"covers": sealed}}) + "\n")
        for item in items:
            out.write(json.dumps(item.to_json()["Attributes"], ensure_ascii=False) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, folder / SNAPSHOT)
    _fsync_dir(folder)
    for generation in _generations(folder):
        if generation <= sealed:
            (folder / f"{WAL_PREFIX}{generation:08d}").unlink(missing_ok=True)
    return len(items)


def private_folder(folder: Path) -> None:
    """The state folder, owner-only (0700): it holds the table's snapshot and log, and the local secrets."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
