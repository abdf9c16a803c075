"""Per-clinic request limits: a token bucket per clinic and API (webhook, staff), in memory.

Each Lambda instance keeps its own buckets, so one clinic's burst is capped per instance
(the stage throttling in infra/ caps the whole API). It costs no request to DynamoDB;
a global per-clinic quota would need a counter item per clinic and second.
Rates come from CLINIC_WEBHOOK_RATE and CLINIC_STAFF_RATE (requests per second; the burst
is four times the rate).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache

DEFAULT_RATES = {"webhook": 50.0, "staff": 20.0}
BURST_SECONDS = 4.0
MAX_TRACKED = 10_000  # least recently seen clinics are forgotten first


class ClinicLimiter:
    """Token buckets keyed by (clinic, api)."""

    def __init__(self, rates: dict[str, float], clock: Callable[[], float] = time.monotonic) -> None:
        self._rates, self._clock = rates, clock
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_for(self, clinic_id: str, api: str) -> float:
        """0 when the request may go now, else the seconds until it may (the request is not counted)."""
        rate = self._rates[api]
        burst = rate * BURST_SECONDS
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop((clinic_id, api), (burst, now))
            tokens = min(burst, tokens + (now - last) * rate)
            wait = 0.0 if tokens >= 1 else (1 - tokens) / rate
            self._buckets[(clinic_id, api)] = (tokens - 1 if wait == 0 else tokens, now)
            while len(self._buckets) > MAX_TRACKED:
                self._buckets.popitem(last=False)
        return wait


@lru_cache(maxsize=1)
def limiter() -> ClinicLimiter:
    rates = {api: float(os.environ.get(f"CLINIC_{api.upper()}_RATE", default)) for api, default in
             DEFAULT_RATES.items()}
    return ClinicLimiter(rates)


def api_of(resource_path: str) -> str:
    return "webhook" if resource_path.endswith("/events") or "/connectors/" in resource_path else "staff"


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
