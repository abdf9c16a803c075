"""The API described as OpenAPI 3.1 (`GET /v1/openapi.json`), from the pydantic models that validate it.

The schemas are the very models the routes parse with (the event envelopes and staff bodies of
`contract.py`, the settings, campaign, network and ad-spend models), so the document cannot drift
from what the API accepts. What pydantic cannot know — which route takes which model, who may call
it, what it answers — is the table below; tests/api/test_openapi.py holds that table to the routes
Chalice registers and to the event types the contract accepts, so an undescribed route fails a test.

Built once per process, on the first request for it: `import app` never imports this module.
"""

from __future__ import annotations

import json
import re
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from chalicelib.edge import contract
from chalicelib.edge.json_api import PROBLEM_JSON

Role = Literal["public", "webhook", "vendor", "session", "staff", "admin", "manager", "operator"]
REF = "#/components/schemas/{model}"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---- answers the routes build by hand, described here so the document names their fields ------------

class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class EventReceipt(BaseModel):
    """`202` when the event is stored (durably, before the answer), `200` for a `webhook-id` seen before."""

    event_id: str = Field(description="the delivery's `webhook-id` (the idempotency key)")
    status: Literal["accepted", "duplicate"]


class Health(BaseModel):
    status: Literal["ok"]


class ClinicCreated(BaseModel):
    clinic_id: str
    webhook_secret: str = Field(description="`whsec_…`: signs this clinic's events (Standard Webhooks)")
    manager_token: str
    admin_token: str


class TaskPatient(_Open):
    id: str | None
    name: str | None
    phone: str | None = Field(description="E.164")


class Task(_Open):
    """A desk task as `GET …/tasks` lists it (more fields than these are returned: the desk's)."""

    id: str
    kind: str
    scenario: str
    status: Literal["open", "done"]
    patient: TaskPatient
    line: str = Field(description="the clinic's line to call from: `city` or `mobile`")
    due_at: str
    attempt: int
    hint: str | None


class LoginLink(_Open):
    url: str = Field(description="`/desk#code=…` or `/console#code=…`: one use, within 15 minutes")
    expires_at: str


class Session(_Open):
    session_token: str = Field(description="`cf_ses_…`, sent as `Authorization: Bearer …` until it ends")
    ends_at: str = Field(description="the latest end (12 hours after sign-in); idle_minutes without a request end it")
    idle_minutes: int
    role: Literal["admin", "manager"]
    clinic_id: str
    page: Literal["desk", "console"] = Field(description="the page this role works in")


class ImportReceipt(_Open):
    import_id: str


class Problem(BaseModel):
    """RFC 9457 problem details: every 4xx (and the rare 5xx) the API answers."""

    type: str = Field(description="https://clinicflow.dev/problems/<slug>: validation, unauthorized, …")
    title: str
    status: int
    detail: str
    errors: list[FieldProblem] | None = Field(None, description="422: one entry per invalid field")
    assignee: str | None = Field(None, description="409 on a task: who has taken it")
    reason: Literal["unknown", "used", "expired"] | None = Field(None, description="410: why a login link failed")


class FieldProblem(BaseModel):
    field: str = Field(description="the dotted path of the field, query parameter or header")
    message: str


Problem.model_rebuild()


# ---- what each event type does (also the reference in docs/api.md) ---------------------------------

