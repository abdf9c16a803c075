"""The clinic's settings document: defaults, validation and typed access."""

from __future__ import annotations

import importlib
import json
import re
import sys
from datetime import date, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue

from chalicelib.domain import reasons
from chalicelib.domain.phones import normalise_phone
from chalicelib.platform.errors import Invalid
from chalicelib.platform.outbound import check_slack_webhook

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Language = Literal["ru", "en"]
Line = Literal["city", "mobile"]
MessageChannel = Literal["whatsapp", "telegram", "sms", "email"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_hhmm(value: str) -> time:
    """`"24:00"` is the end of the day and maps to time.max."""
    if value == "24:00":
        return time.max
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)


class Step(_Doc):
    """One rung of a contact ladder: a call from a line, or a message on a channel."""

    action: Literal["call", "message"]
    line: Line | None = None
    channel: MessageChannel | Literal["preferred"] | None = None
    delay_minutes: int = Field(0, ge=0, le=60 * 24 * 90)

    @model_validator(mode="after")
    def _fill_target(self) -> Step:
        if self.action == "call":
            self.line = self.line or "city"
            self.channel = None
        else:
            self.channel = self.channel or "preferred"
            self.line = None
        return self


def ladder(*items: tuple[str, str, int]) -> list[Step]:
    """A default ladder written as (action, line or channel, delay in minutes) rungs."""
    out = []
    for action, target, delay in items:
        key = "line" if action == "call" else "channel"
        out.append(Step.model_validate({"action": action, key: target, "delay_minutes": delay}))
    return out


Steps = Annotated[list[Step], Field(min_length=1, max_length=10)]


class Section(_Doc):
    """A scenario's own part of the settings (`sequences.<key>`): a model its module declares."""


class Sequence(Section):
    """A scenario's settings: switched on or off, and its ladder (a scenario's own model adds its waits)."""

    enabled: bool = True
    steps: Steps


# Who declares the scenarios' sections: the scenario registry, which stands above the domain. It is imported
# on the first use of a section (never by name from here otherwise), so a settings document is never read or
# validated without its scenarios' parts, and `import app` does not pay for the registry before it needs it.
DECLARED_BY = "chalicelib.scenarios"


def _declarations() -> None:
    if DECLARED_BY not in sys.modules:
        importlib.import_module(DECLARED_BY)


