"""The records port's named queries, raw events, staff access, deliveries and rate windows: the DynamoDB
repository (moto in process) and the in-memory fake answer alike, so a service tested on the fake behaves the
same deployed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from chalicelib.domain.raw_events import DigestDelivery, RawEvent
from chalicelib.domain.records import CallTask, Patient, TaskStatus, WaitlistEntry
from chalicelib.domain.staff_access import LoginCode, StaffSession, StaffToken
from chalicelib.platform.errors import InvalidInput
from chalicelib.platform.settings import get_settings
from chalicelib.ports import Records, UnitOfWork
from chalicelib.store.repository import Repository
from chalicelib.store.schema import create_table_kwargs
from tests.fakes import MemoryRecords

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["dynamodb", "memory"])
def store(request: pytest.FixtureRequest) -> Iterator[Records]:
    if request.param == "memory":
        yield MemoryRecords()
        return
    settings = get_settings()
    with mock_aws():
        boto3.client("dynamodb", region_name=settings.region).create_table(**create_table_kwargs(settings.table_name))
        yield Repository()


def _event(event_id: str, at: datetime, clinic_id: str = "c1", status: str = "pending") -> RawEvent:
    return RawEvent(clinic_id, event_id, event_type="call.missed", body="{}", occurred_at=at.isoformat(),
                    received_at=at.isoformat(), status=status, since=at)


def test_an_event_is_stored_once_listed_while_it_waits_and_applied_by_a_commit(store: Records) -> None:
    assert store.add_event(_event("e1", NOW)) and not store.add_event(_event("e1", NOW + timedelta(hours=1)))
    assert store.add_event(_event("e2", NOW + timedelta(minutes=5)))
    assert store.add_event(_event("x1", NOW, clinic_id="c2"))  # another clinic's
    assert [e.event_id for e in store.events_waiting("c1", "pending")] == ["e1", "e2"]
    assert [e.event_id for e in store.events_waiting("c1", "pending", NOW + timedelta(minutes=1))] == ["e1"]
    work = UnitOfWork("c1")
    work.applied_event = "e1"
    store.commit(work, NOW)
    applied = store.event("c1", "e1")
    assert applied is not None and (applied.status, applied.since) == ("applied", None) and applied.applied_at
    assert [e.event_id for e in store.events_waiting("c1", "pending")] == ["e2"]
    assert [e.event_id for e in store.event_history("c1")] == ["e1", "e2"]
    assert store.event("c2", "x1") is not None and store.event("c1", "x1") is None  # one clinic never sees another's


def test_failed_events_page_by_cursor_and_an_ignored_payload_is_no_event_of_ours(store: Records) -> None:
    for n in range(3):
        store.add_event(_event(f"f{n}", NOW + timedelta(minutes=n)))
        failed = store.event("c1", f"f{n}")
        assert failed is not None
        failed.status, failed.attempts, failed.reason_code = "failed", 8, "internal"
        store.save_event(failed)
    store.add_event(_event("ig", NOW, status="ignored"))
    first, cursor = store.event_page("c1", "failed", 2)
    rest, end = store.event_page("c1", "failed", 2, cursor)
    assert [e.event_id for e in first + rest] == ["f0", "f1", "f2"] and cursor and end is None
    assert {(e.attempts, e.reason_code) for e in first + rest} == {(8, "internal")}
    assert store.events_waiting("c1", "pending") == []
    assert [e.event_id for e in store.events_waiting("c1", "ignored")] == ["ig"]
    assert [e.event_id for e in store.event_page("c1", "all", 10)[0]] == ["f0", "f1", "f2"]
    with pytest.raises(InvalidInput):
        store.event_page("c1", "all", 2, cursor)  # a cursor of another list


def test_staff_tokens_login_codes_and_sessions(store: Records) -> None:
    for digest, role, token_id in (("d-admin", "admin", "t2"), ("d-manager", "manager", "t1")):
        store.add_token(StaffToken(digest, "c1", role, token_id, created_at=NOW.isoformat(), name="Ольга"))
    assert [t.role for t in store.staff_tokens("c1")] == ["admin", "manager"] and store.staff_tokens("c2") == []
    token = store.token("d-manager")
    assert token is not None and (token.token_id, token.name) == ("t1", "Ольга") and store.token_stands("d-admin")
    store.add_login_code(LoginCode("code", "c1", "d-admin", "desk", NOW.isoformat(),
                                   (NOW + timedelta(minutes=15)).isoformat(), forget_at=NOW + timedelta(days=1)))
    assert store.use_login_code("code", NOW) and not store.use_login_code("code", NOW)
    code = store.login_code("code")
    assert code is not None and code.used_at == NOW.isoformat() and not store.use_login_code("other", NOW)
    for digest in ("s1", "s2"):
        store.add_session(StaffSession(digest, "c1", "t2", "d-admin", "admin", NOW.isoformat(), NOW.isoformat(),
                                       (NOW + timedelta(hours=12)).isoformat()))
    store.touch_session("s1", NOW + timedelta(minutes=3))
    session = store.session("s1")
    assert session is not None and session.last_seen_at == (NOW + timedelta(minutes=3)).isoformat()
    assert sorted(s.digest for s in store.sessions_of("c1", "t2")) == ["s1", "s2"]
    store.end_session("s1")
    store.touch_session("s1", NOW)  # a request racing the sign-out does not bring it back
    assert store.session("s1") is None and [s.digest for s in store.sessions_of("c1", "t2")] == ["s2"]
    store.remove_token("d-admin")
    assert store.token("d-admin") is None and not store.token_stands("d-admin")


def test_a_delivery_is_claimed_once_per_attempt_and_a_networks_is_its_own(store: Records) -> None:
    day = date(2026, 11, 24)
    claim = DigestDelivery("c1", day, "email", "sending", attempts=1, sent_at=NOW.isoformat())
    assert store.claim_delivery(claim, None) and not store.claim_delivery(claim, None)
    retry = DigestDelivery("c1", day, "email", "sending", attempts=2, sent_at=NOW.isoformat())
    assert store.claim_delivery(retry, 1) and not store.claim_delivery(retry, 1)
    store.save_delivery(DigestDelivery("c1", day, "email", "sent", attempts=2, sent_at=NOW.isoformat()))
    found = store.delivery("c1", day, "email")
    assert found is not None and (found.status, found.attempts) == ("sent", 2)
    assert store.delivery("c1", day, "email", network=True) is None and store.delivery("c1", day, "slack") is None
    assert store.claim_delivery(DigestDelivery("c1", day, "email", "sending", network=True, attempts=1), None)


def test_a_rate_window_takes_all_of_a_lease_within_its_limit_or_nothing(store: Records) -> None:
    taken = [store.take_rate("c1", "webhook", 7, n, 10, NOW) for n in (4, 4, 4, 2, 1)]
    assert taken == [True, True, False, True, False]
    assert store.take_rate("c1", "webhook", 8, 10, 10, NOW) and store.take_rate("c2", "webhook", 7, 10, 10, NOW)


# ---- named queries over records ---------------------------------------------------------------------------

def _task(task_id: str, due_in_minutes: int, status: TaskStatus = "open", patient_id: str = "p1") -> CallTask:
    due = NOW + timedelta(minutes=due_in_minutes)
    return CallTask(clinic_id="c1", id=task_id, scenario="missed_call", patient_id=patient_id, created_at=NOW,
                    due_at=due, overdue_at=due + timedelta(hours=1), status=status,
                    closed_at=due if status != "open" else None, subject_key=f"P#{patient_id}")


def test_tasks_subjects_recalls_and_the_waitlist_are_named_queries(store: Records) -> None:
    work = UnitOfWork("c1")
    for record in (_task("t1", 30), _task("t2", 10), _task("t3", 20), _task("d1", 5, "done"), _task("d2", 15, "done"),
                   _task("t9", 0, patient_id="p2"),
                   Patient(clinic_id="c1", id="p1", recall_due=date(2026, 12, 1)),
                   Patient(clinic_id="c1", id="p3", recall_due=date(2026, 12, 3)),
                   WaitlistEntry(clinic_id="c1", id="p1", patient_id="p1")):
        work.save(record)
    store.commit(work, NOW)
    assert [t.id for t in store.open_tasks("c1")] == ["t9", "t2", "t3", "t1"]  # soonest due first
    assert [t.id for t in store.open_tasks("c1", limit=2)] == ["t9", "t2"]
    assert [t.id for t in store.closed_tasks("c1")] == ["d2", "d1"]  # latest closed first
    page, cursor = store.task_page("c1", "open", 3)
    rest, end = store.task_page("c1", "open", 3, cursor)
    assert [t.id for t in page + rest] == ["t9", "t2", "t3", "t1"] and end is None
    with pytest.raises(InvalidInput):
        store.task_page("c1", "done", 3, cursor)  # the open list's cursor
    assert sorted(r.id for r in store.subject("c1", "P#p1")) == ["p1", "t1", "t2", "t3"]  # closed tasks leave it
    assert store.in_subject(_task("t4", 0), "P#p1") and not store.in_subject(_task("d3", 0, "done"), "P#p1")
    assert [p.id for p in store.recalls_due("c1", date(2026, 12, 2))] == ["p1"]
    assert [e.patient_id for e in store.waitlist("c1")] == ["p1"] and store.waitlist("c2") == []
    assert store.open_tasks("c2") == [] and store.subject("c2", "P#p1") == []
