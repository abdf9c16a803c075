"""Create the deployment's resources against any AWS endpoint (moto here, tests too)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from chalicelib.platform.settings import resource_names
from chalicelib.store.schema import TTL_ATTRIBUTE, create_table_kwargs

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOWS = {"sequence_machine": "contact_sequence.asl.json", "waitlist_machine": "waitlist_offer.asl.json"}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
LOCAL_ROLE = "arn:aws:iam::123456789012:role/clinicflow-local"


def render_asl(text: str, substitutions: dict[str, str]) -> str:
    """Fill `${Name}` placeholders as CDK's definition_substitutions does (leaves `$$.Task.Token` alone)."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in substitutions:
            raise KeyError(f"no value for ${{{name}}}")
        return substitutions[name]

    return _PLACEHOLDER.sub(value, text)


def workflow_definition(name: str, substitutions: dict[str, str]) -> str:
    return render_asl((PROJECT / "workflows" / WORKFLOWS[name]).read_text(), substitutions)


def _ignore_exists(call: Any, **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        if code in ("ResourceInUseException", "QueueAlreadyExists", "ResourceExistsException",
                    "StateMachineAlreadyExists"):
            return None
        raise


def provision(session: Any, prefix: str, secret: dict[str, Any], sender: str,
              visibility_timeout: int = 30, max_receives: int = 5) -> dict[str, str]:
    """Table, queues with DLQs, state machines, the deployment secret and the SES sender."""
    names = resource_names(prefix)
    ddb, sqs, sfn = session.client("dynamodb"), session.client("sqs"), session.client("stepfunctions")
    _ignore_exists(ddb.create_table, **create_table_kwargs(names["table"]))
    ddb.update_time_to_live(TableName=names["table"],
                            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})
    out = {"table": names["table"]}
    for queue, dlq in (("events_queue", "events_dlq"), ("actions_queue", "actions_dlq"), ("jobs_queue", "jobs_dlq"),
                       ("imports_queue", "imports_dlq")):
        fifo = names[queue].endswith(".fifo")
        fifo_attrs = {"FifoQueue": "true", "ContentBasedDeduplication": "false"} if fifo else {}
        dlq_url = sqs.create_queue(QueueName=names[dlq], Attributes=fifo_attrs)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attrs = {**fifo_attrs, "VisibilityTimeout": str(visibility_timeout),
                 "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})}
        out[queue] = sqs.create_queue(QueueName=names[queue], Attributes=attrs)["QueueUrl"]
        out[dlq] = dlq_url
    subs = {"ActionsQueueUrl": out["actions_queue"]}
    existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    for key in WORKFLOWS:
        name = names[key]
        if name not in existing:
            existing[name] = sfn.create_state_machine(name=name, definition=workflow_definition(key, subs),
                                                      roleArn=LOCAL_ROLE, type="STANDARD")["stateMachineArn"]
        out[key] = existing[name]
    secrets = session.client("secretsmanager")
    if _ignore_exists(secrets.create_secret, Name=names["secret"], SecretString=json.dumps(secret)) is None:
        secrets.put_secret_value(SecretId=names["secret"], SecretString=json.dumps(secret))
    session.client("ses").verify_email_identity(EmailAddress=sender)
    return out
