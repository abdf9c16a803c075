"""Index-keyed Query for moto's DynamoDB, for the local stack and tests only.

moto 5.2.5 answers every Query — on the table or on an index — by sorting *all* of the table's
items (`Table.all_items`) and then filtering them, so each query costs time proportional to the
table, whatever it asks for: clinic A's burst of 1,000 items made clinic B's queries three times
slower (docs/reliability.md, "Fair across clinics"). Here moto's own `Table.query` still does all
the work — key conditions, ordering, ScanIndexForward, Limit, pages, filters, projections — but
is handed, as "all items", only the items that share the queried hash key, in the order
`all_items` would have listed them. For the table those are `items[hash]`; for an index, a map
kept per table (index hash key values → primary keys) that every write path of moto refreshes
(`Table.put_item`, `Table.delete_item`, `DynamoDBBackend.update_item`; transactions, batches and
PartiQL go through them). An item lacking an index's hash key is not in that index's map, as a
sparse index has it. Lambda never imports this module.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_KEY_TYPES = ("S", "N", "B")
PrimaryKey = tuple[Any, Any]  # (hash DynamoType, range DynamoType | None)
_ORIGINAL: dict[str, Callable[..., Any]] = {}
_POSTINGS: weakref.WeakKeyDictionary[Any, _Postings] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _index_hash_keys(table: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((index.name, tuple(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"))
                 for index in table.all_indexes())


def _stored(table: Any, key: PrimaryKey) -> Any:
    """The item stored under this primary key, or None — without adding to moto's defaultdict."""
    held = table.items.get(key[0])
    if held is not None and key[1] is not None:
        held = held.get(key[1])
    return held if _is_item(held) else None


def _is_item(value: Any) -> bool:
    """moto's `items` is a defaultdict: a read of a missing key can leave an empty dict where an item goes."""
    from moto.dynamodb.models.dynamo_type import Item

    return isinstance(value, Item)


def _held(table: Any, held: Any) -> list[Any]:
    """The items under one hash key (a dict of them by range key, or the item itself)."""
    values = list(held.values()) if table.range_key_attr and isinstance(held, dict) else [held]
    return [item for item in values if _is_item(item)]


class _Postings:
    """One table's map: index name → index hash key values → primary keys of the items carrying them."""

    def __init__(self, table: Any) -> None:
        self.lock = threading.RLock()
        self.layout = _index_hash_keys(table)
        self.by_index: dict[str, dict[tuple[Any, ...], set[PrimaryKey]]] = {name: {} for name, _ in self.layout}
        self.indexed: dict[PrimaryKey, list[tuple[str, tuple[Any, ...]]]] = {}
        for held in list(table.items.values()):
            for item in _held(table, held):
                self._add((item.hash_key, item.range_key), item)

    def _add(self, key: PrimaryKey, item: Any) -> None:
        entries = []
        for name, attrs in self.layout:
            values = tuple(item.attrs.get(attr) for attr in attrs)
            if all(v is not None and v.type in _KEY_TYPES for v in values):
                self.by_index[name].setdefault(values, set()).add(key)
                entries.append((name, values))
        if entries:
            self.indexed[key] = entries

    def refresh(self, table: Any, key: PrimaryKey) -> None:
        """Forget what this key was indexed under, then index what is stored there now."""
        with self.lock:
            for name, values in self.indexed.pop(key, []):
                keys = self.by_index[name].get(values)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del self.by_index[name][values]
            item = _stored(table, key)
            if item is not None:
                self._add(key, item)

    def keys(self, index_name: str, values: tuple[Any, ...]) -> list[PrimaryKey]:
        with self.lock:
            return list(self.by_index[index_name].get(values, ()))


def _postings(table: Any) -> _Postings:
    """Built on a table's first index query; built again if its indexes changed (UpdateTable)."""
    with _GUARD:
        postings = _POSTINGS.get(table)
        if postings is None or postings.layout != _index_hash_keys(table):
            postings = _POSTINGS[table] = _Postings(table)
        return postings


