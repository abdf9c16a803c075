"""Pytest fixtures for the fake vendors: one fresh server per test, stopped after it.

Use them from any test folder by importing the fixture names into that folder's conftest.py
(`from tests.vendor_fakes.fixtures import fake_whatsapp`); `pytest_plugins` would only work in
the top-level tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.vendor_fakes.mango import FakeMango
from tests.vendor_fakes.smsru import FakeSmsRu
from tests.vendor_fakes.telegram import FakeTelegram
from tests.vendor_fakes.whatsapp import FakeWhatsApp
from tests.vendor_fakes.zadarma import FakeZadarma


@pytest.fixture
def fake_whatsapp() -> Iterator[FakeWhatsApp]:
    with FakeWhatsApp() as fake:
        yield fake


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def fake_smsru() -> Iterator[FakeSmsRu]:
    with FakeSmsRu() as fake:
        yield fake


@pytest.fixture
def fake_zadarma() -> Iterator[FakeZadarma]:
    with FakeZadarma() as fake:
        yield fake


@pytest.fixture
def fake_mango() -> Iterator[FakeMango]:
    with FakeMango() as fake:
        yield fake
