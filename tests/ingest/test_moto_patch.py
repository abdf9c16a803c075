"""The local-only transaction patch keeps DynamoDB's all-or-nothing semantics."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from embedded import moto_patches


def test_a_failed_condition_rolls_back_every_write() -> None:
    moto_patches.install()
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-central-1")
        ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
        with pytest.raises(ddb.exceptions.TransactionCanceledException):
            ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}},
                {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "ADD n :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                {"Delete": {"TableName": "t", "Key": {"pk": {"S": "a2"}}}},
                {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "missing"}},
                                    "ConditionExpression": "attribute_exists(pk)"}},
            ])
        assert "Item" not in ddb.get_item(TableName="t", Key={"pk": {"S": "new"}})
        assert ddb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}
        ddb.transact_write_items(TransactItems=[
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}}])
        assert ddb.get_item(TableName="t", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "2"}


def test_a_message_past_its_retention_period_is_not_received() -> None:
    """The local-only SQS fix reads the retention period directly; the check must stay moto's own."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    moto_patches.install()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-central-1")
        url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="kept")
        sqs.send_message(QueueUrl=url, MessageBody="expired")
        queue = sqs_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].get_queue("q")
        expired = next(m for m in queue._messages if m.body == "expired")
        expired.sent_timestamp = int(expired.sent_timestamp or 0) - 61_000  # type: ignore[assignment]
        bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
        assert bodies == ["kept"]


def test_visibility_and_delay_still_follow_the_clock() -> None:
    """The local-only SQS clock (milliseconds from time.time) must agree with moto's own timestamps."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    moto_patches.install()
    with mock_aws():
        sqs = boto3.client("sqs", region_name="eu-central-1")
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="now")
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=900)
        first = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30)["Messages"]
        assert [m["Body"] for m in first] == ["now"]
        assert "Messages" not in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)  # in flight, delayed
        queue = sqs_backends[DEFAULT_ACCOUNT_ID]["eu-central-1"].get_queue("q")
        for message in queue._messages:
            message.visible_at -= 31_000
            message.delayed_until -= 901_000
        again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert sorted(m["Body"] for m in again) == ["later", "now"]
