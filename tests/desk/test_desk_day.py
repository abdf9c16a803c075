"""The desk's day: an outcome held 10 s for «Отменить», answers in the patient's thread, choices from the card."""

from __future__ import annotations

from typing import Any

from tests import builders as b
from tests.harness import Harness


def _task(stack: Harness) -> dict[str, Any]:
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    return stack.settle(until=lambda: next(iter(stack.tasks()), None))


def _held(stack: Harness, task_id: str, body: dict[str, Any], token: str | None = None) -> Any:
    return stack.request("POST", f"/v1/clinics/{stack.clinic.clinic_id}/tasks/{task_id}/outcome?undo=1", body,
                         token=token or stack.clinic.admin_token)


def test_an_undone_outcome_never_counts_and_a_kept_one_is_applied_by_the_server(stack: Harness) -> None:
    task = _task(stack)
    path = f"/v1/clinics/{stack.clinic.clinic_id}/tasks/{task['id']}/outcome"
    held = _held(stack, task["id"], {"outcome": "booked"})
    assert held.status == 202 and held.body["pending"] == {"outcome": "booked"} and held.body["status"] == "open"
    undone = stack.request("DELETE", path, token=stack.clinic.admin_token)
    assert undone.status == 200 and undone.body["pending"] is None
    stack.settle()  # the held outcome's queue message comes and finds nothing to apply
    assert [t["id"] for t in stack.tasks()] == [task["id"]] and stack.tasks("done") == []

    assert _held(stack, task["id"], {"outcome": "no_answer"}).status == 202
    # nobody on the page any more: the server applies it when the 10 seconds are over
    done = stack.settle(until=lambda: stack.tasks("done"), timeout=30)[0]
    assert (done["id"], done["outcome"]) == (task["id"], "no_answer")
    stack.settle(until=lambda: [t for t in stack.tasks() if t["line"] == "mobile"])
    assert stack.request("DELETE", path, token=stack.clinic.admin_token).status == 409  # it counted


def test_a_held_outcome_is_checked_like_a_recorded_one(stack: Harness) -> None:
    task = _task(stack)
    refused = _held(stack, task["id"], {"outcome": "declined"})
    assert refused.status == 422 and refused.body["errors"][0]["field"] == "reason"
    assert _held(stack, "no-such-task", {"outcome": "booked"}).status == 404


def test_a_reply_goes_through_the_clinics_channel_and_shows_in_the_thread(stack: Harness) -> None:
    stack.signed(b.patient())
    stack.signed(b.message("Можно перенести запись?"))
    stack.settle(until=lambda: stack.tasks())
    path = f"/v1/clinics/{stack.clinic.clinic_id}/patients/P-1/messages"
    sent = stack.request("POST", path, {"channel": "whatsapp", "text": "Да, на четверг в 10:00 удобно?",
                                        "key": "r-1"}, token=stack.clinic.admin_token)
    assert sent.status == 201 and sent.body["status"] == "sent", sent.body
    again = stack.request("POST", path, {"channel": "whatsapp", "text": "Да, на четверг в 10:00 удобно?",
                                         "key": "r-1"}, token=stack.clinic.admin_token)
    assert again.status == 201 and again.body["id"] == sent.body["id"]  # a retried request sends once
    thread = [(e["kind"], e["detail"].get("text")) for e in stack.patient("P-1")["timeline"]
              if e["kind"] in ("message.received", "message.sent")]
    assert thread == [("message.received", "Можно перенести запись?"),
                      ("message.sent", "Да, на четверг в 10:00 удобно?")]
    bad = stack.request("POST", path, {"channel": "pigeon", "text": "?"}, token=stack.clinic.admin_token)
    assert bad.status == 422 and bad.body["errors"][0]["field"] == "channel"
    empty = stack.request("POST", path, {"channel": "sms", "text": "  "}, token=stack.clinic.admin_token)
    assert empty.status == 422 and empty.body["errors"][0]["field"] == "text"
    other = stack.new_clinic("Чужая")
    assert stack.request("POST", path, {"channel": "sms", "text": "x"}, token=other.admin_token).status == 404


