"""Secrets and patient data at rest and in logs: the local write-ahead log and snapshot are owner-only, and no
logged URL keeps a credential (SMS.ru's `?token=`, a Telegram bot token, a login link's code)."""

from __future__ import annotations

import http.client
import io
import logging
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from chalice import Chalice
from chalice.config import Config

from chalicelib.platform.observability import logger
from chalicelib.platform.redaction import redact
from embedded import durable
from embedded.server import create_server


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_write_ahead_log_and_snapshot_are_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    previous = os.umask(0o022)  # what a shell usually has: files 0644 unless asked otherwise
    try:
        stale = folder / f"{durable.WAL_PREFIX}00000003"
        folder.mkdir()
        stale.write_text("")
        stale.chmod(0o644)  # left by an older run
        wal = durable.WriteAheadLog(folder, 3)
        table = SimpleNamespace(items={}, range_key_attr="sk")
        durable.snapshot(SimpleNamespace(get_table=lambda name: table), "t", folder, wal)
        wal.close()
    finally:
        os.umask(previous)
    assert _mode(folder) == 0o700
    logs = sorted(folder.glob(f"{durable.WAL_PREFIX}*"))
    assert logs and all(_mode(p) == 0o600 for p in logs)
    assert _mode(folder / durable.SNAPSHOT) == 0o600


@pytest.mark.parametrize(("logged", "kept", "gone"), [
    ('"POST /v1/clinics/c1/connectors/smsru?token=s3cr3t-callback HTTP/1.1" 200 -', "/connectors/smsru?token=***",
     "s3cr3t-callback"),
    ("https://api.telegram.org/bot123456789:AAE-test-token-of-the-clinic-bot-x/sendMessage", "/bot***/sendMessage",
     "AAE-test-token"),
    ("http://127.0.0.1:8000/desk?lang=en#code=lc_9d8f7e6a", "#code=***", "lc_9d8f7e6a"),
    ("GET /v1/clinics/c1/connectors/whatsapp?hub.mode=subscribe&hub.verify_token=vt-1&hub.challenge=42",
     "hub.challenge=42", "vt-1"),
    ("Authorization: Bearer cf_adm_abcdefghijklmnop", "Bearer ***", "abcdefghijklmnop"),
])
def test_credentials_in_urls_are_masked(logged: str, kept: str, gone: str) -> None:
    masked = redact(logged)
    assert kept in masked and gone not in masked


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    app = Chalice(app_name="probe")

    @app.route("/v1/clinics/{clinic_id}/connectors/{vendor}")
    def hook(clinic_id: str, vendor: str) -> str:
        return "100"

    local = create_server(app, Config(), "127.0.0.1", 0)
    threading.Thread(target=local.server.serve_forever, daemon=True).start()
    try:
        yield "127.0.0.1", int(local.server.server_address[1])
    finally:
        local.server.shutdown()
        local.server.server_close()


def test_the_local_access_log_does_not_keep_the_smsru_token(server: tuple[str, int],
                                                            capfd: pytest.CaptureFixture[str]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=10)
    connection.request("GET", "/v1/clinics/c1/connectors/smsru?token=s3cr3t-callback-token")
    assert connection.getresponse().status == 200
    connection.close()
    logged = capfd.readouterr().err
    assert "/v1/clinics/c1/connectors/smsru?token=***" in logged and "s3cr3t-callback-token" not in logged


def test_the_app_logger_masks_urls_in_messages_and_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        logger.warning("sending to https://api.telegram.org/bot123456789:AAE-test-token-of-the-clinic-bot-x/send",
                       extra={"url": "https://example.test/cb?token=s3cr3t-1&x=1"})
    finally:
        logging.getLogger(logger.name).removeHandler(handler)
    logged = stream.getvalue()
    assert "/bot***/send" in logged and "token=***" in logged
    assert "AAE-test-token" not in logged and "s3cr3t-1" not in logged
