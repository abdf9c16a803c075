"""Sign and send one example event to the running local stack.

    python -m embedded.send call.missed [--phone +79161234567]
    python -m embedded.send - < event.json      # any event from a file
    python -m embedded.send zadarma.missed      # a vendor's own signed webhook (list below)

It reads `.clinicflow/local.json` for the URL, clinic and webhook secret.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks.webhooks import Webhook

from embedded.demo import local_json_path
from embedded.resources import PROJECT


def now_iso(offset_minutes: int = 0) -> str:
    return (datetime.now(UTC) + timedelta(minutes=offset_minutes)).isoformat(timespec="seconds")


def example(kind: str, phone: str, patient_id: str) -> dict[str, Any]:
    at = now_iso()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    examples: dict[str, dict[str, Any]] = {
        "patient.upserted": {"patient": {"id": patient_id, "full_name": "Иванова Анна Петровна",
                                         "phones": [{"number": phone, "kind": "mobile"}],
                                         "consent": {"reminders": True, "recall": True, "feedback": True},
                                         "preferred_channel": "whatsapp"}},
        "call.missed": {"call": {"id": f"call-{uuid.uuid4().hex[:8]}", "phone": phone, "line": "city", "at": at}},
        "lead.created": {"lead": {"id": f"lead-{uuid.uuid4().hex[:8]}", "channel": "form", "source": "yandex_direct",
                                  "phone": phone, "name": "Анна", "interest": "имплантация"}},
        "appointment.created": {"appointment": {"id": f"appt-{uuid.uuid4().hex[:8]}", "patient_id": patient_id,
                                                "doctor_id": "D-1", "admin_id": "U-1", "kind": "consultation",
                                                "service": "Консультация стоматолога",
                                                "starts_at": tomorrow.isoformat(),
                                                "ends_at": (tomorrow + timedelta(minutes=30)).isoformat()}},
        "message.received": {"message": {"channel": "whatsapp", "from": phone, "text": "СТОП", "at": at}},
    }
    return {"type": kind, "occurred_at": at, "data": examples[kind]}


def send(event: dict[str, Any], local: dict[str, Any], webhook_id: str | None = None) -> tuple[int, str]:
    body = json.dumps(event, ensure_ascii=False)
    msg_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    stamp = datetime.fromtimestamp(time.time(), UTC)
    signature = Webhook(local["demo"]["webhook_secret"]).sign(msg_id, stamp, body)
    request = urllib.request.Request(  # noqa: S310 - our own stack
        f"{local['api_url']}/v1/clinics/{local['demo']['clinic_id']}/events", data=body.encode(), method="POST",
        headers={"Content-Type": "application/json", "webhook-id": msg_id,
                 "webhook-timestamp": str(int(stamp.timestamp())), "webhook-signature": signature})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - an http URL of our own stack
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    from embedded.vendors import EXAMPLES, send_example

    parser.add_argument("type", help="an event type with a built-in example, or - to read one from stdin, or a "
                        "vendor example: " + "; ".join(f"{k} ({v[2]})" for k, v in EXAMPLES.items()))
    parser.add_argument("--phone", default="+79161234567")
    parser.add_argument("--patient", default="P-1001")
    parser.add_argument("--line", default="+74951234567", help="the clinic's line a vendor example calls")
    parser.add_argument("--chat", default="1111111", help="the Telegram chat of a telegram.* example")
    parser.add_argument("--message-id", default="", help="the provider's message id of a status example")
    args = parser.parse_args(argv)
    local = json.loads(local_json_path(PROJECT).read_text())
    if args.type in EXAMPLES:
        status, body = send_example(args.type, local, phone=args.phone, line=args.line, chat=args.chat,
                                    patient=args.patient, message_id=args.message_id)
        print(status, body)
        return 0 if status < 300 else 1
    event = json.load(sys.stdin) if args.type == "-" else example(args.type, args.phone, args.patient)
    status, body = send(event, local)
    print(status, body)
    return 0 if status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
