"""A warm Lambda's caches stay bounded whatever strings clients present as tokens or clinic ids."""

from __future__ import annotations

import secrets
import tracemalloc

import cachetools
import pytest

import chalicelib.edge.auth as auth_module
from chalicelib.core.runtime import Runtime
from chalicelib.edge.auth import _CACHE_SIZE, Authenticator, Staff, token_hash
from chalicelib.platform.errors import NotFound, Unauthorized
from chalicelib.platform.settings import get_settings
from tests.fakes import FakeQueue, FakeWorkflows, MemoryRecords

MANAGER = Staff(role="manager", clinic_id="c1", token_id="t1")


def authenticator(lookups: list[int]) -> Authenticator:
    known = {token_hash("good-token"): MANAGER}

    def lookup(digest: str) -> Staff | None:
        lookups[0] += 1
        return known.get(digest)

    return Authenticator(lookup, lambda: frozenset())


def garbage(count: int, auth: Authenticator) -> None:
    for _ in range(count):
        with pytest.raises(Unauthorized):
            auth.staff(f"Bearer {secrets.token_urlsafe(32)}")


def _held_by_the_cache(snapshot: tracemalloc.Snapshot) -> int:
    """Bytes still held that were allocated with the authenticator or its cache on the stack.

    Only those: xdist workers and other tests' threads allocate in the same process meanwhile.
    """
    mine = [tracemalloc.Filter(True, auth_module.__file__),
            tracemalloc.Filter(True, cachetools.__file__.rsplit("/", 1)[0] + "/*")]
    return sum(stat.size for stat in snapshot.filter_traces(mine).statistics("filename"))


def test_random_tokens_cannot_grow_the_token_cache() -> None:
    lookups = [0]
    auth = authenticator(lookups)
    tracemalloc.start()
    try:
        garbage(_CACHE_SIZE, auth)
        full = _held_by_the_cache(tracemalloc.take_snapshot())
        garbage(3 * _CACHE_SIZE, auth)
        later = _held_by_the_cache(tracemalloc.take_snapshot())
    finally:
        tracemalloc.stop()
    grown = later - full
    assert auth.cached <= _CACHE_SIZE
    # Three times more garbage after the cache filled up costs less than a third of the fill itself
    # (an unbounded dict would have cost three times as much).
    assert full > 0
    assert grown < full / 3, f"memory grew by {grown} bytes after the cache was full ({full} bytes)"
    assert lookups[0] == 4 * _CACHE_SIZE  # each unknown token was looked up, none served from thin air


def test_a_known_token_is_served_from_the_cache_and_forgotten_on_revocation() -> None:
    lookups = [0]
    auth = authenticator(lookups)
    assert auth.staff("Bearer good-token") == MANAGER
    assert auth.staff("Bearer good-token") == MANAGER
    assert lookups[0] == 1
    auth.forget(token_hash("good-token"))
    auth.staff("Bearer good-token")
    assert lookups[0] == 2


def test_unknown_clinic_ids_are_not_cached() -> None:
    """A store that knows no clinic: what random clinic ids in URLs find."""
    rt = Runtime(get_settings(), MemoryRecords(), FakeWorkflows(), FakeQueue(), FakeQueue(), FakeQueue())
    for _ in range(5000):
        with pytest.raises(NotFound):
            rt.clinic(secrets.token_hex(8))
    assert len(rt._clinics) == 0