EVENT_SAYS: dict[str, str] = {
    "patient.upserted": "The MIS's patient card: profile, phones (stored E.164), consent, preferences.",
    "lead.created": "An inquiry: opens the `lead` ladder (call from the city line, then mobile, then a message).",
    "lead.lost": "The inquiry ended without a booking; `reason` is a code of `settings.reasons.lost`.",
    "call.missed": "A missed inbound call: a call-back task, first from the line that was dialled.",
    "call.completed": "A call ended; an answered outbound call to the number closes its call-back task.",
    "appointment.created": "A booking: stops every ladder a booking stops, credits the lead and campaign.",
    "appointment.rescheduled": "The appointment's new time; its confirmation is planned again.",
    "appointment.confirmed": "The patient confirmed; the confirmation ladder stops.",
    "appointment.cancelled": "Starts the `cancelled` ladder (a cancellation before its booking is kept).",
    "appointment.no_show": "Starts the `no_show` ladder.",
    "visit.completed": "A visit: revenue, recall date (`recall_in_days`), plan progress, the feedback request.",
    "treatment_plan.accepted": "An accepted plan: followed up when nothing is booked within the set days.",
    "treatment_plan.declined": "A declined plan: followed up after the set days; counts in `declined_plan`.",
    "message.received": "A patient wrote: СТОП/STOP opts out, ДА/YES answers an offer, 1–5 rates a visit.",
    "message.status": "Delivery of a message we sent; `failed` brings the ladder's next step forward.",
    "waitlist.added": "Extension: the patient waits for an earlier slot (offered when one is freed).",
    "waitlist.removed": "Extension: the patient no longer waits.",
    "messenger.linked": "Extension: a patient opened the clinic's Telegram invite (`/start <code>`).",
}


def event_models() -> dict[str, type[BaseModel]]:
    """The contract's event envelopes by their `type`, read from the union the API validates with."""
    union = typing.get_args(contract.InboundEvent)[0]
    return {typing.get_args(m.model_fields["type"].annotation)[0]: m for m in typing.get_args(union)}


# ---- the routes ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Op:
    summary: str
    role: Role
    body: type[BaseModel] | tuple[str, ...] | None = None  # a model (JSON) or raw media types
    ok: int = 200
    answer: type[BaseModel] | str | None = None  # a model, a media type, or None: a JSON object
    query: tuple[str, ...] = ()
    also: tuple[int, ...] = ()  # error statuses beyond the role's
    paged: bool = False


