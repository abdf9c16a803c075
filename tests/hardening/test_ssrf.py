"""Outbound URLs: Slack's webhook hosts for Slack, public https hosts for the rest; checked when
saved (422 naming the field) and again before sending."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.channels.slack import SlackWebhook
from chalicelib.platform.outbound import OutboundRefused, check_public_https, check_slack_webhook
from chalicelib.ports import DeliveryError
from embedded.inprocess import OPERATOR_TOKEN
from tests.harness import Harness

REFUSED_FOR_SLACK = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "https://169.254.169.254/x", "http://hooks.slack.com/services/T/B/x", "https://hooks.slack.com.evil.example/x",
    "https://user:pw@hooks.slack.com/services/T/B/x", "https://hooks.slack.com:8443/services/T/B/x",
    "https://localhost/x", "file:///etc/passwd", "gopher://hooks.slack.com/x", "https://[::1]/x", "not a url",
]


@pytest.fixture(autouse=True)
def no_local_allowance(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OUTBOUND_ALLOW_HOSTS", raising=False)


@pytest.mark.parametrize("url", REFUSED_FOR_SLACK)
def test_slack_webhook_must_be_on_slacks_hosts(url: str) -> None:
    with pytest.raises(OutboundRefused):
        check_slack_webhook(url)


def test_slacks_own_webhook_urls_pass() -> None:
    assert check_slack_webhook("https://hooks.slack.com/services/T0/B0/abc")


@pytest.mark.parametrize("url", ["http://api.telegram.org/x", "https://10.0.0.5/x", "https://127.0.0.1:8443/x",
                                 "https://169.254.169.254/x", "https://[fd00::1]/x", "https://[::ffff:10.0.0.1]/x",
                                 "https://metadata.google.internal/x", "https://localhost/x", "https://intranet/x",
                                 "https://0.0.0.0/x"])
def test_other_outbound_urls_must_be_public_https(url: str) -> None:
    with pytest.raises(OutboundRefused):
        check_public_https(url)


def test_a_name_that_resolves_to_a_private_address_is_refused_at_send_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.1.2.3", 443))])
    assert check_public_https("https://rebind.example.com/x")  # fine when saved...
    with pytest.raises(OutboundRefused):
        check_public_https("https://rebind.example.com/x", resolve=True)  # ...refused before sending


@pytest.mark.parametrize("url", REFUSED_FOR_SLACK[:4])
def test_settings_with_a_forbidden_slack_url_are_422_naming_the_field(stack: Harness, url: str) -> None:
    response = stack.request("PUT", f"/v1/clinics/{stack.clinic.clinic_id}/settings",
                             {"digest": {"slack_webhook_url": url}}, token=stack.clinic.manager_token)
    assert response.status == 422
    assert [e["field"] for e in response.body["errors"]] == ["digest.slack_webhook_url"]


def test_a_network_with_a_forbidden_slack_url_is_422(stack: Harness) -> None:
    response = stack.request("PUT", "/v1/networks/n1", {"name": "Сеть", "clinic_ids": [stack.clinic.clinic_id],
                                                         "slack_webhook_url": REFUSED_FOR_SLACK[0]},
                             token=OPERATOR_TOKEN)
    assert response.status == 422 and response.body["errors"][0]["field"] == "slack_webhook_url"


def test_a_stored_forbidden_url_is_never_called(monkeypatch: pytest.MonkeyPatch) -> None:
    from slack_sdk.webhook import WebhookClient

    calls: list[Any] = []
    monkeypatch.setattr(WebhookClient, "send", lambda self, **kw: calls.append(kw))
    with pytest.raises(DeliveryError, match="refused URL"):
        SlackWebhook().post(REFUSED_FOR_SLACK[0], "text", [])
    assert calls == []
