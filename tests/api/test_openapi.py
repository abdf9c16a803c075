"""`GET /v1/openapi.json`: every route Chalice registers and every event type the contract accepts is
described, the document is valid OpenAPI 3.1, its schemas accept what the API accepts, and every
error it can answer is described as problem+json."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

import app
from chalicelib.edge import contract, openapi

EXAMPLES = Path(__file__).resolve().parents[1] / "events"
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served() -> dict[str, Any]:
    with Client(app.app) as client:
        answer = client.http.get("/v1/openapi.json")
    assert answer.status_code == 200
    assert _header(answer, "content-type").startswith("application/json")
    return dict(json.loads(answer.body))


def _header(answer: Any, name: str) -> str:
    return str({k.lower(): v for k, v in answer.headers.items()}[name])


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def _validator(doc: dict[str, Any], name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": doc["components"]})


def test_every_registered_route_and_method_is_described_and_nothing_else(served: dict[str, Any]) -> None:
    registered = {(path, method.lower()) for path, methods in app.app.routes.items() for method in methods}
    described = {(path, method) for path, method, _ in _operations(served)}
    assert registered - described == set(), "routes without a description in chalicelib/edge/openapi.py"
    assert described - registered == set(), "described routes the app does not serve"


def test_every_event_type_the_contract_accepts_is_in_the_webhook_body(served: dict[str, Any]) -> None:
    schemas = served["components"]["schemas"]
    body = served["paths"]["/v1/clinics/{clinic_id}/events"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"$ref": "#/components/schemas/InboundEvent"}
    mapping = schemas["InboundEvent"]["discriminator"]["mapping"]
    assert set(mapping) == set(contract.EVENT_TYPES)
    for kind, ref in mapping.items():
        envelope = schemas[ref.rsplit("/", 1)[1]]
        assert envelope["properties"]["type"]["const"] == kind
        assert envelope["description"], f"{kind}: say what the event does (openapi.EVENT_SAYS)"
        assert {"$ref": ref} in schemas["InboundEvent"]["oneOf"]


def test_the_document_is_valid_openapi_3_1(served: dict[str, Any]) -> None:
    assert served["openapi"] == "3.1.0"
    validate(served)  # raises naming the first invalid part


def test_the_schemas_accept_each_example_event_and_refuse_a_broken_one(served: dict[str, Any]) -> None:
    events = _validator(served, "InboundEvent")
    examples = sorted(EXAMPLES.glob("*.json"))
    assert {p.stem for p in examples} == set(contract.EVENT_TYPES)
    for path in examples:
        event = json.loads(path.read_text())
        contract.EVENT_ADAPTER.validate_python(event)  # the API accepts it…
        assert list(events.iter_errors(event)) == [], path.name  # …and so does the document
    broken = json.loads((EXAMPLES / "call.missed.json").read_text())
    broken["data"]["call"]["line"] = "satellite"
    assert list(events.iter_errors(broken))


def test_every_operation_describes_its_errors_as_problem_json(served: dict[str, Any]) -> None:
    responses = served["components"]["responses"]
    for path, method, operation in _operations(served):
        errors = {code: r for code, r in operation["responses"].items() if code.startswith(("4", "5"))}
        assert {"422", "429"} <= set(errors), f"{method} {path}"
        for code, ref in errors.items():
            described = responses[ref["$ref"].rsplit("/", 1)[1]]
            assert described["content"]["application/problem+json"]["schema"] == {
                "$ref": "#/components/schemas/Problem"}, f"{method} {path} {code}"
        if operation.get("security"):
            assert "401" in errors, f"{method} {path}: signed or authenticated, so it can answer 401"
    assert "Retry-After" in responses["Problem429"]["headers"]


def test_every_status_a_domain_error_answers_is_a_described_problem(served: dict[str, Any]) -> None:
    import importlib
    import pkgutil

    import chalicelib
    from chalicelib.platform.errors import ClinicFlowError

    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        if not module.name.startswith("embedded"):
            importlib.import_module(module.name)  # so that every error class is defined

    def kinds(cls: type[ClinicFlowError]) -> Iterator[type[ClinicFlowError]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from kinds(sub)

    statuses = {cls.status for cls in kinds(ClinicFlowError)}
    assert {401, 404, 410, 422} <= statuses
    assert {f"Problem{s}" for s in statuses} <= set(served["components"]["responses"])
    used = {code for _, _, op in _operations(served) for code in op["responses"]}
    assert {str(s) for s in statuses} <= used, "a domain error no route is described to answer"


def test_a_real_problem_answer_matches_the_described_problem(served: dict[str, Any]) -> None:
    with Client(app.app) as client:
        answer = client.http.post("/v1/sessions", body=b"{}", headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert _header(answer, "content-type") == "application/problem+json"
    problem = json.loads(answer.body)
    assert list(_validator(served, "Problem").iter_errors(problem)) == []
    assert problem["errors"][0]["field"]
    assert list(_validator(served, "Problem").iter_errors({"type": "x", "status": "422"}))


def test_it_is_built_once_and_off_the_cold_start() -> None:
    assert openapi.document() is openapi.document()
    probe = "import sys, app; print('chalicelib.edge.openapi' in sys.modules, 'openapi_spec_validator' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT, capture_output=True, text=True, timeout=60,
                         check=True)
    assert run.stdout.split() == ["False", "False"]


def _answer(doc: dict[str, Any], path: str, method: str, status: int) -> Draft202012Validator:
    content = doc["paths"][path][method]["responses"][str(status)]["content"]
    return Draft202012Validator({**content["application/json"]["schema"], "components": doc["components"]})


def test_the_described_answers_are_what_the_routes_answer(served: dict[str, Any],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from standardwebhooks.webhooks import Webhook

    from tests.edge import edge_app
    from tests.harness import OPERATOR_TOKEN

    with edge_app(monkeypatch) as edge:
        created = edge.request("POST", "/v1/clinics", {"name": "Клиника"}, token=OPERATOR_TOKEN)
        clinic = edge.clinic
        body = (EXAMPLES / "call.missed.json").read_text()
        stamp = datetime.now(UTC)
        headers = {"webhook-id": "msg_openapi", "webhook-timestamp": str(int(stamp.timestamp())),
                   "webhook-signature": Webhook(clinic.webhook_secret).sign("msg_openapi", stamp, body)}
        events = f"/v1/clinics/{clinic.clinic_id}/events"
        accepted = edge.request("POST", events, raw=body.encode(), headers=headers)
        duplicate = edge.request("POST", events, raw=body.encode(), headers=headers)
        issued = edge.request("POST", f"/v1/clinics/{clinic.clinic_id}/staff", {"role": "admin", "admin_id": "U-2"},
                              token=clinic.manager_token)
        session = edge.request("POST", "/v1/sessions", {"code": issued.body["login_link"]["code"]})
        link = edge.request("POST", "/v1/me/login-link", token=session.body["session_token"])
        health = edge.request("GET", "/v1/health")
    answers = [("/v1/clinics", "post", created), ("/v1/clinics/{clinic_id}/events", "post", accepted),
               ("/v1/clinics/{clinic_id}/events", "post", duplicate),
               ("/v1/sessions", "post", session), ("/v1/me/login-link", "post", link), ("/v1/health", "get", health)]
    assert [a.status for _, _, a in answers] == [201, 202, 200, 201, 201, 200]
    assert duplicate.body["status"] == "duplicate"
    for path, method, answer in answers:
        assert list(_answer(served, path, method, answer.status).iter_errors(answer.body)) == [], (path, answer.body)


def test_a_desk_task_as_the_route_shows_it_matches_the_described_task(served: dict[str, Any]) -> None:
    from chalicelib.desk.tasks import task_view
    from tests.service.clinic import Clinic

    clinic = Clinic()
    now = clinic.clock.now.isoformat()
    clinic.send({"type": "call.missed", "occurred_at": now,
                 "data": {"call": {"id": "C-1", "phone": "+79035550101", "line": "city", "at": now}}})
    clinic.send({"type": "lead.created", "occurred_at": now,
                 "data": {"lead": {"id": "L-1", "channel": "form", "phone": "+79035550202"}}})
    shown = [task_view(task, clinic.clock.now) for task in clinic.tasks()]
    assert {t["scenario"] for t in shown} == {"missed_call", "lead"}
    listing = _answer(served, "/v1/clinics/{clinic_id}/tasks", "get", 200)
    assert list(listing.iter_errors(json.loads(json.dumps(shown)))) == []
    assert list(listing.iter_errors([{**shown[0], "status": "lost"}]))
