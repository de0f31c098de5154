"""SQS implementation of the ExpiryWork port: the expiry job's tasks on the expiry queue."""
from __future__ import annotations

from loyalty.points.ports import ExpiryTask

BATCH = 10  # SendMessageBatch's limit


class SqsExpiryWork:
    def __init__(self, client, queue_url: str):
        self._client = client
        self._url = queue_url

    def send(self, tasks: list[ExpiryTask]) -> None:
        for start in range(0, len(tasks), BATCH):
            batch = tasks[start:start + BATCH]
            response = self._client.send_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(i), "MessageBody": task.model_dump_json(exclude_none=True),
                 # Lets an operator see which partition a message in the dead-letter queue is about.
                 "MessageAttributes": {"partition": {"DataType": "String",
                                                     "StringValue": f"{task.day.isoformat()}#{task.shard}"}}}
                for i, task in enumerate(batch)])
            failed = response.get("Failed") or []
            if failed:
                raise RuntimeError(f"the expiry queue refused {len(failed)} task(s): "
                                   f"{', '.join(f['Code'] for f in failed)}")
