"""Create the table, queues and bus from infra/resources.py, the spec the CDK stack also reads."""
from __future__ import annotations

import json

from infra.resources import EVENT_BUS_NAME, QUEUES, TABLE


def create_table(dynamodb_client, table_name: str = TABLE.name, *, stream: bool = True) -> None:
    """`stream=False` only for in-process moto tests, which feed the relay synthetic stream records:
    moto keeps a copy per stream record, which makes large write bursts slow."""
    attributes = {TABLE.partition_key, TABLE.sort_key}
    for index in TABLE.indexes:
        attributes |= {index.partition_key, index.sort_key}
    dynamodb_client.create_table(
        TableName=table_name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
        KeySchema=[{"AttributeName": TABLE.partition_key, "KeyType": "HASH"},
                   {"AttributeName": TABLE.sort_key, "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"},
                              {"AttributeName": index.sort_key, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in TABLE.indexes
        ],
        StreamSpecification=({"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}  # as the stack's table
                             if stream else {"StreamEnabled": False}),
    )
    dynamodb_client.get_waiter("table_exists").wait(TableName=table_name)
    try:
        dynamodb_client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute})
    except Exception:  # DynamoDB Local accepts TTL settings but never expires items; not essential here
        pass


def create_queues(sqs_client) -> dict[str, str]:
    """Return {queue logical id: url} and {dlq logical id: url}, with the redrive policy of the stack."""
    urls: dict[str, str] = {}
    for queue in QUEUES:
        dlq_url = sqs_client.create_queue(QueueName=queue.dlq_name)["QueueUrl"]
        dlq_arn = sqs_client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = sqs_client.create_queue(
            QueueName=queue.name,
            Attributes={
                "VisibilityTimeout": str(queue.visibility_timeout_seconds),
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}),
            },
        )["QueueUrl"]
        urls[queue.logical_id] = url
        urls[queue.logical_id + "DLQ"] = dlq_url
    return urls


def create_bus(events_client, bus_name: str = EVENT_BUS_NAME) -> str:
    return events_client.create_event_bus(Name=bus_name)["EventBusArn"]
