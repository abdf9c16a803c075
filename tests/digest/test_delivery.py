"""Digest delivery: SES email with its chart, Slack Block Kit, exactly once, retried per channel."""

from __future__ import annotations

import email
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from moto.ses.models import ses_backends
from pynamodb.expressions.operand import Path

from chalicelib.handlers import schedules, wiring
from chalicelib.store.models import KpiDayItem, scoped
from embedded.metering import metered_items
from tests import builders as b
from tests.capture import CapturingServer
from tests.harness import OPERATOR_TOKEN, Harness

MSK = ZoneInfo("Europe/Moscow")


class SlackCatcher(CapturingServer):
    """Slack's incoming webhook, played locally."""

    def __init__(self) -> None:
        super().__init__()
        self.answer = (200, "ok")
        self.url = f"{self.url}/services/T0/B0/x"

    @property
    def payloads(self) -> list[dict[str, Any]]:
        return self.json_bodies()


@pytest.fixture
def slack() -> Iterator[SlackCatcher]:
    catcher = SlackCatcher()
    yield catcher
    catcher.close()


def sent_mail() -> list[email.message.Message]:
    backend = ses_backends["123456789012"]["eu-central-1"]
    return [email.message_from_string(m.raw_data) for m in backend.sent_messages if hasattr(m, "raw_data")]


def evening() -> datetime:
    return datetime.now(MSK).replace(hour=21, minute=30, second=0, microsecond=0)


def busy_day(stack: Harness) -> None:
    stack.signed(b.patient())
    stack.signed(b.missed_call())
    stack.signed(b.appointment(starts_in_hours=48))
    stack.signed(b.cancelled(reason="Работа"))
    stack.settle()


def configure(stack: Harness, slack: SlackCatcher | None = None, language: str = "ru") -> None:
    stack.put_settings({"language": language, "digest": {"hour": 21, "emails": ["owner@clinic.example"],
                                                         "slack_webhook_url": slack.url if slack else None}})


def test_the_evening_tick_sends_email_and_slack_once(stack: Harness, slack: SlackCatcher,
                                                     output_dir: Any) -> None:
    configure(stack, slack)
    busy_day(stack)
    rt = wiring.runtime()
    assert schedules.hourly(rt, evening() - timedelta(hours=2))[stack.clinic.clinic_id]["digest"] == {}
    first = schedules.hourly(rt, evening())[stack.clinic.clinic_id]["digest"]
    again = schedules.hourly(rt, evening() + timedelta(minutes=5))[stack.clinic.clinic_id]["digest"]
    assert first == {"email": "sent", "slack": "sent"} and again == {"email": "already", "slack": "already"}
    mails = sent_mail()
    assert len(mails) == 1 and len(slack.payloads) == 1
    mail = mails[0]
    assert mail["To"] == "owner@clinic.example" and "итоги дня" in str(email.header.make_header(
        email.header.decode_header(mail["Subject"])))
    parts = {p.get_content_type(): p for p in mail.walk()}
    html = _payload(parts["text/html"])
    text = _payload(parts["text/plain"])
    chart = parts["image/png"]
    assert chart["Content-ID"] == "<funnel>" and 'src="cid:funnel"' in html
    assert "Что сделать завтра" in html and "Не перезвонили" in html
    assert "Нет времени — <b>1</b>" in html  # «Работа» is counted under the clinic's «no time»
    assert "1 пропущенный звонок остался без ответного звонка" in text
    (output_dir / "digest.html").write_text(html)
    (output_dir / "digest.txt").write_text(text)
    (output_dir / "funnel.png").write_bytes(chart.get_payload(decode=True))
    blocks = slack.payloads[0]["blocks"]
    assert blocks[0]["type"] == "header" and "итоги дня" in blocks[0]["text"]["text"]
    assert "Что сделать завтра" in blocks[1]["text"]["text"]
    (output_dir / "slack.json").write_text(json.dumps(slack.payloads[0], ensure_ascii=False, indent=2))


def test_a_failing_channel_is_retried_and_never_blocks_the_other(stack: Harness, slack: SlackCatcher) -> None:
    configure(stack, slack)
    slack.fail_next = 10
    rt = wiring.runtime()
    first = schedules.hourly(rt, evening())[stack.clinic.clinic_id]["digest"]
    assert first == {"email": "sent", "slack": "failed"} and len(sent_mail()) == 1
    slack.fail_next = 0
    later = schedules.hourly(rt, evening() + timedelta(hours=1))[stack.clinic.clinic_id]["digest"]
    assert later == {"email": "already", "slack": "sent"}
    assert len(sent_mail()) == 1 and len(slack.payloads) == 1


def test_english_clinics_get_english(stack: Harness) -> None:
    configure(stack, language="en")
    busy_day(stack)
    schedules.hourly(wiring.runtime(), evening())
    html = _payload(next(p for p in sent_mail()[0].walk() if p.get_content_type() == "text/html"))
    assert "Act on tomorrow" in html and "missed call was never returned" in html


def test_the_html_preview_route(stack: Harness) -> None:
    busy_day(stack)
    response = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/digest?format=html",
                             token=stack.clinic.manager_token)
    assert response.status == 200 and response.headers["content-type"].startswith("text/html")
    assert "data:image/png;base64," in response.body and "cid:" not in response.body


def test_a_network_digest_has_a_row_per_clinic(stack: Harness) -> None:
    other = stack.new_clinic("Клиника «Жемчуг»")
    busy_day(stack)
    body = {"name": "Сеть «Улыбка»", "clinic_ids": [stack.clinic.clinic_id, other.clinic_id],
            "emails": ["owner@network.example"], "hour": 21, "timezone": "Europe/Moscow"}
    assert stack.request("PUT", "/v1/networks/smile", body, token=OPERATOR_TOKEN).status == 200
    assert stack.request("PUT", "/v1/networks/smile", body, token=stack.clinic.manager_token).status == 403
    report = schedules.hourly(wiring.runtime(), evening())
    assert report["network:smile"] == {"email": "sent"}
    mail = next(m for m in sent_mail() if m["To"] == "owner@network.example")
    html = _payload(next(p for p in mail.walk() if p.get_content_type() == "text/html"))
    assert "Клиника «Улыбка»" in html and "Клиника «Жемчуг»" in html


def _history(clinic_id: str, days: int) -> None:
    """Counters of `days` past days, as a clinic with that much history has them."""
    today = datetime.now(MSK).date()
    for offset in range(days):
        day = today - timedelta(days=offset)
        KpiDayItem(scoped(clinic_id, "KPI"), f"D#{day.isoformat()}").update(
            actions=[Path(["leads.new"]).add(3), Path(["funnel|all||leads"]).add(3)])


def test_a_digest_reads_the_same_items_for_one_month_or_twelve(stack: Harness) -> None:
    young, old = stack.new_clinic("Молодая"), stack.new_clinic("Старая")
    _history(young.clinic_id, 31)
    _history(old.clinic_id, 365)
    reads = {}
    for clinic in (young, old):
        with metered_items() as items:
            response = stack.request("GET", f"/v1/clinics/{clinic.clinic_id}/digest", token=clinic.manager_token)
        assert response.status == 200 and response.body["leads"]["new"] == 3
        reads[clinic.clinic_id] = items["dynamodb"]
    assert reads[young.clinic_id] == reads[old.clinic_id] <= 40


def _payload(part: Message) -> str:
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()
