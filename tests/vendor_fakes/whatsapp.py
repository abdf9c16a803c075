"""A fake WhatsApp Cloud API (Meta Graph API) answering as Meta documents it.

Sources (cited again beside each canned answer):
- Send messages, text and template, the success body, the customer service window:
  https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages
- Error envelope and codes (131047, 131026, 132000, 132001, 130429, 131056, 190, 100):
  https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
- Status webhooks (sent/delivered/read/failed, `pricing`, `errors[]`, `conversation` gone from v24.0):
  https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status
- Webhook signature `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`:
  https://developers.facebook.com/docs/graph-api/webhooks/getting-started
- Phone number node (`GET /{version}/{PHONE_NUMBER_ID}`) as a credentials check:
  https://developers.facebook.com/docs/whatsapp/cloud-api/reference/phone-numbers
Where Meta's current pages give no HTTP status, the older Meta table is used (collected in
/work/wt/research/vendors.md §1.6): 400 for most codes, 404 for 132001, 401 for 190.

Per business number (one clinic's `phone_number_id` + token) the fake keeps: its approved
templates (name, language, parameter counts, category), the customer service window per
customer (opened by `customer_wrote`), and every message it accepted, so a test can build the
status webhooks Meta would post for them (`status_webhook`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, ClassVar

import phonenumbers

from tests.vendor_fakes.base import Clock, FakeVendor, Faults, RecordedRequest, Reply

WINDOW_SECONDS = 24 * 3600
_PATH = re.compile(r"^/(v\d+\.\d+)/([^/]+)(/messages)?/?$")


@dataclass(frozen=True)
class Template:
    """An approved message template of the business (name + exact language code)."""

    name: str
    language: str
    body_params: int = 0
    header_params: int = 0
    category: str = "utility"  # marketing | utility | authentication


@dataclass
class BusinessNumber:
    """One business phone number: its token, display number and approved templates."""

    phone_number_id: str
    token: str
    display_phone_number: str
    verified_name: str
    quality_rating: str = "GREEN"
    waba_id: str = "102290129340398"  # the WhatsApp Business Account the webhook's entry names
    templates: dict[tuple[str, str], Template] = field(default_factory=dict)
    window_opened: dict[str, float] = field(default_factory=dict)  # wa_id -> last inbound time
    undeliverable: set[str] = field(default_factory=set)  # wa_ids not on WhatsApp

    @property
    def country_code(self) -> str:
        return str(phonenumbers.parse(self.display_phone_number, None).country_code)


@dataclass(frozen=True)
class SentMessage:
    """A message the fake accepted: which business number, to whom, what, and its wamid."""

    wamid: str
    phone_number_id: str
    token: str
    to: str  # as the client sent it
    wa_id: str  # as Meta understood it
    type: str
    body: dict[str, Any]
    version: str
    at: float
    category: str  # the pricing category Meta would bill
    pricing_type: str  # regular | free_customer_service


def graph_error(status: int, code: int, message: str, details: str | None = None, kind: str = "OAuthException",
                subcode: int | None = None) -> Reply:
    """The Graph API error envelope (error-codes page: message is "(#code) title")."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if details is not None:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = secrets.token_urlsafe(16)
    return Reply.json(status, {"error": error})


def invalid_token() -> Reply:
    # A bad or expired token: HTTP 401, code 190 (captures quoted in research/vendors.md §1.6).
    return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")


