"""The embedded stack inside this process (tests and benchmarks): moto with state machines
executed, the same resources as `make run`, and the app wired to them."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

REGION = "eu-central-1"
OPERATOR_TOKEN = "cf_ops_test-operator-token"  # noqa: S105 - a fixture of the embedded test stack
SENDER = "digest@clinicflow.test"


def testing_environment(prefix: str = "cftest") -> None:
    """A fake account and test names; call before anything imports boto3, PynamoDB or the app."""
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "CLINICFLOW_PREFIX": prefix,
        "CHANNELS_OUTBOX_ONLY": "1", "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_SERVICE_NAME": "clinicflow",
        "SENDER_EMAIL": SENDER,
    })
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(name, None)


def deployment_secret() -> dict[str, Any]:
    from chalicelib.edge.auth import token_hash

    return {"webhook_key": base64.b64encode(b"k" * 32).decode(), "operator_token_sha256": [token_hash(OPERATOR_TOKEN)],
            "channels": {}}


@dataclass
class Embedded:
    session: Any
    resources: dict[str, str]


@contextmanager
def embedded_stack(visibility_timeout: int = 5) -> Iterator[Embedded]:
    from moto import mock_aws

    from chalicelib.handlers import wiring
    from embedded import moto_patches
    from embedded.resources import provision

    moto_patches.install()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        import boto3

        session = boto3.session.Session(region_name=REGION)
        created = provision(session, os.environ["CLINICFLOW_PREFIX"], deployment_secret(), sender=SENDER,
                            visibility_timeout=visibility_timeout)
        os.environ["SEQUENCE_MACHINE_ARN"] = created["sequence_machine"]
        os.environ["WAITLIST_MACHINE_ARN"] = created["waitlist_machine"]
        wiring.reset()
        try:
            yield Embedded(session, created)
        finally:
            wiring.reset()
