"""Telegram invite links for patients, and the clinic bot's webhook registration."""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.connectors import registry
from chalicelib.core.runtime import Context, Runtime
from chalicelib.core.telegram_invites import invite_code
from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.domain.records import ConnectorState, Patient
from chalicelib.platform.errors import NotFound
from chalicelib.platform.observability import logger
from chalicelib.ports import DeliveryError


class WebhookRegistrar(Protocol):
    """Tells Telegram where to post a bot's updates."""

    provider: str

    def set_webhook(self, bot_token: str, url: str, secret_token: str) -> None:
        """Call setWebhook (raise DeliveryError when Telegram refuses)."""


def connector_url(public_url: str, clinic_id: str, vendor: str) -> str:
    return f"{public_url}/v1/clinics/{clinic_id}/connectors/{vendor}"


def invite_link(rt: Runtime, clinic_id: str, patient_id: str) -> dict[str, Any]:
    """The patient's `t.me/<bot>?start=<code>` link; the same code every time it is asked for."""
    conf = rt.clinic(clinic_id).settings.connectors.telegram
    if conf is None:
        raise NotFound("no telegram connector for this clinic")

    def issue(ctx: Context) -> dict[str, Any]:
        patient = ctx.load(Patient, patient_id)
        if patient is None or patient.profile is None:
            raise NotFound(f"no patient {patient_id}")
        return {"code": invite_code(ctx, patient), "bound": patient.telegram_chat is not None}

    issued = rt.unit(clinic_id, issue)
    code = issued["code"]
    return {"url": f"https://t.me/{conf.bot_username}?start={code}", "code": code, "bot": conf.bot_username,
            "bound": issued["bound"]}


def register_webhook(rt: Runtime, registrar: WebhookRegistrar, clinic_id: str, before: ClinicSettings,
                     after: ClinicSettings) -> None:
    """When the manager saves a new bot token (or secret), point the bot at this clinic's URL."""
    new, old = after.connectors.telegram, before.connectors.telegram
    if new is None or (old is not None and (old.bot_token, old.secret_token) == (new.bot_token, new.secret_token)):
        return
    url = connector_url(rt.settings.public_url, clinic_id, "telegram")
    error = None
    try:
        registrar.set_webhook(new.bot_token, url, new.secret_token)
    except DeliveryError as exc:  # the settings are saved; the state shows what failed
        error = str(exc)  # a status or an exception's type, never the URL (it holds the bot token)
        logger.warning("telegram setWebhook failed", extra={"clinic_id": clinic_id, "error": error})

    def remember(ctx: Context) -> None:
        state = ctx.load_or_new(ConnectorState, "telegram")
        state.webhook_url, state.registered_at = url, ctx.now
        state.provider, state.error = registrar.provider, error
        ctx.save(state)

    rt.unit(clinic_id, remember)


def activity_view(state: ConnectorState | None) -> dict[str, Any]:
    """When the vendor last notified us, and the last refusal (for the console)."""
    def iso(at: Any) -> str | None:
        return at.isoformat() if at else None
    return {"last_notification_at": iso(state.last_notification_at) if state else None,
            "last_error": state.last_error if state else None,
            "last_error_at": iso(state.last_error_at) if state else None}


def connector_status(rt: Runtime, clinic_id: str) -> dict[str, Any]:
    """Per connector: configured or not, the URL to paste into the vendor's console, what we last did."""
    settings = rt.clinic(clinic_id).settings
    found = rt.store.get_many(ConnectorState, clinic_id, list(registry()))
    out: dict[str, Any] = {}
    for vendor, connector in registry().items():
        state, conf = found.get(vendor), getattr(settings.connectors, vendor)
        attention = getattr(connector, "attention", None)
        out[vendor] = {"configured": conf is not None,
                       "attention": attention(conf) if attention is not None and conf is not None else None,
                       "url": connector_url(rt.settings.public_url, clinic_id, vendor),
                       "webhook": None if state is None else {
                           "url": state.webhook_url, "provider": state.provider, "error": state.error,
                           "registered_at": state.registered_at.isoformat() if state.registered_at else None},
                       **activity_view(state)}
    return out
