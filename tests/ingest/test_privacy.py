"""Patient data stays out of logs, on the happy path and when things fail."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from chalicelib.platform.observability import logger
from tests import builders as b
from tests.harness import Harness


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Everything the app logs, formatted exactly as CloudWatch would receive it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    logger.setLevel("DEBUG")
    yield stream
    logging.getLogger(logger.name).removeHandler(handler)
    logger.setLevel("WARNING")


def test_no_names_phones_or_texts_in_logs(stack: Harness, log_output: io.StringIO,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.engine import appliers as events

    original = events.APPLIERS["lead.created"]
    calls = {"n": 0}

    def failing_once(ctx, event):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("temporary failure")
        original(ctx, event)

    monkeypatch.setitem(events.APPLIERS, "lead.created", failing_once)
    stack.signed(b.patient(name="Кузнецова Вера Павловна", phone="+79035551122"))
    stack.signed(b.missed_call(phone="+79035551122"))
    stack.signed(b.lead("L-9", phone="+79035551122"))
    stack.signed(b.message("Моя карта 4276 0000 1111 2222, перезвоните", sender="+79035551122"))
    logger.info("a line with personal keys", extra={"phone": "+79035551122", "full_name": "Кузнецова"})
    stack.settle(until=lambda: len(stack.tasks()) >= 2)
    text = log_output.getvalue()
    assert "event failed to apply" in text and "event accepted" in text, "the test must see real log lines"
    for secret in ("79035551122", "Кузнецова", "Вера", "4276", "перезвоните"):
        assert secret not in text, secret