def _operations() -> dict[str, dict[str, Op]]:
    from chalicelib.domain.ad_spend import SpendBody
    from chalicelib.domain.campaign_rules import CampaignIn
    from chalicelib.domain.clinic_settings import ClinicSettings

    c, vendor_types = "/v1/clinics/{clinic_id}", ("application/json", "application/x-www-form-urlencoded")
    html = "text/html"
    return {
        "/v1/health": {"get": Op("Ready to serve", "public", answer=Health)},
        "/v1/openapi.json": {"get": Op("This document", "public", answer="application/json")},
        "/v1/clinics": {"post": Op("Create a clinic", "operator", contract.NewClinic, 201, ClinicCreated)},
        c + "/events": {"post": Op("Receive one MIS event (Standard Webhooks)", "webhook", None, 202, EventReceipt)},
        c + "/events/replay": {"post": Op("Re-apply stored events", "manager", ok=202, query=("limit", "all", "cursor"),
                                          paged=True)},
        c + "/events/failed": {"get": Op("Events parked after their retries", "manager", query=("limit", "cursor"),
                                         paged=True)},
        c + "/connectors": {"get": Op("Each connector's URL and state", "manager")},
        c + "/connectors/{vendor}/check": {"post": Op("«Проверить»: the vendor's handshake and API, as results",
                                                      "manager")},
        c + "/connectors/{vendor}": {
            "get": Op("A vendor's handshake (zd_echo, hub.challenge)", "vendor", answer="text/plain"),
            "post": Op("A vendor's own webhook, verified by its own signature", "vendor", vendor_types)},
        c + "/connectors/{vendor}/events/{name}": {
            "get": Op("A vendor's handshake on a sub-path", "vendor", answer="text/plain"),
            "post": Op("A vendor's webhook on a sub-path (Mango: events/summary)", "vendor", vendor_types)},
        c + "/connectors/{vendor}/events/{group}/{name}": {
            "post": Op("A vendor's webhook two levels down (Mango: events/record/added)", "vendor", vendor_types)},
        c + "/connectors/{vendor}/result/{name}": {
            "post": Op("A vendor's result callback (Mango: result/callback; kept, not acted on)", "vendor",
                       vendor_types)},
        c + "/settings": {"get": Op("The settings document, defaults filled in", "manager", answer=ClinicSettings),
                          "put": Op("Replace the settings document", "manager", ClinicSettings,
                                    answer=ClinicSettings)},
        c + "/settings/preview": {"post": Op("When each step of a ladder would happen", "manager",
                                             contract.LadderPreview)},
        c + "/settings/messages/preview": {"post": Op("A patient message as a sample patient gets it", "manager",
                                                      contract.MessagePreview)},
        c + "/settings/whatsapp-templates/preview": {"post": Op("A WhatsApp template as a sample patient gets it, "
                                                                "filled", "manager", contract.TemplatePreview)},
        c + "/staff": {"get": Op("Staff tokens (never the tokens themselves)", "manager"),
                       "post": Op("Issue a staff token and its login link", "manager", contract.NewStaffToken, 201)},
        c + "/staff/{token_id}": {"delete": Op("Revoke a staff token and end its sessions", "manager")},
        c + "/staff/{token_id}/login-link": {"post": Op("A new one-time login link", "manager", ok=201,
                                                        answer=LoginLink)},
        "/v1/sessions": {"post": Op("Exchange a login link's code (or a typed token) for a session", "session",
                                    contract.SessionRequest, 201, Session)},
        "/v1/sessions/current": {"delete": Op("Sign out", "staff", ok=204)},
        "/v1/me": {"get": Op("Who the token is", "staff")},
        "/v1/me/login-link": {"post": Op("A login link for oneself", "staff", ok=201, answer=LoginLink)},
        c + "/tasks": {"get": Op("The desk's tasks, oldest due first", "admin", query=("status", "limit", "cursor"),
                                 answer=Task, paged=True)},
        c + "/tasks/{task_id}/outcome": {"post": Op("Record a call's outcome", "admin", contract.TaskOutcome,
                                                    answer=Task, also=(409,)),
                                         "delete": Op("Undo the outcome just recorded (held on the server)", "admin",
                                                      answer=Task, also=(409,))},
        c + "/tasks/{task_id}/call": {"post": Op("Click to call: the clinic's PBX rings the administrator, then "
                                                 "the patient", "admin", ok=202, also=(409, 502))},
        c + "/calls/{call_id}": {"get": Op("A call placed from the desk, as the PBX reported it", "admin")},
        c + "/calls/{call_id}/recording": {"get": Op("The call's recording: 302 to the vendor's short-lived URL "
                                                     "(or {url} for Accept: application/json)", "admin",
                                                     also=(502,))},
        c + "/patients/{patient_id}/messages": {"post": Op("Reply to the patient through the clinic's channel",
                                                           "admin", contract.Reply, 201, also=(502,))},
        c + "/tasks/{task_id}/messages": {"post": Op("Answer a chat nobody knows yet (a new inquiry), where it "
                                                     "came from", "admin", contract.ChatReply, 201, also=(502,))},
        c + "/patients/{patient_id}/preferences": {"put": Op("Set the patient's contact preferences", "admin",
                                                             contract.PatientChoices)},
        c + "/tasks/{task_id}/assign": {"post": Op("Take (or hand over) a task", "admin", contract.TaskAssignment,
                                                   answer=Task, also=(409,))},
        c + "/waitlist": {"get": Op("Who waits for an earlier slot", "admin"),
                          "post": Op("Put a patient on the waitlist", "admin", contract.WaitlistData, 201)},
        c + "/waitlist/{patient_id}": {"delete": Op("Take a patient off the waitlist", "admin")},
        c + "/patients/{patient_id}": {"get": Op("A patient and their timeline", "admin")},
        c + "/patients/{patient_id}/telegram-link": {"get": Op("The patient's Telegram invite link", "admin")},
        c + "/recall/run": {"post": Op("Start the recalls due on a date now", "manager", query=("date",))},
        c + "/digest": {"get": Op("The digest of a day (JSON, or the email as HTML)", "manager",
                                  query=("date", "format"))},
        c + "/dashboard": {"get": Op("Figures for a range of days", "manager", query=("from", "to", "lang"))},
        c + "/dashboard/export": {"get": Op("One dashboard table as CSV or XLSX", "manager",
                                            query=("from", "to", "lang", "table", "format"), answer="text/csv")},
        c + "/ad-spend": {"get": Op("Ad spend by month and source", "manager", query=("from", "to")),
                          "put": Op("Save ad spend (JSON rows or a CSV)", "manager", SpendBody)},
        c + "/imports": {"post": Op("Upload the patient base (CSV or XLSX)", "manager", ("text/csv", XLSX), 202,
                                    ImportReceipt),
                         "get": Op("The latest imports, newest first", "manager")},
        c + "/imports/{import_id}/rejected": {"get": Op("The rejected rows as uploaded, with what to fix (CSV)",
                                                        "manager", query=("lang",), answer="text/csv")},
        c + "/imports/{import_id}": {"get": Op("An import's progress and rejected rows", "manager",
                                               query=("limit", "cursor"), paged=True)},
        c + "/segments": {"get": Op("Lost-patient segments with counts", "manager", query=("months",))},
        c + "/segments/{name}": {"get": Op("The patients of a segment", "manager", query=("months",))},
        c + "/campaigns": {"get": Op("Every campaign with its results", "manager"),
                           "post": Op("Create a win-back campaign", "manager", CampaignIn, 201)},
        c + "/campaigns/{campaign_id}": {"get": Op("A campaign's results", "manager")},
        c + "/campaigns/{campaign_id}/{move}": {"post": Op("Pause, resume, finish, or run today's pick now",
                                                           "manager")},
        "/v1/networks/{network_id}": {"get": Op("An owner's network of clinics", "operator"),
                                      "put": Op("Set a network (one nightly message)", "operator",
                                                contract.NetworkBody)},
        "/desk": {"get": Op("The administrators' task desk (a page)", "public", answer=html, query=("lang",))},
        "/desk/{asset}": {"get": Op("The desk's scripts and styles", "public", answer="*/*")},
        "/console": {"get": Op("The managers' console (a page)", "public", answer=html, query=("lang",))},
        "/console/{asset}": {"get": Op("The console's scripts and styles", "public", answer="*/*")},
    }


