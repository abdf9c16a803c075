"""Shared fixtures: an in-process AWS (moto, state machines executed) provisioned by the
same code as `make run`, the Chalice test client, and helpers to sign events and pump queues."""

from __future__ import annotations

import os

# Before anything imports boto3, PynamoDB or the app: a fake account, a test prefix.
from embedded.inprocess import testing_environment

testing_environment()
os.environ.update({"TIMING_CALL_TIMEOUT_S": "600", "TIMING_CALL_HEARTBEAT_S": "300",
                   "OUTBOUND_ALLOW_HOSTS": "127.0.0.1",  # the capturing servers stand in for Slack and providers
                   "CLINIC_WEBHOOK_RATE": "100000", "CLINIC_STAFF_RATE": "100000",  # tests/hardening test the limits
                   "SOURCE_FAILURE_RATE": "100000"})


def _shift_the_calendar() -> None:
    """CLINICFLOW_SHIFT_DAYS=N runs the suite N days from today (`make test` runs it a year ahead and back).

    The clock keeps ticking and threads still wait in real time, so moto's Wait states work
    (libfaketime hangs them). Subprocess stacks are not shifted: run in-process tiers this way.
    """
    days = os.environ.get("CLINICFLOW_SHIFT_DAYS")
    if days:
        from datetime import UTC, datetime, timedelta

        import time_machine

        time_machine.travel(datetime.now(UTC) + timedelta(days=int(days)), tick=True).start()


_shift_the_calendar()

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from tests.harness import Harness, start_harness  # noqa: E402


@pytest.fixture
def stack() -> Iterator[Harness]:
    """A fresh in-process AWS with every resource, the app wired to it, and one clinic."""
    with start_harness() as harness:
        yield harness


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> os.PathLike[str]:
    """Where a test saves what a person should look at (screenshots, rendered email)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "test-output" / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def zadarma_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Zadarma's user API as a local fake server; the app's connector confirms calls through it."""
    from chalicelib.connectors.zadarma_api import ZadarmaApi
    from chalicelib.handlers import wiring
    from embedded.fake_zadarma import FakeZadarma

    fake = FakeZadarma()
    api = ZadarmaApi(fake.url)
    monkeypatch.setattr(wiring, "vendor_api", lambda vendor: api)
    try:
        yield fake
    finally:
        fake.close()


from tests.local_stack import local_stack  # noqa: E402,F401 - the `make run` stack, for end-to-end tests
