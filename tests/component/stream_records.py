"""DynamoDB stream records as Lambda's event source mapping delivers them (NEW_IMAGE), for the stream consumers' tests."""
from __future__ import annotations

import itertools

from boto3.dynamodb.types import TypeSerializer

STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/loyalty-main/stream/2026-11-01T00:00:00.000"
_serializer = TypeSerializer()
_sequence = itertools.count(100)


def stream_record(item: dict, event_name: str = "INSERT") -> dict:
    """A record as Lambda delivers it from a NEW_IMAGE stream (a REMOVE carries only the keys)."""
    image = {name: _serializer.serialize(value) for name, value in item.items()}
    sequence = f"{next(_sequence):021d}"
    dynamodb = {"ApproximateCreationDateTime": 1794967201, "Keys": {"PK": image["PK"], "SK": image["SK"]},
                "SequenceNumber": sequence, "SizeBytes": 400, "StreamViewType": "NEW_IMAGE"}
    if event_name != "REMOVE":
        dynamodb["NewImage"] = image
    return {"eventID": f"id-{sequence}", "eventName": event_name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1", "dynamodb": dynamodb, "eventSourceARN": STREAM_ARN}


def batch(*records: dict) -> dict:
    return {"Records": list(records)}
