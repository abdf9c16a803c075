"""A 202 survives `kill -9`: the whole `make run` process group is killed mid-ingest, restarted
at once on the same port, and every acknowledged event, desk outcome and settings change is there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from embedded.stack import free_port
from tests.harness import load_event

PROJECT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("CRASH_KILLS", "2"))


class Stack:
    """`python -m embedded` in its own process group, as `make run` starts it."""

    def __init__(self, state: Path, port: int) -> None:
        self.state, self.port = state, port
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> dict[str, Any]:
        (self.state / "local.json").unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLINICFLOW_", "TIMING_"))}
        env.update(CLINICFLOW_PORT=str(self.port), CLINICFLOW_STATE=str(self.state), PYTHONUNBUFFERED="1",
                   CLINICFLOW_SWEEP_SECONDS="3600", CLINICFLOW_HOURLY_SECONDS="3600", CLINICFLOW_SAVE_SECONDS="2")
        log = (self.state / "stack.log").open("a")
        self.process = subprocess.Popen([sys.executable, "-m", "embedded"], cwd=PROJECT, env=env,
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while not (self.state / "local.json").exists():
            assert self.process.poll() is None, (self.state / "stack.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the stack did not start"
            time.sleep(0.2)
        return dict(json.loads((self.state / "local.json").read_text()))

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)  # the whole process group, no goodbye
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 10) -> tuple[int, Any]:
        request = urllib.request.Request(self.url + path, data=body, method=method,  # noqa: S310 - local
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - our own stack
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def send(self, demo: dict[str, str], event: dict[str, Any], webhook_id: str) -> int:
        body = json.dumps(event, ensure_ascii=False)
        stamp = datetime.now(UTC)
        headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(stamp.timestamp())),
                   "webhook-signature": Webhook(demo["webhook_secret"]).sign(webhook_id, stamp, body)}
        return self.call("POST", f"/v1/clinics/{demo['clinic_id']}/events", body.encode(), headers)[0]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path, free_port())
    try:
        yield running
    finally:
        running.stop()


def _patient(n: str) -> dict[str, Any]:
    return load_event("patient.upserted", data__patient__id=n, data__patient__phones=[],
                      occurred_at=datetime.now(UTC).isoformat())


def _storm(stack: Stack, demo: dict[str, str], acknowledged: list[str], lock: threading.Lock,
           stop: threading.Event) -> None:
    """Send events until told to stop or the stack dies; note every one answered 202."""
    while not stop.is_set():
        event_id = f"crash-{uuid.uuid4().hex[:12]}"
        try:
            status = stack.send(demo, _patient(event_id), event_id)
        except OSError:
            return  # the stack died under us: this one was never acknowledged
        if status == 202:
            with lock:
                acknowledged.append(event_id)


def test_kill_9_mid_ingest_loses_no_acknowledged_write(stack: Stack) -> None:
    acknowledged: list[str] = []
    settings_hours: list[int] = []
    for kill in range(KILLS):
        local = stack.start()
        demo = local["demo"]
        token = {"Authorization": f"Bearer {demo['manager_token']}"}
        # a settings change, acknowledged just before the storm
        status, current = stack.call("GET", f"/v1/clinics/{demo['clinic_id']}/settings", headers=token)
        assert status == 200
        current["digest"]["hour"] = 10 + kill
        status, _ = stack.call("PUT", f"/v1/clinics/{demo['clinic_id']}/settings", json.dumps(current).encode(), token)
        assert status == 200
        settings_hours.append(10 + kill)
        lock, stop = threading.Lock(), threading.Event()
        with ThreadPoolExecutor(max_workers=6) as pool:
            for _ in range(6):
                pool.submit(_storm, stack, demo, acknowledged, lock, stop)
            target = len(acknowledged) + 60
            deadline = time.monotonic() + 60
            while len(acknowledged) < target and time.monotonic() < deadline:
                time.sleep(0.05)
            stack.kill()  # mid-ingest: the senders are still sending
            stop.set()
        assert len(acknowledged) >= target - 60 + 30, "the stack accepted too few events to prove anything"

    local = stack.start()  # immediately, on the same port: the probe ignores TIME-WAIT
    demo = local["demo"]
    token = {"Authorization": f"Bearer {demo['manager_token']}"}
    status, current = stack.call("GET", f"/v1/clinics/{demo['clinic_id']}/settings", headers=token)
    assert current["digest"]["hour"] == settings_hours[-1]
    duplicates = [stack.send(demo, _patient(e), e) for e in acknowledged]  # stored: a resend is a duplicate
    assert duplicates == [200] * len(acknowledged), "an acknowledged event was lost"
    admin = {"Authorization": f"Bearer {demo['admin_token']}"}

    def applied() -> list[str]:
        return [e for e in acknowledged
                if stack.call("GET", f"/v1/clinics/{demo['clinic_id']}/patients/{e}", headers=admin)[0] != 200]

    deadline = time.monotonic() + 60
    missing = applied()
    while missing and time.monotonic() < deadline:
        time.sleep(0.5)
        missing = applied()
    assert not missing, f"{len(missing)} acknowledged events never applied"
    (stack.state / "crash-figures.json").write_text(json.dumps({"kills": KILLS, "acknowledged": len(acknowledged),
                                                                 "lost": 0}))
