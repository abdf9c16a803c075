"""ClinicFlow on Chalice: routes, queue consumers and schedules, wired to `chalicelib`."""

from __future__ import annotations

from typing import Any

from chalice import Chalice, ConvertToMiddleware, Rate
from chalice.app import Request

from chalicelib.edge.json_api import handled, json_response, problem_middleware, source_limits
from chalicelib.platform.observability import logger, request_keys
from chalicelib.platform.settings import get_settings

# Each route, consumer and schedule below imports its part of chalicelib when first called: every Lambda
# loads this module, and importing all of chalicelib up front costs ~280 ms more per cold start
# (`import app` 170 ms → 460 ms with every handler's imports, measured 2026-11-25 on the bench machine).
app = Chalice(app_name="clinicflow")
# clear_state: keys appended for one invocation (a clinic, an event) never leak into the next
app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
app.register_middleware(request_keys, "http")
app.register_middleware(problem_middleware, "http")
app.register_middleware(source_limits, "http")
app.api.binary_types.append("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
_settings = get_settings()


def _request() -> Request:
    request = app.current_request
    assert request is not None, "only called while serving a request"
    return request


def _body() -> bytes:
    raw = _request().raw_body
    return raw.encode() if isinstance(raw, str) else bytes(raw or b"")


def _auth() -> str | None:
    return _request().headers.get("authorization")


def _query(name: str) -> str | None:
    params: dict[str, str] = dict(_request().query_params or {})
    return params.get(name)


@app.route("/v1/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/v1/openapi.json", methods=["GET"])
@handled
def openapi_document() -> Any:
    from chalicelib.edge import openapi  # built on the first request, never on a cold start

    return openapi.response()


# ---- inbound events -------------------------------------------------------------------------

@app.route("/v1/clinics/{clinic_id}/events", methods=["POST"], content_types=["application/json"])
@handled
def receive_event(clinic_id: str) -> Any:
    from chalicelib.engine import ingest
    from chalicelib.handlers import wiring

    names = ("webhook-id", "webhook-timestamp", "webhook-signature")
    headers = {name: _request().headers.get(name, "") for name in names}
    receipt = ingest.receive(wiring.runtime(), wiring.webhook_secret, clinic_id, _body(), headers)
    return json_response(receipt.body, receipt.status)


@app.route("/v1/clinics/{clinic_id}/events/replay", methods=["POST"])
@handled
def replay_events(clinic_id: str) -> Any:
    from chalicelib.edge.paging import query_limit
    from chalicelib.engine import ingest
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    limit = query_limit(_query("limit"), ingest.REPLAY_LIMIT, ingest.REPLAY_MOST)
    done = ingest.replay(wiring.runtime(), clinic_id, _query("all") == "1", limit, _query("cursor"))
    return _paged(json_response(done.view(), 202), done.cursor, f"/v1/clinics/{clinic_id}/events/replay?all=1"
                  f"&limit={limit}")


@app.route("/v1/clinics/{clinic_id}/events/failed", methods=["GET"])
@handled
def failed_events(clinic_id: str) -> Any:
    from chalicelib.edge.paging import query_limit
    from chalicelib.engine import ingest
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    limit = query_limit(_query("limit"), 50, 200)
    found, cursor = ingest.failed_events(wiring.runtime(), clinic_id, limit, _query("cursor"))
    return _paged(json_response({"failed": found, "next_cursor": cursor}), cursor,
                  f"/v1/clinics/{clinic_id}/events/failed?limit={limit}")


def _paged(response: Any, cursor: str | None, path: str) -> Any:
    """The next page named in headers too, as the task list does (`X-Next-Cursor`, `Link: rel="next"`)."""
    if cursor:
        response.headers.update({"X-Next-Cursor": cursor, "Link": f'<{path}&cursor={cursor}>; rel="next"'})
    return response


# ---- connectors: vendors' own webhooks (telephony, messengers) ------------------------------

_VENDOR_TYPES = ["application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data"]


@app.route("/v1/clinics/{clinic_id}/connectors/{vendor}", methods=["GET", "POST"], content_types=_VENDOR_TYPES)
@handled
def connector(clinic_id: str, vendor: str) -> Any:
    return _connector(clinic_id, vendor, "")


@app.route("/v1/clinics/{clinic_id}/connectors/{vendor}/events/{name}", methods=["GET", "POST"],
           content_types=_VENDOR_TYPES)
@handled
def connector_event(clinic_id: str, vendor: str, name: str) -> Any:
    return _connector(clinic_id, vendor, f"events/{name}")


@app.route("/v1/clinics/{clinic_id}/connectors/{vendor}/events/{group}/{name}", methods=["POST"],
           content_types=_VENDOR_TYPES)
@handled
def connector_event_group(clinic_id: str, vendor: str, group: str, name: str) -> Any:
    return _connector(clinic_id, vendor, f"events/{group}/{name}")  # Mango's events/record/added


@app.route("/v1/clinics/{clinic_id}/connectors/{vendor}/result/{name}", methods=["POST"],
           content_types=_VENDOR_TYPES)
@handled
def connector_result(clinic_id: str, vendor: str, name: str) -> Any:
    return _connector(clinic_id, vendor, f"result/{name}")  # Mango's result/callback (kept, not acted on)


def _connector(clinic_id: str, vendor: str, path: str) -> Any:
    from chalice import Response

    from chalicelib import connectors
    from chalicelib.connectors.base import VendorRequest
    from chalicelib.handlers import wiring

    req = _request()
    request = VendorRequest(req.method, _body(), {k.lower(): v for k, v in req.headers.items()},
                            dict(req.query_params or {}), path)
    answer = connectors.receive(wiring.runtime(), clinic_id, vendor, request)
    return Response(body=answer.body, status_code=answer.status, headers={"Content-Type": answer.content_type})


@app.route("/v1/clinics/{clinic_id}/connectors", methods=["GET"])
@handled
def connectors_status(clinic_id: str) -> Any:
    from chalicelib.connectors.telegram_links import connector_status
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    return json_response(connector_status(wiring.runtime(), clinic_id))


@app.route("/v1/clinics/{clinic_id}/connectors/{vendor}/check", methods=["POST"])
@handled
def connector_check(clinic_id: str, vendor: str) -> Any:
    from chalicelib.connectors.checks import check
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    return json_response(check(wiring.runtime(), clinic_id, vendor, dict(wiring.secrets().channels)))


@app.route("/v1/clinics/{clinic_id}/patients/{patient_id}/telegram-link", methods=["GET"])
@handled
def telegram_link(clinic_id: str, patient_id: str) -> Any:
    from chalicelib.connectors.telegram_links import invite_link
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    return json_response(invite_link(wiring.runtime(), clinic_id, patient_id))


# ---- clinics, settings, staff ---------------------------------------------------------------

@app.route("/v1/clinics", methods=["POST"])
@handled
def create_clinic() -> Any:
    from chalicelib.console import clinics
    from chalicelib.edge.contract import NewClinic
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    wiring.authenticator().operator(_auth())
    body = parse_body(NewClinic, _body())
    return json_response(clinics.create_clinic(wiring.runtime(), wiring.webhook_secret, body), 201)


@app.route("/v1/clinics/{clinic_id}/settings", methods=["GET", "PUT"])
@handled
def clinic_settings(clinic_id: str) -> Any:
    from chalicelib.console import clinics
    from chalicelib.edge.json_api import json_document
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    if _request().method == "GET":
        return json_response(clinics.settings_document(wiring.runtime(), clinic_id))
    document = json_document(_body())
    return json_response(clinics.replace_settings(wiring.runtime(), clinic_id, document, wiring.settings_saved))


@app.route("/v1/clinics/{clinic_id}/staff", methods=["GET", "POST"])
@handled
def staff(clinic_id: str) -> Any:
    from chalicelib.console import clinics
    from chalicelib.edge import sessions
    from chalicelib.edge.auth import token_hash
    from chalicelib.edge.contract import NewStaffToken
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    rt = wiring.runtime()
    if _request().method == "GET":
        return json_response({"staff": clinics.list_staff(rt, clinic_id)})
    issued = clinics.issue_token(rt, clinic_id, parse_body(NewStaffToken, _body()))
    link = sessions.issue_link(rt, clinic_id, token_hash(issued["token"]), issued["role"])
    return json_response({**issued, "login_link": link}, 201)


@app.route("/v1/clinics/{clinic_id}/staff/{token_id}", methods=["DELETE"])
@handled
def revoke_staff(clinic_id: str, token_id: str) -> Any:
    from chalicelib.console import clinics
    from chalicelib.edge import sessions
    from chalicelib.handlers import wiring

    authenticator = wiring.authenticator()
    authenticator.clinic_staff(_auth(), clinic_id, "manager")
    authenticator.forget(clinics.revoke_staff(wiring.runtime(), clinic_id, token_id))
    ended = sessions.end_all_of(wiring.runtime(), clinic_id, token_id)
    return json_response({"revoked": token_id, "sessions_ended": ended})


@app.route("/v1/clinics/{clinic_id}/staff/{token_id}/login-link", methods=["POST"])
@handled
def staff_login_link(clinic_id: str, token_id: str) -> Any:
    from chalicelib.edge import sessions
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    return json_response(sessions.link_for_staff(wiring.runtime(), clinic_id, token_id), 201)


# ---- signing in from a browser: one-time login links, sessions ------------------------------

@app.route("/v1/sessions", methods=["POST"])
@handled
def open_session() -> Any:
    from chalicelib.edge import limits, sessions
    from chalicelib.edge.contract import SessionRequest
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    body = parse_body(SessionRequest, _body())
    rt = wiring.runtime()
    opened = sessions.exchange_code(rt, body.code) if body.code else sessions.exchange_token(rt, body.token or "")
    limits.admit(opened.staff.clinic_id or "", "staff")
    return json_response(opened.view(), 201)


@app.route("/v1/sessions/current", methods=["DELETE"])
@handled
def end_session() -> Any:
    from chalice import Response

    from chalicelib.edge import sessions
    from chalicelib.edge.auth import SESSION_PREFIX, token_hash
    from chalicelib.handlers import wiring

    wiring.authenticator().staff(_auth())
    token = (_auth() or "").partition(" ")[2].strip()
    if token.startswith(SESSION_PREFIX):
        sessions.end(wiring.runtime(), token_hash(token))
    return Response(body="", status_code=204)


@app.route("/v1/me/login-link", methods=["POST"])
@handled
def my_login_link() -> Any:
    from chalicelib.edge import sessions
    from chalicelib.handlers import wiring

    return json_response(sessions.link_for_self(wiring.runtime(), wiring.authenticator().staff(_auth())), 201)


# ---- the task desk --------------------------------------------------------------------------

@app.route("/v1/clinics/{clinic_id}/tasks", methods=["GET"])
@handled
def list_tasks(clinic_id: str) -> Any:
    from chalicelib.desk import tasks
    from chalicelib.edge.paging import query_limit
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    rt = wiring.runtime()
    limit, status = query_limit(_query("limit"), 200, 500), _query("status") or "open"
    found, cursor = tasks.task_page(rt.store, clinic_id, status, limit, _query("cursor"))
    response = json_response([tasks.task_view(t, rt.clock()) for t in found])
    if cursor:  # the body stays a list (the contract); the next page is named in headers
        response.headers.update({"X-Next-Cursor": cursor, "Link": f'</v1/clinics/{clinic_id}/tasks?status={status}'
                                 f'&limit={limit}&cursor={cursor}>; rel="next"'})
    return response


@app.route("/v1/clinics/{clinic_id}/tasks/{task_id}/outcome", methods=["POST"])
@handled
def task_outcome(clinic_id: str, task_id: str) -> Any:
    from chalicelib.desk import tasks
    from chalicelib.edge.contract import TaskOutcome
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    staff = wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    body = parse_body(TaskOutcome, _body())
    rt = wiring.runtime()
    if _query("undo"):  # the desk: held for tasks.UNDO, then applied by the server (DELETE takes it back)
        task = rt.unit(clinic_id, lambda ctx: tasks.hold_outcome(ctx, task_id, body, staff))
        rt.actions.send({"action": "settle_outcome", "clinic_id": clinic_id, "task_id": task_id},
                        delay_seconds=int(tasks.UNDO.total_seconds()))
        return json_response(tasks.task_view(task, rt.clock()), status=202)
    task = rt.unit(clinic_id, lambda ctx: tasks.record_outcome(ctx, task_id, body, staff))
    return json_response(tasks.task_view(task, rt.clock()))


@app.route("/v1/clinics/{clinic_id}/tasks/{task_id}/outcome", methods=["DELETE"])
@handled
def undo_outcome(clinic_id: str, task_id: str) -> Any:
    from chalicelib.desk import tasks
    from chalicelib.handlers import wiring

    staff = wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    rt = wiring.runtime()
    task = rt.unit(clinic_id, lambda ctx: tasks.undo(ctx, task_id, staff))
    return json_response(tasks.task_view(task, rt.clock()))


@app.route("/v1/clinics/{clinic_id}/tasks/{task_id}/call", methods=["POST"])
@handled
def click_to_call(clinic_id: str, task_id: str) -> Any:
    from chalicelib.desk import calls as desk_calls
    from chalicelib.handlers import wiring

    staff = wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    rt = wiring.runtime()
    call = rt.unit(clinic_id, lambda ctx: desk_calls.request(ctx, task_id, staff))
    desk_calls.place(rt, clinic_id, call, wiring.pbx_api(call.vendor))
    return json_response({"call_id": call.id}, status=202)


@app.route("/v1/clinics/{clinic_id}/calls/{call_id}", methods=["GET"])
@handled
def desk_call(clinic_id: str, call_id: str) -> Any:
    from chalicelib.desk import calls as desk_calls
    from chalicelib.handlers import wiring

    staff = wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    rt = wiring.runtime()
    return json_response(desk_calls.view(desk_calls.get(rt, clinic_id, call_id, staff), rt.clock()))


@app.route("/v1/clinics/{clinic_id}/calls/{call_id}/recording", methods=["GET"])
@handled
def call_recording(clinic_id: str, call_id: str) -> Any:
    from chalice import Response

    from chalicelib.desk import calls as desk_calls
    from chalicelib.handlers import wiring

    staff = wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    url = desk_calls.recording_url(wiring.runtime(), clinic_id, call_id, staff, wiring.pbx_api)
    if "application/json" in (_request().headers.get("accept") or ""):  # the desk's player (it sends a bearer)
        return json_response({"url": url}, status=200)
    return Response(body="", status_code=302, headers={"Location": url, "Cache-Control": "no-store",
                                                       "Referrer-Policy": "no-referrer"})


@app.route("/v1/clinics/{clinic_id}/tasks/{task_id}/messages", methods=["POST"])
@handled
def reply_in_chat(clinic_id: str, task_id: str) -> Any:
    from chalicelib.desk.replies import as_sent, reply_key
    from chalicelib.edge.contract import ChatReply
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    body = parse_body(ChatReply, _body())
    message = wiring.step_handler().reply_in_chat(clinic_id, task_id, body.text, reply_key(body.key))
    return json_response(as_sent(message), status=201)


@app.route("/v1/clinics/{clinic_id}/patients/{patient_id}/messages", methods=["POST"])
@handled
def reply_to_patient(clinic_id: str, patient_id: str) -> Any:
    from chalicelib.desk.replies import as_sent, reply_key
    from chalicelib.edge.contract import Reply
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    body = parse_body(Reply, _body())
    message = wiring.step_handler().reply(clinic_id, patient_id, body.channel, body.text, reply_key(body.key))
    return json_response(as_sent(message), status=201)


@app.route("/v1/clinics/{clinic_id}/patients/{patient_id}/preferences", methods=["PUT"])
@handled
def patient_preferences(clinic_id: str, patient_id: str) -> Any:
    from chalicelib.desk import patient_card as patients
    from chalicelib.edge.contract import PatientChoices
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    staff = wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    body = parse_body(PatientChoices, _body())
    rt = wiring.runtime()
    rt.unit(clinic_id, lambda ctx: patients.set_choices(ctx, patient_id, body, staff))
    return json_response(patients.patient_view(rt.store, clinic_id, patient_id))


@app.route("/v1/clinics/{clinic_id}/tasks/{task_id}/assign", methods=["POST"])
@handled
def assign_task(clinic_id: str, task_id: str) -> Any:
    from chalicelib.desk import tasks
    from chalicelib.edge.contract import TaskAssignment
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    staff = wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    admin = parse_body(TaskAssignment, _body() or b"{}").admin_id
    rt = wiring.runtime()
    task = rt.unit(clinic_id, lambda ctx: tasks.assign(ctx, task_id, admin, staff))
    return json_response(tasks.task_view(task, rt.clock()))


@app.route("/v1/clinics/{clinic_id}/waitlist", methods=["GET", "POST"])
@handled
def waitlist(clinic_id: str) -> Any:
    from chalicelib.edge.contract import WaitlistData
    from chalicelib.edge.json_api import parse_body
    from chalicelib.engine.appliers import waiting_list
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    rt = wiring.runtime()
    if _request().method == "POST":
        body = parse_body(WaitlistData, _body())
        rt.unit(clinic_id, lambda ctx: waiting_list.change(ctx, body, added=True))
    return json_response(waiting_list.waiting(rt.store, clinic_id), 201 if _request().method == "POST" else 200)


@app.route("/v1/clinics/{clinic_id}/waitlist/{patient_id}", methods=["DELETE"])
@handled
def leave_waitlist(clinic_id: str, patient_id: str) -> Any:
    from chalicelib.edge.contract import WaitlistData
    from chalicelib.engine.appliers import waiting_list
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    rt = wiring.runtime()
    rt.unit(clinic_id, lambda ctx: waiting_list.change(ctx, WaitlistData(patient_id=patient_id), added=False))
    return json_response(waiting_list.waiting(rt.store, clinic_id))


@app.route("/v1/me", methods=["GET"])
@handled
def whoami() -> Any:
    from chalicelib.desk import page as desk
    from chalicelib.handlers import wiring

    return json_response(desk.me(wiring.runtime(), wiring.authenticator().staff(_auth())))


@app.route("/desk", methods=["GET"])
def desk_page() -> Any:
    from chalicelib.desk import page as desk
    from chalicelib.edge.json_api import html_response

    response = html_response(desk.page(desk.language_of(_query("lang"))))
    response.headers.update(desk.SECURITY_HEADERS)
    return response


@app.route("/desk/{asset}", methods=["GET"])
@handled
def desk_asset(asset: str) -> Any:
    from chalice import Response

    from chalicelib.desk import page as desk
    from chalicelib.platform.errors import NotFound

    try:
        body, content_type = desk.asset(asset)
    except (KeyError, FileNotFoundError):
        raise NotFound(f"no asset {asset}") from None
    return Response(body=body, headers={"Content-Type": content_type, "Cache-Control": "public, max-age=300",
                                        **desk.SECURITY_HEADERS})


# ---- the manager's console ------------------------------------------------------------------

@app.route("/console", methods=["GET"])
def console_page() -> Any:
    from chalicelib.console import page as console
    from chalicelib.edge.json_api import html_response

    response = html_response(console.page(console.language_of(_query("lang"))))
    response.headers.update(console.SECURITY_HEADERS)
    return response


@app.route("/console/{asset}", methods=["GET"])
@handled
def console_asset(asset: str) -> Any:
    from chalice import Response

    from chalicelib.console import page as console
    from chalicelib.platform.errors import NotFound

    try:
        body, content_type = console.asset(asset)
    except (KeyError, FileNotFoundError):
        raise NotFound(f"no asset {asset}") from None
    return Response(body=body, headers={"Content-Type": content_type, "Cache-Control": "public, max-age=300",
                                        **console.SECURITY_HEADERS})


@app.route("/v1/clinics/{clinic_id}/settings/preview", methods=["POST"])
@handled
def settings_preview(clinic_id: str) -> Any:
    from chalicelib.console import page as console
    from chalicelib.edge.contract import LadderPreview
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    body = parse_body(LadderPreview, _body())
    return json_response(console.preview(wiring.runtime().clinic(clinic_id), body))


@app.route("/v1/clinics/{clinic_id}/settings/messages/preview", methods=["POST"])
@handled
def message_preview(clinic_id: str) -> Any:
    from chalicelib.console import page as console
    from chalicelib.edge.contract import MessagePreview
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    rt = wiring.runtime()
    body = parse_body(MessagePreview, _body())
    return json_response(console.message_preview(rt.clinic(clinic_id), body, rt.clock()))


@app.route("/v1/clinics/{clinic_id}/settings/whatsapp-templates/preview", methods=["POST"])
@handled
def whatsapp_template_preview(clinic_id: str) -> Any:
    from chalicelib.core import wa_templates
    from chalicelib.edge.contract import TemplatePreview
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    rt = wiring.runtime()
    body = parse_body(TemplatePreview, _body())
    return json_response(wa_templates.preview(rt.clinic(clinic_id), body.scenario, body.template, rt.clock()))


@app.route("/v1/clinics/{clinic_id}/dashboard", methods=["GET"])
@handled
def dashboard(clinic_id: str) -> Any:
    from chalicelib.console import page as console
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    rt = wiring.runtime()
    return json_response(console.dashboard(rt.store, rt.clinic(clinic_id), _query("from"), _query("to"), rt.clock(),
                                           console.language_of(_query("lang"))))


@app.route("/v1/clinics/{clinic_id}/dashboard/export", methods=["GET"])
@handled
def dashboard_export(clinic_id: str) -> Any:
    from chalice import Response

    from chalicelib.console import page as console
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    rt = wiring.runtime()
    body, content_type, name = console.export(rt.store, rt.clinic(clinic_id), _query("from"), _query("to"), rt.clock(),
                                              console.language_of(_query("lang")), _query("table"), _query("format"))
    return Response(body=body, headers={"Content-Type": content_type, "Cache-Control": "no-store",
                                        "Content-Disposition": f'attachment; filename="{name}"'})


@app.route("/v1/clinics/{clinic_id}/patients/{patient_id}", methods=["GET"])
@handled
def patient(clinic_id: str, patient_id: str) -> Any:
    from chalicelib.desk import patient_card as patients
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "admin")
    return json_response(patients.patient_view(wiring.runtime().store, clinic_id, patient_id))