def unknown_object(method: str, object_id: str) -> Reply:
    # A phone_number_id that does not exist or the token cannot reach: code 100, subcode 33.
    return graph_error(400, 100, f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not "
                       "exist, cannot be loaded due to missing permissions, or does not support this operation. "
                       "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                       kind="GraphMethodException", subcode=33)


def invalid_parameter(details: str) -> Reply:
    # Code 100 "Invalid parameter" (error-codes page).
    return graph_error(400, 100, "(#100) Invalid parameter", details)


def re_engagement() -> Reply:
    # 131047: free-form message outside the 24-hour window (error-codes page; HTTP 400).
    return graph_error(400, 131047, "(#131047) Re-engagement message",
                       "Message failed to send because more than 24 hours have passed since the customer last "
                       "replied to this number.")


def template_missing(name: str, language: str) -> Reply:
    # 132001: template name not in that language or not approved; 404 in Meta's older table.
    return graph_error(404, 132001, "(#132001) Template name does not exist in the translation",
                       f"template name ({name}) does not exist in {language}", subcode=2494073)


def template_params(component: str, got: int, expected: int) -> Reply:
    # 132000: parameter count differs from the template's variables (error-codes page; HTTP 400).
    return graph_error(400, 132000, "(#132000) Number of parameters does not match the expected number of params",
                       f"{component}: number of localizable_params ({got}) does not match the expected number "
                       f"of params ({expected})")


def undeliverable() -> Reply:
    # 131026: not on WhatsApp, terms not accepted or an old client (error-codes page; HTTP 400). Usually
    # it comes later in a failed status webhook, which `status_webhook` builds; this is the synchronous form.
    return graph_error(400, 131026, "(#131026) Message undeliverable", _FAILURES[131026][1])


def throughput_reached() -> Reply:
    # 130429: Cloud API throughput reached; Meta answers HTTP 400, not 429 (error-codes page sample).
    return graph_error(400, 130429, "(#130429) Rate limit hit", "Cloud API message throughput has been reached.",
                       subcode=2494055)


def pair_rate_limit() -> Reply:
    # 131056: too many messages to the same customer in a short time (error-codes page; HTTP 400).
    return graph_error(400, 131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit",
                       "Message failed to send because there were too many messages sent from this phone number "
                       "to the same phone number in a short period of time.")


def unknown_error() -> Reply:
    # 131000: something went wrong; retry (error-codes page; HTTP 500 in the older table).
    return graph_error(500, 131000, "(#131000) Something went wrong",
                       "Message failed to send due to an unknown error.")


def service_unavailable() -> Reply:
    # 131016: service temporarily unavailable; retry (error-codes page; HTTP 500 in the older table).
    return graph_error(500, 131016, "(#131016) Service unavailable",
                       "A service is temporarily unavailable.")


class FakeWhatsApp(FakeVendor):
    """Graph API `POST /{version}/{phone_number_id}/messages` and `GET /{version}/{phone_number_id}`."""

    name: ClassVar[str] = "whatsapp"

    def __init__(self, clock: Clock | None = None) -> None:
        super().__init__(clock)
        self.numbers: dict[str, BusinessNumber] = {}
        self.sent: list[SentMessage] = []

    # ---- setting the scene -----------------------------------------------------------------

    def add_number(self, phone_number_id: str, token: str, display_phone_number: str, verified_name: str = "Клиника",
                   templates: list[Template] | tuple[Template, ...] = ()) -> BusinessNumber:
        number = BusinessNumber(phone_number_id, token, display_phone_number, verified_name)
        for template in templates:
            number.templates[(template.name, template.language)] = template
        with self._lock:
            self.numbers[phone_number_id] = number
        return number

    def customer_wrote(self, phone_number_id: str, wa_id: str, at: float | None = None) -> None:
        """The customer messaged the business: the 24-hour window opens (or restarts) now."""
        with self._lock:
            self.numbers[phone_number_id].window_opened[_digits(wa_id)] = self.clock() if at is None else at

    def not_on_whatsapp(self, phone_number_id: str, wa_id: str) -> None:
        """Sends to this number are accepted, and fail later (131026 in the status webhook)."""
        with self._lock:
            self.numbers[phone_number_id].undeliverable.add(_digits(wa_id))

    def faults(self) -> Faults:
        return {**super().faults(), "rate_limit": throughput_reached, "pair_rate_limit": pair_rate_limit,
                "server_error": unknown_error, "unavailable": service_unavailable, "invalid_token": invalid_token,
                "re_engagement": re_engagement, "undeliverable": undeliverable,
                "template_missing": lambda: template_missing("appointment_reminder", "ru"),
                "template_params": lambda: template_params("body", 0, 1)}

    # ---- serving ---------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        match = _PATH.match(request.path)
        if not match:
            return unknown_object(request.method, request.path.strip("/"))
        version, object_id, messages = match.groups()
        token = request.header("Authorization").removeprefix("Bearer ").strip()
        if not token or token not in {n.token for n in self.numbers.values()}:
            return invalid_token()
        number = self.numbers.get(object_id)
        if number is None or number.token != token:
            return unknown_object(request.method, object_id)
        if messages and request.method == "POST":
            return self._send(number, version, token, request)
        if not messages and request.method == "GET":
            return self._describe(number, request)
        return unknown_object(request.method, object_id)

    def _describe(self, number: BusinessNumber, request: RecordedRequest) -> Reply:
        # Phone number node, as in Meta's sample: verified_name, display_phone_number, id, quality_rating.
        node = {"verified_name": number.verified_name, "display_phone_number": number.display_phone_number,
                "id": number.phone_number_id, "quality_rating": number.quality_rating}
        wanted = [f.strip() for f in request.query.get("fields", "").split(",") if f.strip()]
        if wanted:
            node = {k: v for k, v in node.items() if k in wanted or k == "id"}
        return Reply.json(200, node)

    def _send(self, number: BusinessNumber, version: str, token: str, request: RecordedRequest) -> Reply:
        body = request.json
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return invalid_parameter("messaging_product must be \"whatsapp\"")
        to = body.get("to")
        if not isinstance(to, str) or not _digits(to):
            return invalid_parameter("to is required")
        wa_id = self._wa_id(number, to)
        kind = body.get("type", "text")
        if kind == "text":
            text = body.get("text")
            if not isinstance(text, dict) or not str(text.get("body") or "").strip():
                return invalid_parameter("text.body is required")
            opened = number.window_opened.get(wa_id)
            if opened is None or self.clock() - opened > WINDOW_SECONDS:
                return re_engagement()
            category, pricing_type = "service", "free_customer_service"
        elif kind == "template":
            refusal, category = self._check_template(number, body.get("template"))
            if refusal is not None:
                return refusal
            pricing_type = "regular"
        else:
            return invalid_parameter(f"type {kind!r} is not supported by this fake")
        return self._accept(number, version, token, to, wa_id, kind, body, category, pricing_type)

    def _check_template(self, number: BusinessNumber, template: Any) -> tuple[Reply | None, str]:
        if not isinstance(template, dict) or not template.get("name"):
            return invalid_parameter("template.name is required"), ""
        language = (template.get("language") or {}).get("code", "")
        spec = number.templates.get((template["name"], language))
        if spec is None:
            return template_missing(template["name"], language), ""
        counts = {"body": 0, "header": 0}
        for component in template.get("components") or []:
            kind = str(component.get("type", "")).lower()
            if kind in counts:
                counts[kind] += len(component.get("parameters") or [])
        for kind, expected in (("header", spec.header_params), ("body", spec.body_params)):
            if counts[kind] != expected:
                return template_params(kind, counts[kind], expected), ""
        return None, spec.category

    def _accept(self, number: BusinessNumber, version: str, token: str, to: str, wa_id: str, kind: str,
                body: dict[str, Any], category: str, pricing_type: str) -> Reply:
        wamid = "wamid." + secrets.token_urlsafe(36)
        message = SentMessage(wamid, number.phone_number_id, token, to, wa_id, kind, body, version, self.clock(),
                              category, pricing_type)
        with self._lock:
            self.sent.append(message)
        # Success (send-messages page): HTTP 200, "accepted" — delivery comes later by webhook.
        return Reply.json(200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": wa_id}],
                                "messages": [{"id": wamid}]})

    @staticmethod
    def _wa_id(number: BusinessNumber, to: str) -> str:
        """Meta: without a leading "+", the business number's country code is prepended.

        (send-messages page, phone number formats). Whether Meta also prepends it when the digits
        already start with that code is not documented; the fake does not, so it never refuses a
        number that may work.
        """
        digits = _digits(to)
        if to.strip().startswith("+") or digits.startswith(number.country_code):
            return digits
        return number.country_code + digits

    # ---- what Meta would post back -----------------------------------------------------------

    def message(self, wamid: str) -> SentMessage:
        with self._lock:
            return next(m for m in self.sent if m.wamid == wamid)

    def status_webhook(self, wamid: str, status: str, at: float | None = None, app_secret: str | None = None,
                       error_code: int | None = None) -> tuple[bytes, dict[str, str]]:
        """The status webhook Meta would post for a message the fake accepted, signed for `app_secret`.

        `failed` carries `errors[]` (131026 by default for numbers marked `not_on_whatsapp`);
        `sent` and `delivered` carry `pricing` (Meta attaches it to one of delivered/read only).
        """
        message = self.message(wamid)
        number = self.numbers[message.phone_number_id]
        if status == "failed" and error_code is None:
            error_code = 131026 if message.wa_id in number.undeliverable else 131000
        payload = status_payload(
            waba_id=number.waba_id, phone_number_id=number.phone_number_id,
            display_phone_number=_digits(number.display_phone_number),
            wamid=wamid, status=status, recipient_id=message.wa_id, timestamp=int(self.clock() if at is None else at),
            category=message.category, pricing_type=message.pricing_type, error_code=error_code,
            conversation=_version_number(message.version) < 24)
        body = json.dumps(payload, ensure_ascii=False).encode()
        return body, ({"X-Hub-Signature-256": sign_webhook(body, app_secret)} if app_secret else {})


