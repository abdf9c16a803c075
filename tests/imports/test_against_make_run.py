"""Against `make run`, through the contract only: a Windows-1251 export with two bad rows, imported twice."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.imports.helpers import fixture
from tests.local_stack import LocalStack


def _post_export(stack: LocalStack, clinic: dict[str, Any], data: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - our own stack
        f"{stack.url}/v1/clinics/{clinic['clinic_id']}/imports", data=data, method="POST",
        headers={"Content-Type": "text/csv; charset=windows-1251",
                 "Authorization": f"Bearer {clinic['manager_token']}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def test_an_export_imports_end_to_end_and_again_changes_nothing(local_stack: LocalStack) -> None:
    clinic = local_stack.new_clinic({})
    path = f"/v1/clinics/{clinic['clinic_id']}"
    status, receipt = _post_export(local_stack, clinic, fixture("dentalpro_patients_cp1251.csv"))
    assert status == 202, receipt

    def done() -> Any:
        code, body = local_stack.call("GET", f"{path}/imports/{receipt['import_id']}", clinic["manager_token"])
        return body if code == 200 and body["status"] == "done" else None

    result = local_stack.wait(done, timeout=60)
    assert (result["rows"], result["imported"]) == (7, 5)
    assert [(r["row"], r["field"]) for r in result["rejected"]] == [(5, "phone"), (6, "last_visit_date")]
    status, counts = local_stack.call("GET", f"{path}/segments", clinic["manager_token"])
    assert status == 200
    assert counts["segments"]["plan_unfinished"] == 3 and counts["segments"]["lapsed"] == 5
    status, lapsed = local_stack.call("GET", f"{path}/segments/lapsed", clinic["manager_token"])
    assert [p["patient"]["id"] for p in lapsed["patients"]][:3] == ["1007", "1002", "1006"]
    status, patient = local_stack.call("GET", f"{path}/patients/1002", clinic["admin_token"])
    before = {k: v for k, v in patient.items() if k != "timeline"}
    status, again = _post_export(local_stack, clinic, fixture("dentalpro_patients_cp1251.csv"))
    assert status == 202 and again["import_id"] == receipt["import_id"]
    assert local_stack.wait(done, timeout=60)["imported"] == 5
    status, patient = local_stack.call("GET", f"{path}/patients/1002", clinic["admin_token"])
    assert {k: v for k, v in patient.items() if k != "timeline"} == before
    assert local_stack.call("GET", f"{path}/segments", clinic["manager_token"])[1] == counts
