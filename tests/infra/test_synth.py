"""The AWS stack, synthesised offline as `make deploy` would, then asserted and linted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[2]
# A cold `chalice package` (after requirements.txt changes) downloads every runtime dependency first.
pytestmark = pytest.mark.timeout(900)
WORKFLOWS = sorted((PROJECT / "workflows").glob("*.asl.json"))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("cdk")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLINICFLOW_", "TIMING_", "CDK_"))}
    # no region and no ~/.aws: synthesising must work without AWS configuration
    env.update(CDK_OUTDIR=str(work / "out"), HOME=str(work),
               CDK_CONTEXT_JSON=json.dumps({"sender_email": "digest@clinic.example",
                                            "alarm_email": "ops@clinic.example"}))
    result = subprocess.run([sys.executable, str(PROJECT / "infra" / "cdk_app.py")], cwd=work, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-4000:]
    path = work / "out" / "clinicflow.template.json"
    yield {"path": path, "json": json.loads(path.read_text()), "stderr": result.stderr}


def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["json"]["Resources"].values() if r["Type"] == kind]


def test_the_table_has_its_indexes_pitr_and_ttl(template: dict[str, Any]) -> None:
    from aws_cdk.assertions import Match, Template

    t = Template.from_json(template["json"])
    t.has_resource_properties("AWS::DynamoDB::Table", {
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
        "GlobalSecondaryIndexes": Match.array_with([
            Match.object_like({"IndexName": "gsi1", "Projection": {"ProjectionType": "ALL"}}),
            Match.object_like({"IndexName": "gsi2", "Projection": {"ProjectionType": "ALL"}})]),
    })
    t.has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Retain"})


def test_queues_have_dead_letter_queues_and_alarms(template: dict[str, Any]) -> None:
    queues = {q["Properties"]["QueueName"]: q["Properties"] for q in resources(template, "AWS::SQS::Queue")}
    assert set(queues) == {"clinicflow-events.fifo", "clinicflow-events-dlq.fifo", "clinicflow-actions",
                           "clinicflow-actions-dlq", "clinicflow-jobs", "clinicflow-jobs-dlq", "clinicflow-imports",
                           "clinicflow-imports-dlq"}
    assert queues["clinicflow-events.fifo"]["FifoQueue"] is True
    assert queues["clinicflow-events.fifo"]["FifoThroughputLimit"] == "perMessageGroupId"
    assert queues["clinicflow-events.fifo"]["DeduplicationScope"] == "messageGroup"
    assert queues["clinicflow-jobs"]["VisibilityTimeout"] == 6 * 300
    assert queues["clinicflow-imports"]["VisibilityTimeout"] == 6 * 300
    for name in ("clinicflow-events.fifo", "clinicflow-actions", "clinicflow-jobs", "clinicflow-imports"):
        assert queues[name]["RedrivePolicy"]["maxReceiveCount"] == 5
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    assert {a["Properties"]["MetricName"] for a in alarms} >= {"ApproximateNumberOfMessagesVisible",
                                                               "ExecutionsFailed"}
    assert all(a["Properties"]["AlarmActions"] for a in alarms)


def test_every_workflow_is_a_standard_state_machine_with_its_queue_substituted(template: dict[str, Any]) -> None:
    machines = resources(template, "AWS::StepFunctions::StateMachine")
    assert len(machines) == len(WORKFLOWS) == 2
    for machine in machines:
        props = machine["Properties"]
        assert props["StateMachineType"] == "STANDARD"
        assert "ActionsQueueUrl" in props["DefinitionSubstitutions"]
        assert "${ActionsQueueUrl}" in json.dumps(props["DefinitionString"])


def test_the_functions_report_partial_batch_failures(template: dict[str, Any]) -> None:
    functions = {r["Properties"]["Handler"]: r["Properties"] for r in resources(template, "AWS::Serverless::Function")}
    assert set(functions) == {"app.app", "app.events_consumer", "app.actions_consumer", "app.jobs_consumer",
                              "app.imports_consumer", "app.sweeper", "app.hourly"}
    for handler in ("app.events_consumer", "app.actions_consumer", "app.jobs_consumer", "app.imports_consumer"):
        (event,) = functions[handler]["Events"].values()
        assert event["Type"] == "SQS" and event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    schedules = {e["Properties"]["Schedule"] for f in functions.values() for e in f.get("Events", {}).values()
                 if e["Type"] == "Schedule"}
    assert schedules == {"rate(5 minutes)", "rate(1 hour)"}
    # Schedules only fan out; each clinic's job runs in its own invocation with a longer timeout.
    (jobs,) = functions["app.jobs_consumer"]["Events"].values()
    assert jobs["Properties"]["BatchSize"] == 1 and functions["app.jobs_consumer"]["Timeout"] == 300
    # Imports: their own function with the memory `make bench` holds the worker to, and a capped share.
    (imported,) = functions["app.imports_consumer"]["Events"].values()
    assert imported["Properties"]["ScalingConfig"] == {"MaximumConcurrency": 2}
    assert functions["app.imports_consumer"]["MemorySize"] == 256
    assert functions["app.imports_consumer"]["Timeout"] == 300
    env = functions["app.app"]["Environment"]["Variables"]
    assert {"TABLE_NAME", "SECRET_ID", "SEQUENCE_MACHINE_ARN", "WAITLIST_MACHINE_ARN", "SENDER_EMAIL"} <= set(env)


def test_the_app_role_is_least_privilege(template: dict[str, Any]) -> None:
    roles = {name for name, r in template["json"]["Resources"].items()
             if r["Type"] == "AWS::IAM::Role" and name.startswith("AppRole")}
    policies = [p for p in resources(template, "AWS::IAM::Policy")
                if any(role.get("Ref") in roles for role in p["Properties"]["Roles"])]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actions = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "dynamodb:Scan" not in actions and "dynamodb:*" not in actions and "*" not in actions
    assert {"dynamodb:Query", "states:StartExecution", "states:SendTaskSuccess", "secretsmanager:GetSecretValue",
            "ses:SendRawEmail", "sqs:SendMessage"} <= actions
    for statement in statements:
        assert statement["Resource"] != "*", statement


def test_secret_ses_identity_and_log_retention(template: dict[str, Any]) -> None:
    (secret,) = resources(template, "AWS::SecretsManager::Secret")
    assert secret["Properties"]["GenerateSecretString"]["GenerateStringKey"] == "webhook_key"
    (identity,) = resources(template, "AWS::SES::EmailIdentity")
    assert identity["Properties"]["EmailIdentity"] == "digest@clinic.example"
    groups = resources(template, "AWS::Logs::LogGroup")
    assert len(groups) >= 7 and all(g["Properties"]["RetentionInDays"] == 30 for g in groups)


def test_cfn_lint_is_clean(template: dict[str, Any]) -> None:
    # W3005: CDK adds a DependsOn on a role it also references; redundant, not wrong.
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run([str(cfn_lint), "--ignore-checks", "W3005", "--", str(template["path"])],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_statelint_is_clean(workflow: Path) -> None:
    statelint = Path(sys.executable).parent / "statelint"
    result = subprocess.run([str(statelint), str(workflow)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_lambda_package_has_no_local_stack_and_only_our_locales_and_services(template: dict[str, Any]) -> None:
    import zipfile

    [package] = [p for p in template["path"].parent.glob("asset.*.zip") if "app.py" in zipfile.ZipFile(p).namelist()]
    names = zipfile.ZipFile(package).namelist()
    assert "chalicelib/engine/ingest.py" in names and "chalicelib/edge/contract.py" in names
    assert not [n for n in names if n.startswith("embedded/")]
    locales = {n.rsplit("/", 1)[-1].removesuffix(".dat").split("_")[0] for n in names
               if n.startswith("babel/locale-data/") and n.endswith(".dat")}
    assert locales == {"root", "ru", "en"}
    assert "botocore/data/dynamodb/2012-08-10/service-2.json.gz" in names
    assert "botocore/data/s3/2006-03-01/service-2.json.gz" not in names  # only the models the app uses
    assert package.stat().st_size <= 20 * 2**20  # issue 14; tests/infra/test_package.py says more


def test_the_stage_is_throttled_and_gateway_errors_are_problem_json(template: dict[str, Any]) -> None:
    [api] = resources(template, "AWS::Serverless::Api")
    [throttle] = api["Properties"]["MethodSettings"]
    assert throttle["ThrottlingRateLimit"] > 0 and throttle["ThrottlingBurstLimit"] > 0
    responses = api["Properties"]["GatewayResponses"]
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert responses["THROTTLED"]["StatusCode"] == "429"
    for response in responses.values():
        assert response["ResponseParameters"]["Headers"]["Content-Type"] == "'application/problem+json'"
        json.loads(response["ResponseTemplates"]["application/json"])


def test_synth_needs_no_aws_configuration_and_says_where_the_template_is(template: dict[str, Any]) -> None:
    assert f"Template: {template['path']}" in template["stderr"]
