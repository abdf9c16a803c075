"""Login links are one-time and short-lived; sessions end after inactivity, with age, on sign-out, and at once
on revocation; the staff token never travels in a URL. Edge tier: the real routes over memory, a moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.edge import Edge, edge_app


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Iterator[Edge]:
    with edge_app(monkeypatch, clock) as app:
        yield app


def issue(edge: Edge, role: str = "admin", admin_id: str | None = "U-1") -> dict[str, Any]:
    issued = edge.request("POST", f"/v1/clinics/{edge.clinic.clinic_id}/staff",
                          {"role": role, "admin_id": admin_id, "name": "Ольга"}, token=edge.clinic.manager_token)
    assert issued.status == 201, issued.body
    return dict(issued.body)


def exchange(edge: Edge, **body: str) -> Any:
    return edge.request("POST", "/v1/sessions", body)


def me(edge: Edge, token: str) -> int:
    return edge.request("GET", "/v1/me", token=token).status


def test_a_login_link_carries_a_one_time_code_not_the_token(edge: Edge) -> None:
    issued = issue(edge)
    link = issued["login_link"]
    assert link["url"].endswith(f"/desk#code={link['code']}") and issued["token"] not in link["url"]
    session = exchange(edge, code=link["code"])
    assert session.status == 201 and session.body["session_token"].startswith("cf_ses_")
    assert (session.body["role"], session.body["page"], session.body["idle_minutes"]) == ("admin", "desk", 120)
    who = edge.request("GET", "/v1/me", token=session.body["session_token"]).body
    assert (who["role"], who["admin_id"], who["clinic_id"]) == ("admin", "U-1", edge.clinic.clinic_id)

    again = exchange(edge, code=link["code"])
    assert again.status == 410 and again.body["reason"] == "used"
    assert again.headers["content-type"] == "application/problem+json"
    assert exchange(edge, code="lc_not-a-code").body["reason"] == "unknown"
    manager = issue(edge, role="manager", admin_id=None)["login_link"]
    assert manager["page"] == "console" and "/console#code=" in manager["url"]


def test_a_link_expires_within_minutes(edge: Edge, clock: Clock) -> None:
    link = issue(edge)["login_link"]
    clock.now += timedelta(minutes=15, seconds=1)
    expired = exchange(edge, code=link["code"])
    assert expired.status == 410 and expired.body["reason"] == "expired"


def test_a_session_lives_while_used_and_ends_after_inactivity_or_age(edge: Edge, clock: Clock) -> None:
    session = exchange(edge, code=issue(edge)["login_link"]["code"]).body["session_token"]
    for _ in range(5):  # a desk open all afternoon: a request every 100 minutes keeps it
        clock.now += timedelta(minutes=100)
        assert me(edge, session) == 200
    clock.now += timedelta(minutes=121)
    ended = edge.request("GET", "/v1/me", token=session)
    assert ended.status == 401 and "sign in again" in ended.body["detail"]

    busy = exchange(edge, code=issue(edge)["login_link"]["code"]).body["session_token"]
    for _ in range(12):  # busy all day, but no session outlives twelve hours
        clock.now += timedelta(minutes=60)
        assert me(edge, busy) == (200 if _ < 11 else 401)


def test_revoking_the_staff_token_ends_its_sessions_at_once(edge: Edge) -> None:
    issued = issue(edge)
    first = exchange(edge, code=issued["login_link"]["code"]).body["session_token"]
    link = edge.request("POST", f"/v1/clinics/{edge.clinic.clinic_id}/staff/{issued['token_id']}/login-link",
                        token=edge.clinic.manager_token)
    assert link.status == 201
    second = exchange(edge, code=link.body["code"]).body["session_token"]
    unused = edge.request("POST", f"/v1/clinics/{edge.clinic.clinic_id}/staff/{issued['token_id']}/login-link",
                          token=edge.clinic.manager_token).body["code"]
    assert me(edge, first) == me(edge, second) == 200
    revoked = edge.request("DELETE", f"/v1/clinics/{edge.clinic.clinic_id}/staff/{issued['token_id']}",
                           token=edge.clinic.manager_token)
    assert revoked.status == 200 and revoked.body["sessions_ended"] == 2
    assert me(edge, first) == me(edge, second) == 401
    assert exchange(edge, code=unused).body["reason"] == "revoked"


def test_a_session_survives_a_stale_index_because_the_token_is_checked(edge: Edge) -> None:
    """Revocation deletes the sessions it finds through an index that may lag; each request also checks that the
    session's staff token still stands (read strongly consistent), so none outlives it."""
    issued = issue(edge)
    session = exchange(edge, code=issued["login_link"]["code"]).body["session_token"]
    edge.store.remove_token(next(i.digest for i in edge.store.staff_tokens(edge.clinic.clinic_id)
                                 if i.token_id == issued["token_id"]))  # revoked; the session itself still stored
    assert me(edge, session) == 401


def test_signing_out_and_signing_in_with_a_typed_token(edge: Edge) -> None:
    issued = issue(edge)
    typed = exchange(edge, token=issued["token"])
    assert typed.status == 201
    session = typed.body["session_token"]
    assert edge.request("DELETE", "/v1/sessions/current", token=session).status == 204
    assert me(edge, session) == 401
    assert exchange(edge, token="cf_adm_forged").status == 401
    assert exchange(edge).status == 422 and exchange(edge, code="x", token="y").status == 422

    own = edge.request("POST", "/v1/me/login-link", token=issued["token"])
    assert own.status == 201 and issued["token"] not in own.body["url"]
    assert exchange(edge, code=own.body["code"]).body["role"] == "admin"
