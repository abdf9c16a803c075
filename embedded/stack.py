"""Start moto in server mode and point this process at it, as Lambda would be at AWS."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import urllib.request
from pathlib import Path
from typing import Any

from chalicelib.edge.auth import token_hash

REGION = "eu-central-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """Whether our server could listen there now. SO_REUSEADDR, as the server sets it: sockets
    of a stopped run left in TIME-WAIT must not block an immediate restart on the same port."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def point_at_endpoint(endpoint: str, moto_port: int, prefix: str, public_url: str) -> None:
    """Environment for boto3, PynamoDB and the app; set before any of them is imported."""
    os.environ.update({
        "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "MOTO_PORT": str(moto_port),
        "CLINICFLOW_PREFIX": prefix, "CHANNELS_OUTBOX_ONLY": "1", "PUBLIC_URL": public_url,
        "POWERTOOLS_SERVICE_NAME": "clinicflow", "POWERTOOLS_LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        # one machine, one user: `make simulate` replays a month as fast as it can
        "CLINIC_WEBHOOK_RATE": os.environ.get("CLINIC_WEBHOOK_RATE", "2000"),
        "CLINIC_STAFF_RATE": os.environ.get("CLINIC_STAFF_RATE", "500"),
    })


def start_moto(port: int) -> Any:
    """A moto server with Step Functions executing state machines for real."""
    import logging

    from moto.server import ThreadedMotoServer

    from embedded import moto_patches

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto_patches.install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/moto-api/config", method="POST",
        data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - our own loopback server
    return server


def local_secret(state_dir: Path) -> dict[str, Any]:
    """The deployment secret of this machine's stack, created once and kept in the state folder."""
    path = state_dir / "secrets.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    operator = f"cf_ops_{secrets.token_urlsafe(24)}"
    doc = {"webhook_key": base64.b64encode(secrets.token_bytes(32)).decode(), "operator_token": operator,
           "operator_token_sha256": [token_hash(operator)], "channels": {}}
    state_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))
    path.chmod(0o600)
    return doc
