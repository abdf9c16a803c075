"""The connector paths read by key: the Telegram code finds its patient, a provider id its message."""

from __future__ import annotations

import time

from embedded.metering import metered
from tests import builders as b
from tests.connectors.vendors import connect, telegram, tg_update, wa_status, whatsapp
from tests.harness import Harness


def test_invite_binding_replies_and_statuses_never_scan(stack: Harness) -> None:
    connect(stack, "whatsapp", "telegram")
    c = stack.clinic
    with metered() as calls:
        stack.signed(b.patient(preferred_channel="telegram", messengers={}))
        stack.settle()
        code = stack.request("GET", f"/v1/clinics/{c.clinic_id}/patients/P-1/telegram-link",
                             token=c.admin_token).body["code"]
        now = int(time.time())
        assert telegram(stack, tg_update(1, f"/start {code}", 4242, now - 5)).status == 200
        assert telegram(stack, tg_update(2, "Спасибо", 4242, now)).status == 200
        assert whatsapp(stack, wa_status("read", "wamid.unknown", now)).status == 200
        stack.request("GET", f"/v1/clinics/{c.clinic_id}/connectors", token=c.manager_token)
        stack.settle(until=lambda: any(e["kind"] == "message.received" for e in stack.patient("P-1")["timeline"]))
    dynamodb = {op for (service, op) in calls if service == "dynamodb"}
    assert "Query" in dynamodb and "Scan" not in dynamodb, sorted(dynamodb)
