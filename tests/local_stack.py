"""The product as a newcomer runs it: `python -m embedded` in a subprocess, over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from embedded.stack import free_port

PROJECT = Path(__file__).resolve().parents[1]


class LocalStack:
    def __init__(self, local: dict[str, Any], log: Path) -> None:
        self.local, self.log = local, log
        self.url = local["api_url"]

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - our own stack
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def new_clinic(self, settings: dict[str, Any]) -> dict[str, Any]:
        status, clinic = self.call("POST", "/v1/clinics", self.local["operator_token"],
                                   {"name": "Клиника «Тест»", "timezone": "Europe/Moscow"})
        assert status == 201, clinic
        status, current = self.call("GET", f"/v1/clinics/{clinic['clinic_id']}/settings", clinic["manager_token"])
        assert status == 200
        status, body = self.call("PUT", f"/v1/clinics/{clinic['clinic_id']}/settings", clinic["manager_token"],
                                 {**current, **settings})
        assert status == 200, body
        return dict(clinic)

    def send(self, clinic: dict[str, Any], event: dict[str, Any]) -> int:
        from embedded.send import send

        status, _ = send(event, {"api_url": self.url, "demo": clinic})
        return status

    def wait(self, probe: Any, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = probe()
            if result:
                return result
            time.sleep(0.3)
        raise AssertionError(f"timed out; stack log:\n{self.log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state = tmp_path_factory.mktemp("clinicflow-state")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLINICFLOW_", "TIMING_"))}
    env.update(CLINICFLOW_PORT=str(port), CLINICFLOW_STATE=str(state), CLINICFLOW_LOCAL_JSON=str(state / "local.json"),
               CLINICFLOW_SWEEP_SECONDS="5", CLINICFLOW_HOURLY_SECONDS="3600", PYTHONUNBUFFERED="1")
    log = state / "stack.log"
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "embedded"], cwd=PROJECT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not (state / "local.json").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local stack did not start:\n{log.read_text()}")
            time.sleep(0.3)
        stack = LocalStack(json.loads((state / "local.json").read_text()), log)
        stack.wait(lambda: stack.call("GET", "/v1/health")[0] == 200)
        yield stack
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