class _Sections(_Doc):
    """A part of the settings whose fields the scenarios declare (`declare`), not this module.

    Each scenario module brings its own settings model and default ladder, or its own SLA; the scenario
    registry declares them here when it registers the scenario, so adding a scenario touches no line of
    this file. A declared field is validated by its model (errors named `sequences.<key>.<field>`) and
    stored, read and dumped like a declared pydantic field; keys nobody declared are kept as they are.
    JSON (the API's input, always parsed strictly) is validated strictly here too.
    """

    _declared: ClassVar[dict[str, tuple[Any, Any]]]
    _model: ClassVar[type[BaseModel] | None]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._declared, cls._model = {}, None

    if TYPE_CHECKING:  # a declared field is read as an attribute (`settings.sequences.recall.after_days`)
        def __getattr__(self, name: str) -> Any: ...

    @classmethod
    def declare(cls, key: str, annotation: Any, field: Any) -> None:
        """Add field `key` (a type and its pydantic Field, with its default)."""
        if key in cls.model_fields or key in cls._declared:
            raise ValueError(f"{cls.__name__}.{key} is declared already")
        cls._declared[key] = (annotation, field)
        cls._model = None

    @classmethod
    def withdraw(cls, key: str) -> None:
        cls._declared.pop(key, None)
        cls._model = None

    @classmethod
    def declared(cls) -> tuple[str, ...]:
        _declarations()
        return tuple(cls._declared)

    @classmethod
    def sections_model(cls) -> type[BaseModel]:
        """A model with the declared fields, built again after each change."""
        _declarations()
        if cls._model is None:
            fields: dict[str, Any] = dict(cls._declared)
            cls._model = create_model(f"{cls.__name__}Declared", __base__=_Doc, **fields)
        return cls._model

    @model_validator(mode="wrap")
    @classmethod
    def _validate_declared(cls, data: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo) -> Any:
        if isinstance(data, cls) or not isinstance(data, dict):
            return handler(data)
        model = cls.sections_model()
        own = {k: v for k, v in data.items() if k not in cls._declared}
        given = {k: v for k, v in data.items() if k in cls._declared}
        if info.mode == "json":
            sections = model.model_validate_json(json.dumps(given, default=str), strict=True)
        else:
            sections = model.model_validate(given)
        result = handler(own)
        extra = result.__pydantic_extra__ if result.__pydantic_extra__ is not None else {}
        result.__pydantic_extra__ = {**{k: getattr(sections, k) for k in cls._declared}, **extra}
        return result

    @classmethod
    def __get_pydantic_json_schema__(cls, core: Any, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        """The declared fields in the API document too."""
        schema = handler.resolve_ref_schema(handler(core))
        declared = handler.resolve_ref_schema(handler(cls.sections_model().__pydantic_core_schema__))
        schema.setdefault("properties", {}).update(declared.get("properties", {}))
        return schema


class Sequences(_Sections):
    """Each scenario's settings under its `settings_key`: its own model, declared by its module."""


class Lines(_Doc):
    """The clinic's outgoing numbers, by the line names the ladders use."""

    city: str | None = None
    mobile: str | None = None


class DigestSettings(_Doc):
    enabled: bool = True
    hour: int = Field(21, ge=0, le=23)
    emails: list[str] = Field(default_factory=list, max_length=20)
    slack_webhook_url: str | None = None
    # A Telegram chat (id, or @channel) the clinic's bot (connectors.telegram.bot_token) posts the digest and
    # escalations to; the bot must be a member of that chat.
    telegram_chat_id: str | None = Field(None, pattern=r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$")

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for email in value:
            if not _EMAIL.match(email):
                raise Invalid("email", f"not an email address: {email}", value=email)
        return value

    @field_validator("slack_webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return check_slack_webhook(value) if value else None  # Slack's webhook hosts only (no SSRF)


class ContactCap(_Doc):
    """How often one patient may be contacted automatically."""

    per_day: int = Field(2, ge=1, le=20)
    per_week: int = Field(5, ge=1, le=50)


class ConsentDefaults(_Doc):
    """What a patient base export says when it has no column for a consent (set per clinic).

    Visit reminders are a service message the patient expects, not advertising: on by default.
    Offers (marketing) are advertising: off unless the export says the patient agreed."""

    reminders: bool = True
    recall: bool = False
    feedback: bool = False
    marketing: bool = False


class ImportSettings(_Doc):
    consent_defaults: ConsentDefaults = Field(default_factory=ConsentDefaults)


class Sla(_Sections):
    """Minutes of working time within which a task must be worked: a scenario may declare its own
    (`missed_call`, `lead`); the rest are worked within `default`."""

    default: int = Field(240, ge=1, le=7 * 24 * 60)
    task_expires_hours: int = Field(72, ge=1, le=24 * 30)



# ---- connectors: the vendors' own webhooks (docs/connecting.md) --------------------------------

SECRET_MASK = "***"  # noqa: S105 - the mask shown instead of a secret
_SECRET: dict[str, Any] = {"secret": True}


def _secret(pattern: str = r"^\S{1,512}$") -> Any:
    """A credential: masked as "***" on GET, kept when a PUT sends "***" back."""
    return Field(pattern=pattern, json_schema_extra=_SECRET)


def _sending_secret(pattern: str = r"^\S{1,1024}$") -> Any:
    """A credential the clinic sends with (optional: a clinic may only receive through the vendor)."""
    return Field(None, pattern=pattern, json_schema_extra=_SECRET)


class WhatsAppConnector(_Doc):
    """WhatsApp Cloud API: Meta's handshake token and the app secret that signs each POST; with `token`
    (a system user's permanent access token) and `phone_number_id` the clinic also sends from its number."""

    verify_token: str = _secret()
    app_secret: str = _secret()
    phone_number_id: str | None = Field(None, pattern=r"^\d{5,30}$")
    token: str | None = _sending_secret()
    display_number: str | None = Field(None, max_length=40)  # what patients see: shown as the identity


class EmailConnector(_Doc):
    """The clinic's e-mail identity: an SES-verified `sender`, and where patients' answers go (`reply_to`)."""

    sender: str | None = Field(None, max_length=254)
    reply_to: str | None = Field(None, max_length=254)

    @field_validator("sender", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        """A bare address (`hello@smile.ru`): SES names the sender as the verified identity shows it."""
        if value and (not value.isascii() or not _EMAIL.match(value)):
            raise ValueError(f"not a plain email address: {value}")
        return value or None


class TelegramConnector(_Doc):
    """Telegram Bot API: the bot, and the secret token Telegram echoes in a header."""

    bot_token: str = _secret(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
    secret_token: str = _secret(r"^[A-Za-z0-9_-]{1,256}$")  # setWebhook's own rule
    bot_username: str = Field(pattern=r"^@?[A-Za-z][A-Za-z0-9_]{3,31}$")

    @field_validator("bot_username")
    @classmethod
    def _no_at(cls, value: str) -> str:
        return value.lstrip("@")


class ZadarmaConnector(_Doc):
    """Zadarma: the API secret (ss.zadarma.com/api) that signs notifications."""

    secret: str = _secret()
    key: str | None = None


class MangoConnector(_Doc):
    """Mango Office VPBX: the API key ("уникальный код АТС") and salt ("ключ для создания подписи")."""

    api_key: str = _secret()
    api_salt: str = _secret()


class SmsRuConnector(_Doc):
    """SMS.ru delivery reports: a token of our own in the callback URL (`?token=`); with `api_id` and an
    approved alpha-name `sender` the clinic sends its SMS from its own account, signed with its own name."""

    callback_token: str = _secret(r"^[A-Za-z0-9_-]{16,128}$")
    api_id: str | None = _sending_secret(r"^[A-Za-z0-9-]{8,64}$")
    sender: str | None = Field(None, pattern=r"^[A-Za-z0-9 .\-]{2,11}$")  # SMS.ru: up to 11 Latin characters


class Connectors(_Doc):
    """Each vendor's credentials; a vendor left out (null) is not connected (404)."""

    whatsapp: WhatsAppConnector | None = None
    telegram: TelegramConnector | None = None
    zadarma: ZadarmaConnector | None = None
    mango: MangoConnector | None = None
    smsru: SmsRuConnector | None = None
    email: EmailConnector | None = None


def secret_fields() -> dict[str, list[str]]:
    """Per connector, the names of its credential fields."""
    out: dict[str, list[str]] = {}
    for vendor, info in Connectors.model_fields.items():
        model = next(a for a in getattr(info.annotation, "__args__", ()) if isinstance(a, type)
                     and issubclass(a, BaseModel))
        out[vendor] = [name for name, f in model.model_fields.items() if f.json_schema_extra == _SECRET]
    return {vendor: names for vendor, names in out.items() if names}


def masked(document: dict[str, Any]) -> dict[str, Any]:
    """The settings document with every connector secret shown as "***"."""
    connectors = document.get("connectors") or {}
    for vendor, names in secret_fields().items():
        conf = connectors.get(vendor)
        for name in names:
            if isinstance(conf, dict) and conf.get(name):
                conf[name] = SECRET_MASK
    return document


def keep_secrets(document: dict[str, Any], stored: ClinicSettings) -> list[str]:
    """Put the stored value back wherever a PUT sent "***"; returns the fields that had none."""
    connectors = document.get("connectors")
    missing: list[str] = []
    if not isinstance(connectors, dict):
        return missing
    for vendor, names in secret_fields().items():
        conf = connectors.get(vendor)
        if not isinstance(conf, dict):
            continue
        old = getattr(stored.connectors, vendor)
        for name in names:
            if conf.get(name) == SECRET_MASK:
                if old is None or getattr(old, name) is None:
                    missing.append(f"connectors.{vendor}.{name}")
                else:
                    conf[name] = getattr(old, name)
    return missing


# ---- sending as the clinic: WhatsApp templates and message prices (CONTRACT section 7) ------------

# The facts a template's body parameters may be filled with, in the order the clinic's template numbers them.
TEMPLATE_FACTS = ("patient_first_name", "patient_name", "date", "time", "doctor", "clinic", "clinic_phone",
                  "offer", "service", "telegram_link")
TemplateFact = Literal["patient_first_name", "patient_name", "date", "time", "doctor", "clinic", "clinic_phone",
                       "offer", "service", "telegram_link"]


class WhatsAppTemplate(_Doc):
    """A template the clinic had approved at Meta, used outside the 24-hour window for one scenario."""

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")  # Meta: lower case, digits, underscores
    language: str = Field("ru", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")  # ru, en_US...
    parameters: list[TemplateFact] = Field(default_factory=list, max_length=10)  # {{1}}, {{2}}... in order
    body: str | None = Field(None, max_length=1024)  # the body as submitted to Meta: for the preview and timeline

    @model_validator(mode="after")
    def _counts(self) -> WhatsAppTemplate:
        """Meta refuses a template whose parameters differ in number from its {{n}} (132000): say so here."""
        if self.body:
            numbers = {int(n) for n in re.findall(r"\{\{\s*(\d+)\s*\}\}", self.body)}
            if numbers != set(range(1, len(self.parameters) + 1)):
                raise ValueError(f"the body has {{{{1}}}}..{{{{{len(numbers)}}}}} placeholders but "
                                 f"{len(self.parameters)} parameters are named")
        return self


class Sending(_Doc):
    """How the clinic's own messages go out."""

    # The deployment's shared WhatsApp/Telegram/SMS/e-mail accounts, for a channel the clinic has none of its
    # own. Off: patients then never get a message from someone else's number, bot or name.
    shared_fallback: bool = False
    # The first SMS or WhatsApp message of a ladder carries the clinic's Telegram invite link (needs the bot).
    telegram_invite: bool = False
    # WhatsApp's price per message by its pricing category (status webhooks' `pricing.category`).
    whatsapp_prices: dict[Annotated[str, Field(pattern=r"^[a-z_\-]{1,40}$")],
                          Annotated[Decimal, Field(ge=0, le=100000, decimal_places=4)]] = Field(
        default_factory=dict, max_length=20)


class SpecialDays(_Doc):
    """Dates with other hours than the weekday's: open on holidays (3–8 January), or closed."""

    start: date
    end: date
    hours: tuple[str, str] | None = None  # None: closed on these dates
    note: str = Field("", max_length=80)

    @field_validator("hours")
    @classmethod
    def _span(cls, value: tuple[str, str] | None) -> tuple[str, str] | None:
        if value is not None:
            start, end = value
            if not (_HHMM.match(start) and _HHMM.match(end)):
                raise Invalid("hhmm", "times are HH:MM")
            if parse_hhmm(start) >= parse_hhmm(end):
                raise Invalid("opening_before_closing", "opening must be before closing")
        return value

    @model_validator(mode="after")
    def _order(self) -> SpecialDays:
        if self.end < self.start:
            raise Invalid("last_before_first", "the last date must not be before the first")
        if self.end - self.start > timedelta(days=62):
            raise Invalid("days_at_most", "at most 62 days in one entry", days=62)
        return self

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


class Reason(_Doc):
    """One reason of the clinic's list: a stable code, the name people read, and words that mean it."""

    code: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    name: str = Field(min_length=1, max_length=80)
    aliases: list[Annotated[str, Field(min_length=1, max_length=80)]] = Field(default_factory=list, max_length=30)


ReasonList = Annotated[list[Reason], Field(min_length=1, max_length=30)]


class Reasons(_Doc):
    """Why leads (and patients called back) are lost, and why appointments are cancelled (docs/api.md)."""

    lost: ReasonList = Field(default_factory=lambda: [Reason.model_validate(r) for r in reasons.defaults("lost", "ru")])
    cancelled: ReasonList = Field(
        default_factory=lambda: [Reason.model_validate(r) for r in reasons.defaults("cancelled", "ru")])

    @field_validator("lost", "cancelled")
    @classmethod
    def _codes(cls, value: list[Reason]) -> list[Reason]:
        codes = [r.code for r in value]
        if len(set(codes)) != len(codes):
            raise Invalid("codes_once", "each code once")
        if reasons.OTHER not in codes:
            raise Invalid("keeps_other",
                          f"the list keeps `{reasons.OTHER}`: free text that matches nothing is counted there")
        return value


def _default_hours() -> dict[Weekday, tuple[str, str] | None]:
    return {"mon": ("09:00", "21:00"), "tue": ("09:00", "21:00"), "wed": ("09:00", "21:00"),
            "thu": ("09:00", "21:00"), "fri": ("09:00", "21:00"), "sat": ("10:00", "18:00"), "sun": None}


class ClinicSettings(_Doc):
    """Everything a manager may change without a deploy."""

    timezone: str = "Europe/Moscow"
    language: Language = "ru"
    phone_region: str = Field("RU", pattern=r"^[A-Z]{2}$")
    working_hours: dict[Weekday, tuple[str, str] | None] = Field(default_factory=_default_hours)
    holidays_country: str | None = "RU"
    special_days: list[SpecialDays] = Field(default_factory=list, max_length=50)
    lines: Lines = Field(default_factory=Lines)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    sequences: Sequences = Field(default_factory=Sequences)
    contact_cap: ContactCap = Field(default_factory=ContactCap)
    sla_minutes: Sla = Field(default_factory=Sla)
    auto_reply: bool = True  # answer inquiries that arrive while the clinic is closed
    # How many sources, administrators, reasons... a day's figures keep apart; the rest of that day's are
    # counted as «другое» (keeps the day's counter item bounded: domain/counters.py).
    kpi_top_n: int = Field(25, ge=5, le=60)
    currency: str = Field("RUB", pattern=r"^[A-Z]{3}$")
    doctors: dict[str, str] = Field(default_factory=dict)  # MIS doctor id -> name patients know
    admins: dict[str, str] = Field(default_factory=dict)  # MIS administrator id -> name
    connectors: Connectors = Field(default_factory=Connectors)
    source_names: dict[str, str] = Field(default_factory=dict)  # lead source code -> name the manager reads
    channel_names: dict[str, str] = Field(default_factory=dict)  # lead channel code -> name
    reasons: Reasons = Field(default_factory=Reasons)
    # MIS administrator id -> the PBX extension they answer and call from (Zadarma `internal`, Mango `extension`)
    staff_extensions: dict[Annotated[str, Field(min_length=1, max_length=128)],
                           Annotated[str, Field(pattern=r"^[0-9]{1,10}$")]] = Field(default_factory=dict,
                                                                                  max_length=200)

    @model_validator(mode="after")
    def _reasons_in_language(self) -> ClinicSettings:
        """A clinic that never edited its lists gets them named in its own language."""
        if "reasons" not in self.model_fields_set and self.language != "ru":
            self.reasons = Reasons.model_validate({k: reasons.defaults(k, self.language)  # type: ignore[arg-type]
                                                   for k in ("lost", "cancelled")})
        return self

    @field_validator("staff_extensions")
    @classmethod
    def _one_admin_per_extension(cls, value: dict[str, str]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for admin, extension in value.items():
            if extension in seen:
                raise Invalid("extension_shared", f"extension {extension} is both {seen[extension]}'s and {admin}'s",
                              at=(admin,), extension=extension, other=seen[extension])
            seen[extension] = admin
        return value

    def admin_of_extension(self, extension: str | None) -> str | None:
        """The administrator whose PBX extension this is (None: nobody's, or no extension given)."""
        if not extension:
            return None
        return next((admin for admin, ext in self.staff_extensions.items() if ext == extension.strip()), None)
    imports: ImportSettings = Field(default_factory=ImportSettings)  # patient base uploads
    sending: Sending = Field(default_factory=Sending)
    # scenario (or notice purpose) -> the approved template WhatsApp needs outside the 24-hour window
    whatsapp_templates: dict[Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")], WhatsAppTemplate] = Field(
        default_factory=dict, max_length=40)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid("timezone", f"unknown IANA time zone: {value}", value=value) from None
        return value

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: dict[str, tuple[str, str] | None]) -> dict[str, tuple[str, str] | None]:
        for day, span in value.items():
            if span is None:
                continue
            start, end = span
            if not (_HHMM.match(start) and _HHMM.match(end)):
                raise Invalid("hhmm", f"{day}: times are HH:MM", at=(day,))
            if parse_hhmm(start) >= parse_hhmm(end):
                raise Invalid("opening_before_closing", f"{day}: opening must be before closing", at=(day,))
        return {day: value.get(day) for day in WEEKDAYS}

    @field_validator("lines")
    @classmethod
    def _lines(cls, value: Lines, info: ValidationInfo) -> Lines:
        region = info.data.get("phone_region", "RU")
        for name in ("city", "mobile"):
            number = getattr(value, name)
            if number:
                try:
                    setattr(value, name, normalise_phone(number, region))
                except ValueError as exc:
                    raise Invalid("phone", f"{name}: {exc}", at=(name,)) from None
        return value

    @field_validator("holidays_country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import holidays  # ~155 ms cold: only when a settings document names a country

        code = value.upper()
        if code not in holidays.list_supported_countries():
            raise Invalid("holiday_country", f"no public holiday calendar for {value}", value=value)
        return code

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def telegram_bot_token(self) -> str | None:
        """The clinic's bot token from `connectors.telegram`, if the clinic connected its bot."""
        telegram = self.connectors.telegram
        return telegram.bot_token if telegram is not None and telegram.bot_token != SECRET_MASK else None
