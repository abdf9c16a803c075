"""The demo clinic a newcomer gets from `make run`, and `.clinicflow/local.json`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from chalicelib.domain.clinic_settings import ClinicSettings

DEMO_ID = "demo"


def demo_connectors() -> dict[str, dict[str, str]]:
    """Every connector with fresh local secrets (kept in the state folder's demo.json, mode 600)."""
    import secrets
    import uuid

    def token(n: int = 18) -> str:
        return secrets.token_urlsafe(n)

    return {"whatsapp": {"verify_token": token(), "app_secret": token(), **SENDING["whatsapp"], "token": token(32)},
            "telegram": {"bot_token": f"{secrets.randbelow(10**9):09d}:{token(26)}", "secret_token": token(),
                         "bot_username": "clinicflow_demo_bot"},
            "zadarma": {"secret": token(), "key": token(10)}, "mango": {"api_key": token(), "api_salt": token()},
            "smsru": {"callback_token": token(), "api_id": str(uuid.uuid4()).upper(), **SENDING["smsru"]},
            "email": dict(SENDING["email"])}


# The demo clinic's own sending identities: the local outbox records each message as leaving from them
# (`sent_as` on the patient's timeline), as a deployment would send it through the clinic's own accounts.
SENDING = {"whatsapp": {"phone_number_id": "106540352242922", "display_number": "+7 495 123-45-67"},
           "smsru": {"sender": "Ulybka"},
           "email": {"sender": "hello@demo-clinic.example", "reply_to": "admin@demo-clinic.example"}}
DEMO_TEMPLATES = {  # as the demo clinic would have them approved at Meta (README: "Send from your own numbers")
    "recall": {"name": "recall_checkup", "language": "ru", "parameters": ["patient_first_name", "doctor", "clinic"],
               "body": "{{1}}, здравствуйте! Пора на профилактический осмотр к доктору {{2}}. Ответьте на это "
                       "сообщение — подберём время. {{3}}"},
    "confirmation": {"name": "visit_confirmation", "language": "ru",
                     "parameters": ["patient_first_name", "date", "time", "clinic"],
                     "body": "{{1}}, напоминаем о приёме {{2}} в {{3}}. Ответьте «Да», если придёте. {{4}}"},
    "no_show": {"name": "missed_visit", "language": "ru", "parameters": ["patient_first_name", "clinic"],
                "body": "{{1}}, мы не увиделись на приёме. Ответьте на это сообщение — запишем снова. {{2}}"},
}


def demo_settings(connectors: dict[str, dict[str, str]] | None = None) -> ClinicSettings:
    """Open around the clock, so every sequence shows its steps within minutes of an event.

    A real clinic sets its hours and holidays (PUT /settings); the ladders keep
    the shape of the defaults with one-minute delays.
    """
    hours = {day: ["00:00", "24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    quick = [{"action": "call", "line": "city", "delay_minutes": 0},
             {"action": "call", "line": "mobile", "delay_minutes": 1},
             {"action": "message", "channel": "whatsapp", "delay_minutes": 1}]
    return ClinicSettings.model_validate({
        "timezone": "Europe/Moscow", "language": "ru", "working_hours": hours, "holidays_country": None,
        "lines": {"city": "+74951234567", "mobile": "+79161234567"},
        "digest": {"hour": 21, "emails": ["owner@demo-clinic.example"]},
        "doctors": {"D-1": "Смирнова Елена Викторовна", "D-2": "Ким Сергей Андреевич"},
        "admins": {"U-1": "Ольга", "U-2": "Марина"},
        "sequences": {name: {"steps": quick} for name in ("lead", "recall", "cancelled", "treatment_dropout")}
        | {"no_show": {"steps": [quick[0], quick[2]]}},
        "connectors": connectors or {},
        "whatsapp_templates": DEMO_TEMPLATES,
        "sending": {"telegram_invite": True, "whatsapp_prices": {"marketing": "8.10", "utility": "2.35",
                                                                 "authentication": "2.35"}},
    })


def ensure_demo(rt: Any, webhook_secret: Any, state_dir: Path, on_saved: Any = None) -> dict[str, Any]:
    """The demo clinic of this state folder (created on the first run, connectors and all).

    `on_saved(clinic_id, before, after)` follows a settings change, as after a manager's PUT
    (the demo's Telegram bot is "registered" in the local outbox).
    """
    from chalicelib.console import clinics
    from chalicelib.domain.records import Clinic
    from chalicelib.edge.contract import NewClinic

    path = state_dir / "demo.json"
    clinic = rt.store.get(Clinic, DEMO_ID, DEMO_ID)
    if path.exists() and clinic is not None:
        known = dict(json.loads(path.read_text()))
        kept, fresh = known.get("connectors", {}), demo_connectors()
        if kept.get("zadarma", {}).get("key") and kept.get("smsru", {}).get("api_id"):
            return known
        # a state folder from before connectors existed, before calls were confirmed with Zadarma's API key, or
        # before the clinic sent from its own number, bot and sender name
        known["connectors"] = {**fresh, **kept, **{vendor: {**fresh[vendor], **kept.get(vendor, {})}
                                                   for vendor in ("zadarma", "whatsapp", "smsru", "email")}}
        document = clinic.settings.model_dump(mode="json") | {"connectors": known["connectors"]}
        clinics.replace_settings(rt, DEMO_ID, document, on_saved)
        _write(path, known)
        return known
    connectors = demo_connectors()
    created: dict[str, Any] = clinics.create_clinic(rt, webhook_secret, NewClinic(name="Клиника «Улыбка» (демо)"),
                                                    clinic_id=DEMO_ID, settings=demo_settings(connectors))
    created["connectors"] = connectors
    if on_saved is not None:
        on_saved(DEMO_ID, ClinicSettings(), rt.clinic(DEMO_ID, fresh=True).settings)
    _write(path, created)
    return created


def _write(path: Path, demo: dict[str, Any]) -> None:
    path.write_text(json.dumps(demo, indent=2, ensure_ascii=False))
    path.chmod(0o600)


def local_json_path(project: Path) -> Path:
    """`.clinicflow/local.json` (CLINICFLOW_LOCAL_JSON moves it, e.g. for a second stack in tests)."""
    import os

    state = os.environ.get("CLINICFLOW_STATE")  # the data folder holds it when one is named
    return Path(os.environ.get("CLINICFLOW_LOCAL_JSON") or (Path(state) if state else project / ".clinicflow")
                / "local.json")


def write_local_json(project: Path, api_url: str, operator_token: str, demo: dict[str, Any],
                     vendors: dict[str, str] | None = None, login_links: dict[str, str] | None = None) -> Path:
    out = local_json_path(project)
    out.parent.mkdir(parents=True, exist_ok=True)
    # written whole, then renamed: `make simulate`, `embedded.send` and the tests start reading the moment
    # the file exists, and must never see it half written
    partial = out.with_suffix(".json.partial")
    partial.write_text(json.dumps({"api_url": api_url, "operator_token": operator_token, "demo": demo,
                                   "desk_url": f"{api_url}/desk", "vendors": vendors or {},
                                   "login_links": login_links or {}}, indent=2, ensure_ascii=False))
    os.replace(partial, out)
    return out
