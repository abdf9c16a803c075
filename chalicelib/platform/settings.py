"""Deployment configuration, read once from the environment.

`infra/` passes these through Chalice's stage environment variables; the local
runner sets them after it has created the same resources in moto.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

PREFIX_DEFAULT = "clinicflow"


def resource_names(prefix: str) -> dict[str, str]:
    """Names shared by the app's decorators, the local runner and the CDK stack."""
    return {
        "table": f"{prefix}-main",
        "events_queue": f"{prefix}-events.fifo",
        "events_dlq": f"{prefix}-events-dlq.fifo",
        "actions_queue": f"{prefix}-actions",
        "actions_dlq": f"{prefix}-actions-dlq",
        "jobs_queue": f"{prefix}-jobs",
        "jobs_dlq": f"{prefix}-jobs-dlq",
        "imports_queue": f"{prefix}-imports",
        "imports_dlq": f"{prefix}-imports-dlq",
        "secret": f"{prefix}/master",
        "sequence_machine": f"{prefix}-contact-sequence",
        "waitlist_machine": f"{prefix}-waitlist-offer",
    }


@dataclass(frozen=True)
class Settings:
    """Names and switches of one deployment (stage)."""

    prefix: str
    region: str
    table_name: str
    events_queue_name: str
    actions_queue_name: str
    jobs_queue_name: str
    imports_queue_name: str
    secret_id: str
    sequence_machine_arn: str
    waitlist_machine_arn: str
    sender_email: str
    public_url: str
    outbox_only: bool


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (cached: the environment does not change at run time)."""
    env = os.environ
    prefix = env.get("CLINICFLOW_PREFIX", PREFIX_DEFAULT)
    names = resource_names(prefix)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-central-1"
    account_arn = f"arn:aws:states:{region}:{env.get('AWS_ACCOUNT_ID', '123456789012')}"
    return Settings(
        prefix=prefix,
        region=region,
        table_name=env.get("TABLE_NAME", names["table"]),
        events_queue_name=names["events_queue"],
        actions_queue_name=names["actions_queue"],
        jobs_queue_name=names["jobs_queue"],
        imports_queue_name=names["imports_queue"],
        secret_id=env.get("SECRET_ID", names["secret"]),
        sequence_machine_arn=env.get(
            "SEQUENCE_MACHINE_ARN", f"{account_arn}:stateMachine:{names['sequence_machine']}"
        ),
        waitlist_machine_arn=env.get(
            "WAITLIST_MACHINE_ARN", f"{account_arn}:stateMachine:{names['waitlist_machine']}"
        ),
        sender_email=env.get("SENDER_EMAIL", "digest@clinicflow.local"),
        public_url=env.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        outbox_only=env.get("CHANNELS_OUTBOX_ONLY", "0") == "1",
    )
