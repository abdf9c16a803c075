"""Slack incoming webhooks (the manager's digest and escalations), through slack-sdk."""

from __future__ import annotations

from typing import Any

from chalicelib.platform.outbound import OutboundRefused, check_slack_webhook
from chalicelib.ports import DeliveryError


class SlackWebhook:
    """Slack incoming webhooks through slack-sdk, with its retry handlers."""

    def post(self, url: str, text: str, blocks: list[dict[str, Any]]) -> None:
        # slack-sdk is imported on first use: only the digest and escalations need it (cold start).
        from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
        from slack_sdk.webhook import WebhookClient

        try:
            check_slack_webhook(url)  # again at send time: stored settings predate the allow-list
        except OutboundRefused as exc:
            raise DeliveryError(f"refused URL: {exc}") from None
        client = WebhookClient(url, timeout=10, retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2),
                                                                RateLimitErrorRetryHandler(max_retry_count=2)])
        try:
            response = client.send(text=text, blocks=blocks)
        except Exception as exc:
            raise DeliveryError(type(exc).__name__) from exc
        if response.status_code >= 300:
            raise DeliveryError(f"Slack answered {response.status_code}")