def test_opt_out_and_preferences_from_the_card(stack: Harness) -> None:
    stack.signed(b.patient())
    stack.settle()
    path = f"/v1/clinics/{stack.clinic.clinic_id}/patients/P-1/preferences"
    saved = stack.request("PUT", path, {"preferred_channel": "telegram", "preferred_time": "evening"},
                          token=stack.clinic.admin_token)
    assert saved.status == 200 and (saved.body["preferred_channel"], saved.body["preferred_time"]) == (
        "telegram", "evening")
    out = stack.request("PUT", path, {"opted_out": True}, token=stack.clinic.admin_token)
    assert out.status == 200 and out.body["opted_out"] is True
    bad = stack.request("PUT", path, {"preferred_time": "night"}, token=stack.clinic.admin_token)
    assert bad.status == 422 and bad.body["errors"][0]["field"] == "preferred_time"


def test_a_new_chat_nobody_knows_is_answered_where_it_came_from(stack: Harness) -> None:
    """A Telegram inquiry has no phone to call back: the desk answers it in the chat, and the thread goes on."""
    stack.signed(b.message("Здравствуйте! Сколько стоит отбелить зубы?", sender="5550001", channel="telegram"))
    task = stack.settle(until=lambda: next((t for t in stack.tasks() if t["kind"] == "conversation"), None))
    assert task["patient"]["id"] is None and task["context"]["address"] == "telegram:5550001"
    path = f"/v1/clinics/{stack.clinic.clinic_id}/tasks/{task['id']}/messages"
    body = {"text": "Добрый день! Отбеливание — 12 000 ₽. Записать вас на консультацию?", "key": "chat-1"}
    sent = stack.request("POST", path, body, token=stack.clinic.admin_token)
    assert sent.status == 201 and (sent.body["channel"], sent.body["status"]) == ("telegram", "sent"), sent.body
    again = stack.request("POST", path, body, token=stack.clinic.admin_token)
    assert again.status == 201 and again.body["id"] == sent.body["id"]  # a retried request sends once

    stack.signed(b.message("Да, в субботу утром можно?", sender="5550001", channel="telegram"))
    def chat() -> list[tuple[str, str]]:
        return [(e["kind"], e["detail"]) for t in stack.tasks() if t["id"] == task["id"]
                for e in t["history"] if e["kind"] in ("message", "reply")]

    thread = stack.settle(until=lambda: chat() if len(chat()) == 3 else None)
    assert thread == [("message", "Здравствуйте! Сколько стоит отбелить зубы?"), ("reply", body["text"]),
                      ("message", "Да, в субботу утром можно?")]
    assert len([t for t in stack.tasks() if t["kind"] == "conversation"]) == 1  # one chat, one task

    empty = stack.request("POST", path, {"text": " "}, token=stack.clinic.admin_token)
    assert empty.status == 422 and empty.body["errors"][0]["field"] == "text"
    other = stack.new_clinic("Чужая")
    elsewhere = f"/v1/clinics/{other.clinic_id}/tasks/{task['id']}/messages"
    assert stack.request("POST", elsewhere, {"text": "x"}, token=other.admin_token).status == 404
    assert stack.request("POST", path, {"text": "x"}, token=other.admin_token).status in (403, 404)


def test_a_call_task_is_not_a_chat(stack: Harness) -> None:
    task = _task(stack)
    path = f"/v1/clinics/{stack.clinic.clinic_id}/tasks/{task['id']}/messages"
    refused = stack.request("POST", path, {"text": "Перезвоните нам"}, token=stack.clinic.admin_token)
    assert refused.status == 422 and refused.body["errors"][0]["field"] == "task_id"