_FAILURES = {
    # errors[] of a failed status: {code, title, message, error_data.details, href} (status webhook page).
    131026: ("Message undeliverable", "Unable to deliver message. Reasons can include: the recipient phone number "
             "is not a WhatsApp phone number; the recipient has not accepted our new Terms of Service and Privacy "
             "Policy; the recipient is using an old WhatsApp version."),
    131047: ("Re-engagement message", "Message failed to send because more than 24 hours have passed since the "
             "customer last replied to this number."),
    131049: ("This message was not delivered to maintain healthy ecosystem engagement.",
             "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."),
    131000: ("Something went wrong", "Message failed to send due to an unknown error."),
}


def status_payload(*, phone_number_id: str, display_phone_number: str, wamid: str, status: str, recipient_id: str,
                   timestamp: int, waba_id: str = "102290129340398", category: str = "utility",
                   pricing_type: str = "regular",
                   error_code: int | None = None, conversation: bool = False,
                   pricing: bool | None = None) -> dict[str, Any]:
    """A `statuses[]` webhook as Meta posts it (status webhook reference; timestamps are strings)."""
    entry: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(timestamp), "recipient_id": recipient_id}
    if pricing is None:
        pricing = status in ("sent", "delivered")
    if conversation and status in ("sent", "delivered", "read"):
        # Before v24.0 only: {id, expiration_timestamp (sent only), origin.type}.
        conversation_id = hashlib.sha256(f"{phone_number_id}{recipient_id}".encode()).hexdigest()[:32]
        entry["conversation"] = {"id": conversation_id, "origin": {"type": category}}
        if status == "sent":
            entry["conversation"]["expiration_timestamp"] = str(timestamp + WINDOW_SECONDS)
    if pricing and status != "failed":
        entry["pricing"] = {"billable": pricing_type == "regular", "pricing_model": "PMP", "type": pricing_type,
                            "category": category}
    if status == "failed":
        code = error_code or 131000
        title, details = _FAILURES.get(code, ("Unknown error", "Message failed to send."))
        entry["errors"] = [{"code": code, "title": title, "message": title, "error_data": {"details": details},
                            "href": "/documentation/business-messaging/whatsapp/support/error-codes"}]
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
             "statuses": [entry]}
    return {"object": "whatsapp_business_account",
            "entry": [{"id": waba_id,
                       "changes": [{"field": "messages", "value": value}]}]}


def sign_webhook(body: bytes, app_secret: str) -> str:
    """`X-Hub-Signature-256` value: "sha256=" + hex HMAC-SHA256 of the raw body keyed by the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _version_number(version: str) -> float:
    return float(version.lstrip("v"))
