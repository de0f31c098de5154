"""Create the table, queues and bus from infra/resources.py, the spec the CDK stack also reads.

Each step accepts what already exists (the local run keeps its table across restarts), as long as it
is what the spec describes; a table made from an older description is refused with a way out."""
from __future__ import annotations

import json

from botocore.exceptions import ClientError

from infra.resources import EVENT_BUS_NAME, QUEUES, TABLE, QueueSpec


class ExistingTableMismatch(RuntimeError):
    """The table kept from an earlier run no longer matches infra/resources.py."""


def _code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


def create_table(dynamodb_client, table_name: str = TABLE.name, *, stream: bool = True) -> None:
    """`stream=False` only for in-process moto tests, which feed the relay synthetic stream records:
    moto keeps a copy per stream record, which makes large write bursts slow.

    A table that already exists is kept when its keys, indexes and stream are the spec's."""
    attributes = {TABLE.partition_key, TABLE.sort_key}
    for index in TABLE.indexes:
        attributes |= {index.partition_key, index.sort_key}
    try:
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
                    "Projection": {"ProjectionType": index.projection},
                }
                for index in TABLE.indexes
            ],
            StreamSpecification=({"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}  # as the stack's table
                                 if stream else {"StreamEnabled": False}),
        )
    except ClientError as error:
        if _code(error) != "ResourceInUseException":
            raise
        description = dynamodb_client.describe_table(TableName=table_name)["Table"]
        check_existing_table(description, stream=stream)
        add_missing_indexes(dynamodb_client, description)
    dynamodb_client.get_waiter("table_exists").wait(TableName=table_name)
    try:
        dynamodb_client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE.ttl_attribute})
    except Exception:  # DynamoDB Local accepts TTL settings but never expires items; already on after a restart
        pass


def add_missing_indexes(dynamodb_client, description: dict, wait_seconds: float = 120) -> list[str]:
    """Create the spec's indexes a kept table does not have yet (one at a time, as DynamoDB allows), so a
    local run keeps its data when the spec gains an index. Items written before carry no keys for it
    until they are written again."""
    import time

    have = {index["IndexName"] for index in description.get("GlobalSecondaryIndexes", [])}
    added = []
    for index in TABLE.indexes:
        if index.name in have:
            continue
        dynamodb_client.update_table(
            TableName=description["TableName"],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                                  for a in (index.partition_key, index.sort_key)],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": index.name,
                "KeySchema": [{"AttributeName": index.partition_key, "KeyType": "HASH"},
                              {"AttributeName": index.sort_key, "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": index.projection},
            }}])
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            indexes = dynamodb_client.describe_table(TableName=description["TableName"])["Table"].get(
                "GlobalSecondaryIndexes", [])
            if any(i["IndexName"] == index.name and i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
                break
            time.sleep(0.5)
        added.append(index.name)
    return added


def check_existing_table(description: dict, *, stream: bool = True) -> None:
    """Raise ExistingTableMismatch when a kept table's keys, index keys or projections, or stream differ
    from the spec. An index the table lacks is not a mismatch: add_missing_indexes creates it."""
    def keys(schema: list[dict]) -> tuple[str, ...]:
        ordered = sorted(schema, key=lambda k: k["KeyType"] != "HASH")
        return tuple(k["AttributeName"] for k in ordered)

    expected = {"table": (TABLE.partition_key, TABLE.sort_key),
                **{index.name: (index.partition_key, index.sort_key) for index in TABLE.indexes}}
    found = {"table": keys(description.get("KeySchema", [])),
             **{index["IndexName"]: keys(index["KeySchema"]) for index in description.get("GlobalSecondaryIndexes", [])}}
    if found["table"] == expected["table"]:  # a kept table lacking an index gets it; with other keys it is refused
        expected = {name: value for name, value in expected.items() if name in found}
    differences = [f"{name}: expected keys {expected.get(name)}, found {found.get(name)}"
                   for name in sorted(set(expected) | set(found)) if expected.get(name) != found.get(name)]
    projections = {index.name: index.projection for index in TABLE.indexes}
    for index in description.get("GlobalSecondaryIndexes", []):
        projection = (index.get("Projection") or {}).get("ProjectionType", "ALL")
        if index["IndexName"] in projections and projection != projections[index["IndexName"]]:
            differences.append(f"{index['IndexName']}: expected projection {projections[index['IndexName']]}, "
                               f"found {projection}")
    stream_spec = description.get("StreamSpecification") or {}
    if stream and not (stream_spec.get("StreamEnabled") and stream_spec.get("StreamViewType") == "NEW_IMAGE"):
        differences.append(f"stream: expected NEW_IMAGE, found {stream_spec or 'none'}")
    if differences:
        raise ExistingTableMismatch(
            f"the table {description.get('TableName')} kept from an earlier run does not match infra/resources.py "
            f"({'; '.join(differences)}): `make reset` deletes the local data, the next `make run` creates it anew")


def create_queues(sqs_client) -> dict[str, str]:
    """Return {queue logical id: url} and {dlq logical id: url}, with the redrive policy of the stack.
    A queue that exists already gets the spec's attributes."""
    urls: dict[str, str] = {}
    for queue in QUEUES:
        dlq_url = _queue(sqs_client, queue.dlq_name, {})
        dlq_arn = sqs_client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        url = _queue(sqs_client, queue.name, {
            "VisibilityTimeout": str(queue.visibility_timeout_seconds),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(queue.max_receive_count)}),
        })
        urls[queue.logical_id] = url
        urls[queue.logical_id + "DLQ"] = dlq_url
    return urls


def _queue(sqs_client, name: str, attributes: dict[str, str]) -> str:
    try:
        return sqs_client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    except ClientError as error:  # same name, other attributes: keep the queue, take the spec's attributes
        if _code(error) not in ("QueueAlreadyExists", "QueueNameExists", "AWS.SimpleQueueService.QueueNameExists"):
            raise
        url = sqs_client.get_queue_url(QueueName=name)["QueueUrl"]
        if attributes:
            sqs_client.set_queue_attributes(QueueUrl=url, Attributes=attributes)
        return url


def subscribe_queues(events_client, sqs_client, urls: dict[str, str], bus_name: str = EVENT_BUS_NAME,
                     queues: tuple[QueueSpec, ...] = QUEUES) -> None:
    """The stack's rules that deliver events from the bus to the queues subscribed to them."""
    for queue in queues:
        if not queue.subscribes_to:
            continue
        arn = sqs_client.get_queue_attributes(QueueUrl=urls[queue.logical_id],
                                              AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule = f"{queue.logical_id}Subscription"
        events_client.put_rule(Name=rule, EventBusName=bus_name, EventPattern=json.dumps(queue.event_pattern()))
        events_client.put_targets(Rule=rule, EventBusName=bus_name, Targets=[{"Id": queue.logical_id, "Arn": arn}])


def create_bus(events_client, bus_name: str = EVENT_BUS_NAME) -> str:
    try:
        return events_client.create_event_bus(Name=bus_name)["EventBusArn"]
    except ClientError as error:
        if _code(error) != "ResourceAlreadyExistsException":
            raise
        return events_client.describe_event_bus(Name=bus_name)["Arn"]