# ---- managers: recall planner and digest ----------------------------------------------------

@app.route("/v1/clinics/{clinic_id}/recall/run", methods=["POST"])
@handled
def run_recall(clinic_id: str) -> Any:
    from chalicelib.edge.json_api import query_date
    from chalicelib.engine.planners import recalls as recall
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    rt = wiring.runtime()
    day = query_date(_query("date"), rt.clinic(clinic_id), rt.clock())
    return json_response(recall.run_recalls(rt, clinic_id, day))


@app.route("/v1/clinics/{clinic_id}/digest", methods=["GET"])
@handled
def clinic_digest(clinic_id: str) -> Any:
    from chalicelib.console import digest
    from chalicelib.edge.json_api import html_response, query_date
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    rt = wiring.runtime()
    clinic = rt.clinic(clinic_id)
    day = query_date(_query("date"), clinic, rt.clock())
    if _query("format") == "html":
        return html_response(digest.email_preview(rt.store, clinic, day, rt.clock()))
    return json_response(digest.digest(rt.store, clinic, day, rt.clock()))


@app.route("/v1/networks/{network_id}", methods=["GET", "PUT"])
@handled
def network(network_id: str) -> Any:
    from chalicelib.console import networks
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    wiring.authenticator().operator(_auth())
    if _request().method == "GET":
        return json_response(networks.get_network(wiring.runtime(), network_id))
    body = parse_body(networks.NetworkBody, _body())
    return json_response(networks.put_network(wiring.runtime(), network_id, body))