_QUERY: dict[str, tuple[dict[str, Any], str]] = {
    "limit": ({"type": "integer", "minimum": 1}, "page size (each list says its default and most)"),
    "cursor": ({"type": "string"}, "opaque: pass back the `X-Next-Cursor` of the previous page unchanged"),
    "all": ({"type": "string", "enum": ["1"]}, "1: page through every stored event, not only pending ones"),
    "status": ({"type": "string", "enum": ["open", "done"], "default": "open"}, "which list"),
    "date": ({"type": "string", "format": "date"}, "the clinic's local calendar day; default today"),
    "format": ({"type": "string"}, "digest: `html`; export: `csv` or `xlsx`"),
    "from": ({"type": "string", "format": "date"}, "first day, inclusive"),
    "to": ({"type": "string", "format": "date"}, "last day, inclusive"),
    "lang": ({"type": "string", "enum": ["ru", "en"]}, "language of labels"),
    "table": ({"type": "string"}, "the dashboard table to export"),
    "months": ({"type": "integer", "minimum": 1, "default": 6}, "lapsed after this many months"),
}

_PATH: dict[str, str] = {
    "clinic_id": "the clinic", "patient_id": "the MIS's patient id", "task_id": "a desk task",
    "token_id": "a staff token's id (never the token)", "import_id": "`imp_…`", "campaign_id": "`cmp_…`",
    "name": "a segment (`lapsed`, `plan_unfinished`, `one_visit`, `declined_plan`) or a vendor's sub-path",
    "vendor": "whatsapp, telegram, zadarma, mango or smsru", "move": "run, pause, resume or finish",
    "network_id": "an owner's network", "asset": "a file of the page", "call_id": "a call placed from the desk",
    "group": "a vendor's sub-path",
}

