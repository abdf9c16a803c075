"""Request limits: a global one per clinic for verified requests, and one per source for failed ones.

**Per clinic (global, DynamoDB-backed).** Only requests that proved who they are — a valid
webhook signature, a vendor's valid signature or token, a valid staff token or session —
count against their clinic, in fixed windows of WINDOW_S seconds shared by every Lambda
instance: the window's counter is one item (`C#<clinic>#RATE#<api> / W#<window>`), taken
from with a conditional `ADD` (`used <= limit - n`). An instance takes a lease of a few
requests at a time, so the counter costs about one write per LEASE requests, not one per
request. Over the limit: `429` problem+json with `Retry-After` (the window's remaining
seconds). Why not an API Gateway usage plan per clinic: usage plans meter API keys, and the
vendors that post to us (Zadarma, Meta, Telegram, Mango, SMS.ru) cannot send our `x-api-key`;
and a plan's throttle is per key for the whole API, while we want webhook and staff traffic
apart. If DynamoDB cannot be reached the request is let through (and logged): a limiter must
not take the API down. Rates: CLINIC_WEBHOOK_RATE, CLINIC_STAFF_RATE (requests per second).

**Per source (in memory).** A request answered 4xx before anything proved who sent it (bad
signature, unknown or revoked token, unknown clinic, a used login code) is charged to its
source address's bucket in this instance (SOURCE_FAILURE_RATE per second, bursts of four
seconds' worth); an address out of failures is answered 429 until it refills. Unauthenticated
floods so never spend a clinic's budget, and the clinic's own staff and vendors go on.
"""

from __future__ import annotations

import contextvars
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Protocol

from chalicelib.platform.errors import Throttled
from chalicelib.platform.observability import logger

DEFAULT_RATES = {"webhook": 50.0, "staff": 20.0}
WINDOW_S = 10
LEASE = 10  # requests an instance takes from the clinic's window at a time
BURST_SECONDS = 4.0
MAX_TRACKED = 10_000  # least recently seen clinics or sources are forgotten first
DEFAULT_FAILURE_RATE = 5.0

_verified: contextvars.ContextVar[bool] = contextvars.ContextVar("verified", default=False)


class RateCounters(Protocol):
    """Shared counters of fixed windows (one DynamoDB item per clinic, API and window)."""

    def take_rate(self, clinic_id: str, api: str, window: int, n: int, limit: int, expires_at: datetime) -> bool:
        """Add `n` to the window's count if it stays within `limit`; False (nothing added) otherwise."""


class ClinicQuota:
    """The clinics' limits: leases of each clinic's current window, taken from the shared counters."""

    def __init__(self, rates: dict[str, float], counters: Callable[[], RateCounters],
                 clock: Callable[[], float] = time.time, window_s: int = WINDOW_S, lease: int = LEASE) -> None:
        self._limits = {api: max(1, int(rate * window_s)) for api, rate in rates.items()}
        self._counters, self._clock, self._window, self._lease = counters, clock, window_s, lease
        self._leases: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()  # -> (window, left)
        self._spent: set[tuple[str, str, int]] = set()  # windows known to be full
        self._lock = threading.Lock()

    def wait_for(self, clinic_id: str, api: str) -> float:
        """0 when this verified request may go (it is counted), else the seconds until the next window."""
        now = self._clock()
        window = int(now // self._window)
        wait = (window + 1) * self._window - now
        key = (clinic_id, api)
        with self._lock:
            held, left = self._leases.pop(key, (window, 0))
            if held == window and left > 0:
                self._leases[key] = (window, left - 1)
                return 0.0
            if (clinic_id, api, window) in self._spent:
                return wait
        limit = self._limits[api]
        granted = self._take(clinic_id, api, window, min(self._lease, max(1, limit // 20)), limit) or \
            self._take(clinic_id, api, window, 1, limit)
        with self._lock:
            if not granted:
                self._spent = {s for s in self._spent if s[2] >= window}
                self._spent.add((clinic_id, api, window))
                return wait
            self._leases[key] = (window, granted - 1)
            while len(self._leases) > MAX_TRACKED:
                self._leases.popitem(last=False)
        return 0.0

    def _take(self, clinic_id: str, api: str, window: int, n: int, limit: int) -> int:
        expires = datetime.fromtimestamp((window + 2) * self._window + 3600, UTC)
        try:
            taken = self._counters().take_rate(clinic_id, api, window, n, limit, expires)
        except Exception:  # noqa: BLE001 - the limiter fails open: it must not take the API down
            logger.exception("rate counter unavailable; request let through", extra={"clinic_id": clinic_id})
            return n
        return n if taken else 0


class SourceLimiter:
    """Token buckets keyed by source address, for requests that failed to prove who sent them."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._burst, self._clock = rate, rate * BURST_SECONDS, clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, source: str, now: float) -> float:
        tokens, last = self._buckets.pop(source, (self._burst, now))
        return min(self._burst, tokens + (now - last) * self._rate)

    def wait_for(self, source: str) -> float:
        """0 while the source has failures left, else the seconds until it has one (nothing is charged)."""
        now = self._clock()
        with self._lock:
            tokens = self._level(source, now)
            self._buckets[source] = (tokens, now)
        return 0.0 if tokens >= 1 else (1 - tokens) / self._rate

    def charge(self, source: str) -> None:
        """One more failed request from `source`."""
        now = self._clock()
        with self._lock:
            self._buckets[source] = (max(0.0, self._level(source, now) - 1), now)
            while len(self._buckets) > MAX_TRACKED:
                self._buckets.popitem(last=False)


def _rates() -> dict[str, float]:
    return {api: float(os.environ.get(f"CLINIC_{api.upper()}_RATE", default)) for api, default in
            DEFAULT_RATES.items()}


_counters: list[Callable[[], RateCounters]] = []


def count_in(counters: Callable[[], RateCounters]) -> None:
    """Where the clinics' counters live (the app's table): the composition root says so, so that
    the edge does not reach up for it."""
    _counters[:] = [counters]
    quota.cache_clear()


def _installed_counters() -> RateCounters:
    if not _counters:
        raise RuntimeError("no counters for the clinics' limits: import chalicelib.handlers.wiring first")
    return _counters[0]()


@lru_cache(maxsize=1)
def quota() -> ClinicQuota:
    return ClinicQuota(_rates(), _installed_counters)


@lru_cache(maxsize=1)
def sources() -> SourceLimiter:
    return SourceLimiter(float(os.environ.get("SOURCE_FAILURE_RATE", DEFAULT_FAILURE_RATE)))


def admit(clinic_id: str, api: str) -> None:
    """A verified request of `clinic_id`: counted against its limit, or Throttled (429 with Retry-After)."""
    _verified.set(True)
    wait = quota().wait_for(clinic_id[:128], api)
    if wait > 0:
        raise Throttled(retry_after(wait), "this clinic is sending faster than its limit; retry after the pause")


def verified() -> None:
    """A request proved who sent it without a clinic to count it against (an operator, a login page)."""
    _verified.set(True)


def start_request() -> contextvars.Token[bool]:
    return _verified.set(False)


def end_request(token: contextvars.Token[bool]) -> None:
    _verified.reset(token)


def was_verified() -> bool:
    return _verified.get()


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