# ---- patient base: imports and lost-patient segments ---------------------------------------

IMPORT_TYPES = ["text/csv", "application/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]
app.api.binary_types.extend(t for t in IMPORT_TYPES if t not in app.api.binary_types)  # cp1251 bytes pass intact


@app.route("/v1/clinics/{clinic_id}/imports", methods=["POST"], content_types=IMPORT_TYPES)
@handled
def create_import(clinic_id: str) -> Any:
    from chalicelib.handlers import wiring
    from chalicelib.imports import service as imports

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    receipt = imports.receive(wiring.runtime(), clinic_id, _body(), _request().headers.get("content-type"))
    return json_response(receipt, 202)


@app.route("/v1/clinics/{clinic_id}/imports", methods=["GET"])
@handled
def import_history(clinic_id: str) -> Any:
    from chalicelib.handlers import wiring
    from chalicelib.imports import history

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    return json_response(history.history(wiring.runtime(), clinic_id))


@app.route("/v1/clinics/{clinic_id}/imports/{import_id}/rejected", methods=["GET"])
@handled
def import_rejected(clinic_id: str, import_id: str) -> Any:
    from chalice import Response

    from chalicelib.console import page as console
    from chalicelib.handlers import wiring
    from chalicelib.imports import history

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    body, name = history.rejected_file(wiring.runtime(), clinic_id, import_id, console.language_of(_query("lang")))
    return Response(body=body, headers={"Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
                                        "Content-Disposition": f'attachment; filename="{name}"'})


@app.route("/v1/clinics/{clinic_id}/ad-spend", methods=["GET", "PUT"],
           content_types=["application/json", "text/csv", "application/csv"])
@handled
def ad_spend(clinic_id: str) -> Any:
    from chalicelib.console import ad_spend_api as spend
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    rt = wiring.runtime()
    if _request().method == "GET":
        return json_response(spend.listing(rt, clinic_id, _query("from"), _query("to")))
    body = spend.parse(_body(), _request().headers.get("content-type"))
    return json_response(spend.save(rt, clinic_id, body))


@app.route("/v1/clinics/{clinic_id}/imports/{import_id}", methods=["GET"])
@handled
def import_status(clinic_id: str, import_id: str) -> Any:
    from chalicelib.edge.paging import query_limit
    from chalicelib.handlers import wiring
    from chalicelib.imports import service as imports

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    limit = query_limit(_query("limit"), imports.REJECTED_PAGE, imports.REJECTED_PAGE)
    body = imports.status(wiring.runtime(), clinic_id, import_id, _query("cursor"), limit)
    response = json_response(body)
    if body["next_cursor"]:  # `rejected` is a page (the contract's field); the next is named as on the desk list
        response.headers.update({"X-Next-Cursor": body["next_cursor"], "Link": f'</v1/clinics/{clinic_id}/imports/'
                                 f'{import_id}?limit={limit}&cursor={body["next_cursor"]}>; rel="next"'})
    return response


@app.route("/v1/clinics/{clinic_id}/segments", methods=["GET"])
@handled
def segment_counts(clinic_id: str) -> Any:
    from chalicelib.core import segment_entries as segments
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    return json_response(segments.counts(wiring.runtime(), clinic_id, segments.months_param(_query("months"))))


@app.route("/v1/clinics/{clinic_id}/segments/{name}", methods=["GET"])
@handled
def segment_patients(clinic_id: str, name: str) -> Any:
    from chalicelib.core import segment_entries as segments
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    months = segments.months_param(_query("months"))
    return json_response(segments.segment_view(wiring.runtime(), clinic_id, name, months))


# ---- win-back campaigns ----------------------------------------------------------------------

@app.route("/v1/clinics/{clinic_id}/campaigns", methods=["GET", "POST"])
@handled
def campaigns(clinic_id: str) -> Any:
    from chalicelib.campaigns import service
    from chalicelib.domain.campaign_rules import CampaignIn
    from chalicelib.edge.json_api import parse_body
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    if _request().method == "GET":
        return json_response(service.listing(wiring.runtime(), clinic_id))
    return json_response(service.create(wiring.runtime(), clinic_id, parse_body(CampaignIn, _body())), 201)


@app.route("/v1/clinics/{clinic_id}/campaigns/{campaign_id}", methods=["GET"])
@handled
def campaign(clinic_id: str, campaign_id: str) -> Any:
    from chalicelib.campaigns import service
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    return json_response(service.show(wiring.runtime(), clinic_id, campaign_id))


@app.route("/v1/clinics/{clinic_id}/campaigns/{campaign_id}/{move}", methods=["POST"])
@handled
def campaign_status(clinic_id: str, campaign_id: str, move: str) -> Any:
    from chalicelib.campaigns import service
    from chalicelib.handlers import wiring

    wiring.authenticator().clinic_staff(_auth(), clinic_id, "manager")
    return json_response(service.act(wiring.runtime(), clinic_id, campaign_id, move), 202 if move == "run" else 200)


# ---- queues and schedules -------------------------------------------------------------------

@app.on_sqs_message(queue=_settings.events_queue_name, batch_size=10, name="events_consumer")
def events_consumer(event: Any) -> dict[str, Any]:
    from chalicelib.handlers import consumers

    return consumers.consume_events(event.to_dict(), event.context)


@app.on_sqs_message(queue=_settings.actions_queue_name, batch_size=10, name="actions_consumer")
def actions_consumer(event: Any) -> dict[str, Any]:
    from chalicelib.handlers import consumers

    return consumers.consume_actions(event.to_dict(), event.context)


@app.on_sqs_message(queue=_settings.imports_queue_name, batch_size=5, name="imports_consumer")
def imports_consumer(event: Any) -> dict[str, Any]:
    from chalicelib.handlers import consumers

    return consumers.consume_imports(event.to_dict(), event.context)


@app.on_sqs_message(queue=_settings.jobs_queue_name, batch_size=1, name="jobs_consumer")
def jobs_consumer(event: Any) -> dict[str, Any]:
    from chalicelib.handlers import consumers

    return consumers.consume_jobs(event.to_dict(), event.context)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="sweeper")
def sweeper(event: Any) -> dict[str, Any]:
    from chalicelib.handlers import schedules, wiring

    return {"jobs": schedules.fan_out(wiring.runtime(), "sweep")}


@app.schedule(Rate(1, unit=Rate.HOURS), name="hourly")
def hourly(event: Any) -> dict[str, Any]:
    from chalicelib.handlers import schedules, wiring

    return {"jobs": schedules.fan_out(wiring.runtime(), "tick")}