# Error answers by who may call: every route may also answer 422 (a bad path id) and 429 (rate limits).
_ERRORS: dict[Role, tuple[int, ...]] = {
    "public": (), "webhook": (400, 401, 404, 413, 415), "vendor": (401, 403, 404, 413, 415),
    "session": (401, 410, 413), "staff": (401,), "admin": (401, 403, 404), "manager": (401, 403, 404),
    "operator": (401, 403, 404),
}
_SAYS = {400: "The request cannot be read", 401: "Missing, bad or stale signature or token",
         403: "This role (or this verify token) may not do that", 404: "No such clinic or record for this caller",
         409: "The task is closed already, or taken by another administrator (`assignee`)",
         410: "This login link is unknown, used or expired (`reason`): ask for a new one",
         413: "The body is over its limit (256 KiB JSON, 4 MiB uploads)",
         415: "Unsupported Content-Type", 422: "Invalid fields, each named in `errors`",
         429: "Over a rate limit; `Retry-After` says when to retry",
         502: "The clinic's PBX or channel did not take the request (the reason is in detail)"}


# ---- the document ---------------------------------------------------------------------------------

@cache
def document_json() -> str:
    return json.dumps(document(), ensure_ascii=False)


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route (computed once per process)."""
    operations = _operations()
    schemas = _schemas(operations)
    return {
        "openapi": "3.1.0",
        "info": {"title": "ClinicFlow API", "version": "1.2",
                 "description": "Webhooks in, the desk and console's staff API. Signing, event semantics, "
                                "paging and errors: docs/api.md in the repository."},
        "servers": [{"url": "/"}],
        "paths": {path: {method: _operation(path, method, op) for method, op in methods.items()}
                  for path, methods in operations.items()},
        "components": {"schemas": schemas, "responses": _error_responses(), "securitySchemes": _security()},
    }


def response() -> Any:
    """The route's answer: the cached document, cacheable by clients for five minutes."""
    from chalice import Response

    return Response(body=document_json(), headers={"Content-Type": "application/json; charset=utf-8",
                                                   "Cache-Control": "public, max-age=300"})


