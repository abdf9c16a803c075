"""Email through Amazon SES: the digest (HTML, text, inline chart) and plain messages to patients."""

from __future__ import annotations

from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.ports import DeliveryError


class SesMailer:
    """Raw MIME email through SES; recipients come from the headers (no Destinations, no doubles).

    Parameters
    ----------
    client:
        A boto3 `ses` client.
    sender:
        A verified SES identity.
    """

    def __init__(self, client: Any, sender: str) -> None:
        self._ses, self._sender = client, sender

    @property
    def sender(self) -> str:
        return self._sender

    def send(self, to: list[str], subject: str, html: str | None, text: str,
             images: dict[str, bytes] | None = None, reply_to: str | None = None) -> str:
        message = MIMEMultipart("related")
        message["Subject"], message["From"], message["To"] = subject, self._sender, ", ".join(to)
        if reply_to:
            message["Reply-To"] = reply_to
        message["Date"], message["Message-ID"] = formatdate(localtime=False), make_msgid(domain="clinicflow")
        alternative = MIMEMultipart("alternative")
        alternative.attach(MIMEText(text, "plain", "utf-8"))
        if html is not None:
            alternative.attach(MIMEText(html, "html", "utf-8"))
        message.attach(alternative)
        for cid, data in (images or {}).items():
            image = MIMEImage(data, "png")
            image.add_header("Content-ID", f"<{cid}>")
            image.add_header("Content-Disposition", "inline", filename=f"{cid}.png")
            message.attach(image)
        try:
            answer = self._ses.send_raw_email(RawMessage={"Data": message.as_bytes()})
        except ClientError as exc:
            raise DeliveryError(exc.response.get("Error", {}).get("Code", "SES error")) from exc
        return str(answer["MessageId"])


class SesEmail:
    """The patient email channel: a plain-text message, from the clinic's sender, answered to its reply-to."""

    name, provider = "email", "ses"

    def __init__(self, mailer: SesMailer, reply_to: str | None = None, identity: str = "") -> None:
        self._mailer, self._reply_to = mailer, reply_to
        self.identity = identity or f"e-mail {mailer.sender}"

    def send(self, to: str, text: str, subject: str | None = None) -> str:
        return self._mailer.send([to], subject or text.splitlines()[0][:80], None, text, reply_to=self._reply_to)
