"""SQS implementation of the FeedbackQueue port."""
from __future__ import annotations

import json


class SqsFeedbackQueue:
    def __init__(self, client, queue_url: str):
        self._client = client
        self._url = queue_url

    def send(self, message: dict) -> None:
        self._client.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps(message, ensure_ascii=False, separators=(",", ":")),
            # Lets an operator find a message in the dead-letter queue without reading bodies.
            MessageAttributes={"feedback_id": {"DataType": "String", "StringValue": message["feedback_id"]}},
        )
