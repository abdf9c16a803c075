"""A setting whose empty value means something survives being stored: `holidays_country: null` (a clinic that
works on public holidays) must not come back as the default calendar, "RU"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chalicelib.domain.records import Clinic
from tests.edge import Edge, edge_app


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch) -> Iterator[Edge]:
    with edge_app(monkeypatch) as app:
        yield app


def test_no_public_holidays_stays_no_public_holidays(edge: Edge) -> None:
    path = f"/v1/clinics/{edge.clinic.clinic_id}/settings"
    current = edge.request("GET", path, token=edge.clinic.manager_token).body
    current["holidays_country"] = "RU"
    assert edge.request("PUT", path, current, token=edge.clinic.manager_token).body["holidays_country"] == "RU"
    saved = edge.request("PUT", path, {**current, "holidays_country": None}, token=edge.clinic.manager_token)
    assert saved.status == 200 and saved.body["holidays_country"] is None
    assert edge.request("GET", path, token=edge.clinic.manager_token).body["holidays_country"] is None
    stored = edge.store.get(Clinic, edge.clinic.clinic_id, edge.clinic.clinic_id)
    assert stored is not None and stored.settings.holidays_country is None
