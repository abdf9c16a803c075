"""Email to patients through Amazon SES."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.ports import DeliveryError


class SesEmail:
    """Plain-text email via SES.

    Parameters
    ----------
    client:
        A boto3 `ses` client.
    sender:
        A verified SES identity.
    """

    name, provider = "email", "ses"

    def __init__(self, client: Any, sender: str) -> None:
        self._ses, self._sender = client, sender

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        try:
            answer = self._ses.send_email(
                Source=self._sender, Destination={"ToAddresses": [to]},
                Message={"Subject": {"Data": subject or text.splitlines()[0][:80], "Charset": "UTF-8"},
                         "Body": {"Text": {"Data": text, "Charset": "UTF-8"}}})
        except ClientError as exc:
            raise DeliveryError(exc.response.get("Error", {}).get("Code", "SES error")) from exc
        return str(answer["MessageId"])
