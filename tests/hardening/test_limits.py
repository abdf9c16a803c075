"""Per-clinic request limits: one clinic's burst is answered 429 problem+json; other clinics go on."""

from __future__ import annotations

import pytest

from chalicelib import limits
from chalicelib.limits import ClinicLimiter
from tests.harness import Harness, load_event


def test_a_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    limiter = ClinicLimiter({"webhook": 2.0, "staff": 1.0}, clock=lambda: now[0])
    assert [limiter.wait_for("c1", "webhook") for _ in range(8)] == [0.0] * 8  # a burst of 4 s x 2/s
    assert limiter.wait_for("c1", "webhook") == pytest.approx(0.5)
    assert limiter.wait_for("c2", "webhook") == 0.0  # another clinic has its own bucket
    assert limiter.wait_for("c1", "staff") == 0.0  # and so has the other API
    now[0] += 0.5
    assert limiter.wait_for("c1", "webhook") == 0.0


def test_a_clinic_over_its_limit_gets_429_and_the_others_do_not(stack: Harness,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    tight = ClinicLimiter({"webhook": 1.0, "staff": 0.5}, clock=lambda: 0.0)
    monkeypatch.setattr(limits, "limiter", lambda: tight)
    other = stack.new_clinic("Другая")
    answers = [stack.signed(load_event("call.missed"), webhook_id=f"burst-{n}").status for n in range(5)]
    assert answers == [202, 202, 202, 202, 429]  # a burst of four seconds at 1/s, then the limit
    limited = stack.signed(load_event("call.missed"))
    assert limited.status == 429 and limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) >= 1
    assert stack.signed(load_event("call.missed"), clinic=other).status == 202
    staff = [stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/tasks", token=stack.clinic.admin_token)
             .status for _ in range(3)]
    assert staff == [200, 200, 429]
