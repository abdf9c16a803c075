"""Settings `connectors.<vendor>`: validated, secrets masked on GET and kept when PUT sends "***"."""

from __future__ import annotations

from chalicelib.domain.clinic_settings import ClinicSettings
from chalicelib.handlers import wiring
from tests.connectors.vendors import CONNECTORS, connect, url
from tests.harness import Harness


def _settings(stack: Harness) -> dict:
    response = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/settings",
                             token=stack.clinic.manager_token)
    assert response.status == 200
    return dict(response.body)


def _stored(stack: Harness) -> ClinicSettings:
    return wiring.runtime().clinic(stack.clinic.clinic_id, fresh=True).settings


def test_secrets_are_masked_and_a_put_of_the_mask_keeps_them(stack: Harness) -> None:
    connect(stack, "whatsapp", "telegram", "zadarma", "mango", "smsru")
    shown = _settings(stack)["connectors"]
    assert shown["whatsapp"] == {"verify_token": "***", "app_secret": "***", "phone_number_id": None,
                                 "token": None, "display_number": None}  # sending as the clinic: not set
    assert shown["telegram"] == {"bot_token": "***", "secret_token": "***", "bot_username": "smile_clinic_bot"}
    assert shown["zadarma"]["secret"] == shown["smsru"]["callback_token"] == "***"
    assert shown["mango"] == {"api_key": "***", "api_salt": "***"}

    document = _settings(stack)
    document["connectors"]["telegram"]["bot_username"] = "@other_clinic_bot"
    response = stack.request("PUT", f"/v1/clinics/{stack.clinic.clinic_id}/settings", document,
                             token=stack.clinic.manager_token)
    assert response.status == 200 and response.body["connectors"]["telegram"]["bot_token"] == "***"
    stored = _stored(stack).connectors
    assert stored.telegram is not None and stored.telegram.bot_username == "other_clinic_bot"
    assert stored.telegram.bot_token == CONNECTORS["telegram"]["bot_token"]
    assert stored.whatsapp is not None and stored.whatsapp.app_secret == CONNECTORS["whatsapp"]["app_secret"]


def test_the_mask_without_a_stored_secret_and_bad_values_are_422_naming_the_field(stack: Harness) -> None:
    document = _settings(stack)
    document["connectors"] = {"zadarma": {"secret": "***"}}
    response = stack.request("PUT", f"/v1/clinics/{stack.clinic.clinic_id}/settings", document,
                             token=stack.clinic.manager_token)
    assert response.status == 422
    assert [e["field"] for e in response.body["errors"]] == ["connectors.zadarma.secret"]

    document["connectors"] = {"telegram": {"bot_token": "not a token", "secret_token": "has spaces in it",
                                           "bot_username": "x"}}
    response = stack.request("PUT", f"/v1/clinics/{stack.clinic.clinic_id}/settings", document,
                             token=stack.clinic.manager_token)
    assert response.status == 422
    assert {e["field"] for e in response.body["errors"]} == {
        "connectors.telegram.bot_token", "connectors.telegram.secret_token", "connectors.telegram.bot_username"}


def test_unconfigured_or_unknown_connector_is_404_and_the_status_lists_urls(stack: Harness) -> None:
    assert stack.request("POST", url(stack, "zadarma"), raw=b"event=NOTIFY_END").status == 404
    assert stack.request("GET", url(stack, "whatsapp") + "?hub.mode=subscribe").status == 404
    assert stack.request("POST", url(stack, "bitrix24"), {}).status == 404
    assert stack.request("POST", "/v1/clinics/nope/connectors/zadarma", raw=b"").status == 404
    connect(stack, "zadarma")
    status = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/connectors",
                           token=stack.clinic.manager_token)
    assert status.status == 200
    assert status.body["zadarma"]["configured"] is True and status.body["whatsapp"]["configured"] is False
    assert status.body["zadarma"]["url"].endswith(url(stack, "zadarma"))
    admin = stack.request("GET", f"/v1/clinics/{stack.clinic.clinic_id}/connectors", token=stack.clinic.admin_token)
    assert admin.status == 403
