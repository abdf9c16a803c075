"""Step Functions behind the Workflows port."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.platform.errors import StaleToken

_STALE = frozenset({"InvalidToken", "TaskTimedOut", "TaskDoesNotExist"})


class StepFunctionsWorkflows:
    """Start, stop and answer executions.

    Parameters
    ----------
    client:
        A boto3 `stepfunctions` client.
    """

    def __init__(self, client: Any) -> None:
        self._sfn = client

    @staticmethod
    def execution_arn(machine_arn: str, name: str) -> str:
        return f"{machine_arn.replace(':stateMachine:', ':execution:')}:{name}"

    def start(self, machine_arn: str, name: str, payload: dict[str, Any]) -> str:
        try:
            response = self._sfn.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(payload))
        except ClientError as exc:
            if _code(exc) == "ExecutionAlreadyExists":
                return self.execution_arn(machine_arn, name)
            raise
        return str(response["executionArn"])

    def stop(self, execution_arn: str, cause: str) -> None:
        try:
            self._sfn.stop_execution(executionArn=execution_arn, cause=cause[:256])
        except ClientError as exc:
            if _code(exc) not in ("ExecutionDoesNotExist", "InvalidArn"):
                raise

    def status(self, execution_arn: str) -> str:
        try:
            return str(self._sfn.describe_execution(executionArn=execution_arn)["status"])
        except ClientError as exc:
            if _code(exc) == "ExecutionDoesNotExist":
                return "MISSING"
            raise

    def succeed(self, token: str, output: dict[str, Any]) -> None:
        try:
            self._sfn.send_task_success(taskToken=token, output=json.dumps(output))
        except ClientError as exc:
            _raise_stale(exc)

    def heartbeat(self, token: str) -> None:
        try:
            self._sfn.send_task_heartbeat(taskToken=token)
        except ClientError as exc:
            _raise_stale(exc)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _raise_stale(exc: ClientError) -> None:
    """An answered, timed-out or stopped task's token becomes StaleToken; the rest re-raise."""
    if _code(exc) in _STALE:
        raise StaleToken(_code(exc)) from exc
    raise exc