def _schemas(operations: dict[str, dict[str, Op]]) -> dict[str, Any]:
    models = {m for methods in operations.values() for op in methods.values()
              for m in (op.body, op.answer) if isinstance(m, type)}
    events = event_models()
    models |= set(events.values()) | {Problem}
    _, found = models_json_schema([(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
                                  ref_template=REF)
    schemas: dict[str, Any] = found["$defs"]
    for kind, model in events.items():
        schemas[model.__name__]["description"] = EVENT_SAYS.get(kind, "")
    schemas["InboundEvent"] = {
        "oneOf": [{"$ref": REF.format(model=m.__name__)} for m in events.values()],
        "discriminator": {"propertyName": "type",
                          "mapping": {kind: REF.format(model=m.__name__) for kind, m in events.items()}},
    }
    return schemas


def _operation(path: str, method: str, op: Op) -> dict[str, Any]:
    params = [_path_param(name) for name in re.findall(r"\{(\w+)\}", path)]
    params += [{"name": q, "in": "query", "required": False, "schema": _QUERY[q][0], "description": _QUERY[q][1]}
               for q in op.query]
    if op.role == "webhook":
        params += _webhook_headers()
    out: dict[str, Any] = {"summary": op.summary, "operationId": _operation_id(path, method),
                           "tags": [_tag(path)], "x-clinicflow-role": op.role,
                           "security": _requirement(op.role), "responses": _responses(op)}
    if params:
        out["parameters"] = params
    body = _request_body(op)
    if body:
        out["requestBody"] = body
    return out


def _path_param(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[^#/\\x00-\\x1f]+$"}
    if name == "move":
        schema = {"type": "string", "enum": ["run", "pause", "resume", "finish"]}
    return {"name": name, "in": "path", "required": True, "schema": schema, "description": _PATH[name]}


def _webhook_headers() -> list[dict[str, Any]]:
    says = {"webhook-id": "the idempotency key: the same id again is a duplicate (`200`)",
            "webhook-timestamp": "Unix seconds, within 5 minutes of the server's clock",
            "webhook-signature": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, keyed by the clinic's `whsec_`"}
    return [{"name": h, "in": "header", "required": True, "schema": {"type": "string"}, "description": d}
            for h, d in says.items()]


def _request_body(op: Op) -> dict[str, Any] | None:
    if op.role == "webhook":
        return {"required": True, "content": {"application/json": {"schema": {"$ref": REF.format(
            model="InboundEvent")}}}}
    if isinstance(op.body, type):
        return {"required": True, "content": {"application/json": {"schema": {"$ref": REF.format(
            model=op.body.__name__)}}}}
    if op.body:
        return {"required": True, "description": "the vendor's own format, or the file as exported",
                "content": {media: {"schema": {}} for media in op.body}}
    return None


def _responses(op: Op) -> dict[str, Any]:
    out: dict[str, Any] = {str(op.ok): _success(op)}
    if op.role == "webhook":
        out["200"] = {"description": "A duplicate delivery: nothing changed",
                      "content": {"application/json": {"schema": {"$ref": REF.format(model="EventReceipt")}}}}
    body_errors = (413, 415) if op.body else ()
    for status in sorted({*_ERRORS[op.role], *body_errors, *op.also, 422, 429}):
        out[str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    return out


def _success(op: Op) -> dict[str, Any]:
    if op.ok == 204:
        return {"description": "Done"}
    if isinstance(op.answer, type):
        schema: dict[str, Any] = {"$ref": REF.format(model=op.answer.__name__)}
        if op.answer is Task:
            schema = {"type": "array", "items": schema}
        content: dict[str, Any] = {"application/json": {"schema": schema}}
    elif op.answer:
        content = {op.answer: {"schema": {"type": "string"}}}
        if op.answer == "text/csv":
            content[XLSX] = {"schema": {"type": "string", "contentEncoding": "base64"}}
    else:
        content = {"application/json": {"schema": {"type": "object"}}}
    out: dict[str, Any] = {"description": op.summary, "content": content}
    if op.paged:
        out["headers"] = {"X-Next-Cursor": {"description": "the next page's cursor, when there is one",
                                            "schema": {"type": "string"}},
                          "Link": {"description": '`<…&cursor=…>; rel="next"`', "schema": {"type": "string"}}}
    return out


def _error_responses() -> dict[str, Any]:
    problem = {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}}
    out: dict[str, Any] = {f"Problem{s}": {"description": says, "content": problem} for s, says in _SAYS.items()}
    out["Problem429"]["headers"] = {"Retry-After": {"description": "whole seconds", "schema": {"type": "integer"}}}
    return out


def _security() -> dict[str, Any]:
    return {
        "staff": {"type": "http", "scheme": "bearer",
                  "description": "A staff token (admin or manager of one clinic) or a session (`cf_ses_…`)."},
        "operator": {"type": "http", "scheme": "bearer", "description": "The deployment's operator token."},
        "webhookSignature": {"type": "apiKey", "in": "header", "name": "webhook-signature",
                             "description": "Standard Webhooks, with `webhook-id` and `webhook-timestamp`."},
    }


def _requirement(role: Role) -> list[dict[str, list[str]]]:
    if role in ("admin", "manager", "staff"):
        return [{"staff": []}]
    if role == "operator":
        return [{"operator": []}]
    if role == "webhook":
        return [{"webhookSignature": []}]
    return []  # public pages, sessions by code, and vendors (each signs its own way: docs/api-security.md)


def _operation_id(path: str, method: str) -> str:
    words = re.sub(r"[{}]", "", path.removeprefix("/v1/")).replace(".", "_").replace("-", "_")
    return f"{method}_{words.replace('/', '_')}"


def _tag(path: str) -> str:
    for word, tag in (("/events", "events"), ("/connectors", "connectors"), ("/tasks", "desk"),
                      ("/campaigns", "campaigns"), ("/imports", "imports"), ("/segments", "imports")):
        if word in path:
            return tag
    return "staff" if path.startswith("/v1/") else "pages"