def forget(table: Any) -> None:
    """For code that writes `table.items` directly (the local stack's recovery): rebuild on the next query."""
    with _GUARD:
        _POSTINGS.pop(table, None)


def _refresh(table: Any, key: PrimaryKey) -> None:
    postings = _POSTINGS.get(table)
    if postings is not None:
        postings.refresh(table, key)


def _in_table_order(items: list[Any]) -> list[Any]:
    """`Table.all_items`'s order (primary keys are unique, so a subset keeps its relative order)."""
    return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)


def _candidates(table: Any, hash_key: Any, index_name: str | None,
                hash_key_conditions: list[tuple[str, Any]] | None) -> list[Any] | None:
    """Every item the query could return, or None when only moto's full read can say (then it does)."""
    if not index_name:
        if hash_key is None or hash_key.type not in _KEY_TYPES:
            return None
        held = table.items.get(hash_key)
        return [] if held is None else _in_table_order(_held(table, held))
    layout = dict(_index_hash_keys(table))
    conditions = dict(hash_key_conditions or [])
    if index_name not in layout or set(conditions) != set(layout[index_name]):
        return None
    values = tuple(conditions[attr] for attr in layout[index_name])
    if any(v.type not in _KEY_TYPES for v in values):
        return None
    found = (_stored(table, key) for key in _postings(table).keys(index_name, values))
    return _in_table_order([item for item in found if item is not None])


class _Narrowed:
    """The table as moto's `Table.query` sees it, with `all_items` narrowed to the candidates."""

    def __init__(self, table: Any, items: list[Any]) -> None:
        self._table, self._items = table, items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        return self._items


@functools.cache
def _signature(function: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(function)


def _query(self: Any, *args: Any, **kwargs: Any) -> Any:
    original = _ORIGINAL["query"]
    bound = _signature(original).bind(self, *args, **kwargs).arguments
    candidates = _candidates(self, bound.get("hash_key"), bound.get("index_name"),
                             bound.get("hash_key_conditions"))
    return original(self if candidates is None else _Narrowed(self, candidates), *args, **kwargs)


def _put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return _ORIGINAL["put_item"](self, item_attrs, *args, **kwargs)
    finally:
        if self in _POSTINGS:
            from moto.dynamodb.models.dynamo_type import DynamoType

            try:
                key = (DynamoType(item_attrs[self.hash_key_attr]),
                       DynamoType(item_attrs[self.range_key_attr]) if self.range_key_attr else None)
            except (KeyError, TypeError):
                key = None  # refused before anything was stored
            if key is not None:
                _refresh(self, key)


def _delete_item(self: Any, hash_key: Any, range_key: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return _ORIGINAL["delete_item"](self, hash_key, range_key, *args, **kwargs)
    finally:
        _refresh(self, (hash_key, range_key or None))


def _update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
    """moto changes an existing item's attributes in place, so its index entries are refreshed here."""
    try:
        return _ORIGINAL["update_item"](self, table_name, key, *args, **kwargs)
    finally:
        try:
            table = self.get_table(table_name)
            hash_value, range_value = self.get_keys_value(table, key)
        except Exception:  # noqa: BLE001 - no such table or key: nothing was written
            table = None
        if table is not None:
            _refresh(table, (hash_value, range_value))


def install() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if _ORIGINAL:
        return
    _ORIGINAL.update(query=Table.query, put_item=Table.put_item, delete_item=Table.delete_item,
                     update_item=DynamoDBBackend.update_item)
    Table.query = _query  # type: ignore[method-assign]
    Table.put_item = _put_item  # type: ignore[method-assign]
    Table.delete_item = _delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = _update_item  # type: ignore[method-assign]


@contextmanager
def moto_own_query() -> Iterator[None]:
    """Queries answered by moto's own full read for a while; the writes keep the map up meanwhile
    (tests and bench/moto_query.py compare the two)."""
    from moto.dynamodb.models.table import Table

    patched = Table.query
    Table.query = _ORIGINAL.get("query", patched)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = patched  # type: ignore[method-assign]
