"""ClinicFlow on AWS: the Chalice app (API, queue consumers, schedules) and what it runs on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import (
    aws_cloudwatch as cloudwatch,
)
from aws_cdk import (
    aws_cloudwatch_actions as actions,
)
from aws_cdk import (
    aws_dynamodb as dynamodb,
)
from aws_cdk import (
    aws_iam as iam,
)
from aws_cdk import (
    aws_logs as logs,
)
from aws_cdk import (
    aws_secretsmanager as secretsmanager,
)
from aws_cdk import (
    aws_ses as ses,
)
from aws_cdk import (
    aws_sns as sns,
)
from aws_cdk import (
    aws_sns_subscriptions as subscriptions,
)
from aws_cdk import (
    aws_sqs as sqs,
)
from aws_cdk import (
    aws_stepfunctions as sfn,
)
from chalice.cdk import Chalice as ChaliceApp
from constructs import Construct
from lambda_package import prune

from chalicelib.platform.settings import get_settings, resource_names
from chalicelib.store.schema import INDEXES, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE

PROJECT = Path(__file__).resolve().parents[1]
WORKFLOWS = {"sequence_machine": "contact_sequence.asl.json", "waitlist_machine": "waitlist_offer.asl.json"}
FUNCTIONS = ("APIHandler", "EventsConsumer", "ActionsConsumer", "JobsConsumer", "ImportsConsumer", "Sweeper",
             "Hourly")
SQS_CONSUMERS = {"EventsConsumer": "EventsConsumerSqsEventSource", "ActionsConsumer": "ActionsConsumerSqsEventSource",
                 "JobsConsumer": "JobsConsumerSqsEventSource", "ImportsConsumer": "ImportsConsumerSqsEventSource"}
LAMBDA_TIMEOUT_S = 30
JOBS_TIMEOUT_S = 300  # one clinic's sweep or hourly tick (digest rendered and sent) per invocation
# Patient-base imports: their own queue and function, so an import never delays sequence steps; at most
# IMPORTS_CONCURRENCY invocations at once (the event source mapping's maximum concurrency), each with
# IMPORTS_MEMORY_MB, the figure `make bench` holds the import worker's peak memory to on every upload bomb.
IMPORTS_TIMEOUT_S = 300  # a split hands over to a new message 20 s before this (chalicelib/imports/service.py)
IMPORTS_MEMORY_MB = 256
IMPORTS_CONCURRENCY = 2
AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
STAGE_RATE_PER_S, STAGE_BURST = 200, 400  # the whole API; per clinic see chalicelib/edge/limits.py
GATEWAY_PROBLEMS = (  # (gateway response type, status, problem slug, title)
    ("MISSING_AUTHENTICATION_TOKEN", 404, "not-found", "No such route"),
    ("THROTTLED", 429, "throttled", "Too many requests"),
    ("REQUEST_TOO_LARGE", 413, "payload-too-large", "Payload too large"),
    ("UNSUPPORTED_MEDIA_TYPE", 415, "unsupported-media-type", "Unsupported media type"),
    ("DEFAULT_4XX", 400, "bad-request", "Bad request"),
    ("DEFAULT_5XX", 502, "gateway", "Gateway error"),
)


class Chalice(ChaliceApp):  # type: ignore[misc]
    """chalice.cdk.Chalice whose deployment.zip is pruned (infra/lambda_package.py) before CDK makes it an asset."""

    def _package_app(self) -> Any:
        result = super()._package_app()
        self.package_sizes = prune(Path(self._sam_package_dir) / "deployment.zip")
        return result


class ClinicFlowStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, sender_email: str, public_url: str = "",
                 alarm_email: str = "", **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # The Chalice decorators name the queues at packaging time; the stack uses the same names.
        self.prefix = get_settings().prefix
        names = resource_names(self.prefix)
        self.table = self._table(names["table"])
        self.alarms = sns.Topic(self, "Alarms", display_name="ClinicFlow alarms")
        if alarm_email:
            self.alarms.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.events_queue = self._queue(names["events_queue"], names["events_dlq"], fifo=True)
        self.actions_queue = self._queue(names["actions_queue"], names["actions_dlq"], fifo=False)
        self.jobs_queue = self._queue(names["jobs_queue"], names["jobs_dlq"], fifo=False, timeout_s=JOBS_TIMEOUT_S)
        self.imports_queue = self._queue(names["imports_queue"], names["imports_dlq"], fifo=False,
                                         timeout_s=IMPORTS_TIMEOUT_S)
        self.machines = {key: self._machine(key, names[key]) for key in WORKFLOWS}
        self.secret = secretsmanager.Secret(
            self, "Secret", secret_name=names["secret"],
            description="ClinicFlow: webhook master key, operator token hashes, channel credentials",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"operator_token_sha256": [], "channels": {}}),
                generate_string_key="webhook_key", password_length=44, exclude_punctuation=True))
        self.sender = ses.EmailIdentity(self, "Sender", identity=ses.Identity.email(sender_email))
        role = self._app_role(sender_email)
        self.chalice = Chalice(self, "App", source_dir=str(PROJECT), stage_config={
            "api_gateway_stage": "api", "autogen_policy": False, "manage_iam_role": False,
            "iam_role_arn": role.role_arn, "lambda_timeout": LAMBDA_TIMEOUT_S, "lambda_memory_size": 512,
            "environment_variables": {
                "CLINICFLOW_PREFIX": self.prefix, "TABLE_NAME": self.table.table_name,
                "SECRET_ID": self.secret.secret_name, "SENDER_EMAIL": sender_email, "PUBLIC_URL": public_url,
                "SEQUENCE_MACHINE_ARN": self.machines["sequence_machine"].state_machine_arn,
                "WAITLIST_MACHINE_ARN": self.machines["waitlist_machine"].state_machine_arn,
                "POWERTOOLS_SERVICE_NAME": "clinicflow", "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        })
        self._report_partial_batch_failures()
        self.chalice.sam_template.get_resource("JobsConsumer").add_property_override("Timeout", JOBS_TIMEOUT_S)
        self._imports_consumer()
        self._log_retention()
        api = self.chalice.sam_template.get_resource("RestAPI")
        self._limits_and_gateway_errors(api)
        cdk.CfnOutput(self, "ApiUrl", value=cdk.Fn.sub(
            "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api", {"Api": api.ref}))
        cdk.CfnOutput(self, "TableName", value=self.table.table_name)
        cdk.CfnOutput(self, "SecretName", value=self.secret.secret_name)

    def _table(self, name: str) -> dynamodb.Table:
        string = dynamodb.AttributeType.STRING
        table = dynamodb.Table(
            self, "Table", table_name=name, billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            partition_key=dynamodb.Attribute(name=PARTITION_KEY, type=string),
            sort_key=dynamodb.Attribute(name=SORT_KEY, type=string),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True),
            time_to_live_attribute=TTL_ATTRIBUTE, removal_policy=cdk.RemovalPolicy.RETAIN,
            deletion_protection=True, encryption=dynamodb.TableEncryption.AWS_MANAGED)
        for index, (pk, sk) in INDEXES.items():
            table.add_global_secondary_index(
                index_name=index, partition_key=dynamodb.Attribute(name=pk, type=string),
                sort_key=dynamodb.Attribute(name=sk, type=string), projection_type=dynamodb.ProjectionType.ALL)
        return table

    def _queue(self, name: str, dlq_name: str, fifo: bool, timeout_s: int = LAMBDA_TIMEOUT_S) -> sqs.Queue:
        visibility = cdk.Duration.seconds(timeout_s * 6)  # AWS's advice for Lambda consumers
        fifo_props: dict[str, Any] = {"fifo": True, "content_based_deduplication": False} if fifo else {}
        dlq = sqs.Queue(self, f"{name}-dlq", queue_name=dlq_name, retention_period=cdk.Duration.days(14),
                        encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True, **fifo_props)
        # High-throughput FIFO: ordering and deduplication per message group (a clinic), so the queue is not
        # held to 300 sends/s in all (see bench/scale.py).
        high: dict[str, Any] = {"deduplication_scope": sqs.DeduplicationScope.MESSAGE_GROUP,
                                "fifo_throughput_limit": sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID} if fifo else {}
        queue = sqs.Queue(self, name, queue_name=name, visibility_timeout=visibility,
                          encryption=sqs.QueueEncryption.SQS_MANAGED, enforce_ssl=True,
                          dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5), **fifo_props,
                          **high)
        alarm = cloudwatch.Alarm(
            self, f"{dlq_name}-depth", metric=dlq.metric_approximate_number_of_messages_visible(
                period=cdk.Duration.minutes(5)),
            threshold=1, evaluation_periods=1, comparison_operator=AT_LEAST,
            alarm_description=f"Messages that failed repeatedly wait in {dlq_name}: look, fix, redrive.",
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
        alarm.add_alarm_action(actions.SnsAction(self.alarms))
        return queue

    def _machine(self, key: str, name: str) -> sfn.StateMachine:
        log_group = logs.LogGroup(self, f"{name}-logs", retention=logs.RetentionDays.ONE_MONTH,
                                  removal_policy=cdk.RemovalPolicy.DESTROY)
        machine = sfn.StateMachine(
            self, name, state_machine_name=name, state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string((PROJECT / "workflows" / WORKFLOWS[key]).read_text()),
            definition_substitutions={"ActionsQueueUrl": self.actions_queue.queue_url},
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ERROR))
        self.actions_queue.grant_send_messages(machine)
        failed = cloudwatch.Alarm(
            self, f"{name}-failed", metric=machine.metric_failed(period=cdk.Duration.minutes(15)), threshold=1,
            evaluation_periods=1, comparison_operator=AT_LEAST,
            alarm_description=f"{name}: executions failed (a step went unanswered).",
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING)
        failed.add_alarm_action(actions.SnsAction(self.alarms))
        return machine

    def _app_role(self, sender_email: str) -> iam.Role:
        """What the functions may do, and nothing more (no Scan, no wildcard resources)."""
        role = iam.Role(self, "AppRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(
                            "service-role/AWSLambdaBasicExecutionRole")])
        role.add_to_policy(iam.PolicyStatement(
            actions=["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
                     "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
                     "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"],
            resources=[self.table.table_arn, f"{self.table.table_arn}/index/*"]))
        for queue in (self.events_queue, self.actions_queue, self.jobs_queue, self.imports_queue):
            queue.grant_send_messages(role)
            queue.grant_consume_messages(role)
            role.add_to_policy(iam.PolicyStatement(actions=["sqs:GetQueueUrl"], resources=[queue.queue_arn]))
        machine_arns = [m.state_machine_arn for m in self.machines.values()]
        execution_arns = [cdk.Fn.join("", [cdk.Fn.select(0, cdk.Fn.split(":stateMachine:", arn)), ":execution:",
                                            cdk.Fn.select(1, cdk.Fn.split(":stateMachine:", arn)), ":*"])
                          for arn in machine_arns]
        role.add_to_policy(iam.PolicyStatement(
            actions=["states:StartExecution", "states:SendTaskSuccess", "states:SendTaskFailure",
                     "states:SendTaskHeartbeat"], resources=machine_arns))
        role.add_to_policy(iam.PolicyStatement(actions=["states:StopExecution", "states:DescribeExecution"],
                                               resources=execution_arns))
        self.secret.grant_read(role)
        role.add_to_policy(iam.PolicyStatement(
            actions=["ses:SendEmail", "ses:SendRawEmail"],
            resources=[cdk.Arn.format(cdk.ArnComponents(service="ses", resource="identity",
                                                        resource_name=sender_email), self)]))
        return role

    def _report_partial_batch_failures(self) -> None:
        """Chalice cannot ask for ReportBatchItemFailures; the consumers return partial failures."""
        for function, event in SQS_CONSUMERS.items():
            resource = self.chalice.sam_template.get_resource(function)
            resource.add_property_override(f"Events.{event}.Properties.FunctionResponseTypes",
                                           ["ReportBatchItemFailures"])

    def _imports_consumer(self) -> None:
        """The import worker: longer timeout, the memory its bench holds it to, a bounded share of concurrency."""
        imports = self.chalice.sam_template.get_resource("ImportsConsumer")
        imports.add_property_override("Timeout", IMPORTS_TIMEOUT_S)
        imports.add_property_override("MemorySize", IMPORTS_MEMORY_MB)
        imports.add_property_override(f"Events.{SQS_CONSUMERS['ImportsConsumer']}.Properties.ScalingConfig",
                                      {"MaximumConcurrency": IMPORTS_CONCURRENCY})

    def _limits_and_gateway_errors(self, api: Any) -> None:
        """Stage throttling, and API Gateway's own answers (unknown route, throttled, too large, any
        4xx/5xx it makes before the app runs) as problem+json like the app's."""
        api.add_property_override("MethodSettings", [{
            "ResourcePath": "/*", "HttpMethod": "*",
            "ThrottlingRateLimit": STAGE_RATE_PER_S, "ThrottlingBurstLimit": STAGE_BURST}])
        responses = {}
        for kind, status, slug, title in GATEWAY_PROBLEMS:
            body = json.dumps({"type": f"https://clinicflow.dev/problems/{slug}", "title": title, "status": status,
                               "detail": "$context.error.message"})
            responses[kind] = {"StatusCode": str(status), "ResponseTemplates": {"application/json": body},
                               "ResponseParameters": {"Headers": {"Content-Type": "'application/problem+json'"}}}
        api.add_property_override("GatewayResponses", responses)

    def _log_retention(self) -> None:
        for function in FUNCTIONS:
            resource = self.chalice.sam_template.get_resource(function)
            name = cdk.Fn.sub("/aws/lambda/${Fn}", {"Fn": resource.ref})
            logs.LogGroup(self, f"{function}Logs", log_group_name=name, retention=logs.RetentionDays.ONE_MONTH,
                          removal_policy=cdk.RemovalPolicy.DESTROY)
