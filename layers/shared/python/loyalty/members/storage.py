"""Where members' data exports are kept (the ExportStore port) and how the worker is told (ExportQueue):
an encrypted S3 bucket on AWS, a folder in the local run; an SQS queue either way."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class _FileWriter:
    def __init__(self, handle):
        self._handle = handle
        self.size = 0

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        self._handle.write(data)
        self.size += len(data)


@contextmanager
def _temporary_file() -> Iterator[tuple[_FileWriter, str]]:
    handle, path = tempfile.mkstemp(suffix=".json")  # /tmp on Lambda
    try:
        with os.fdopen(handle, "wb") as raw:
            yield _FileWriter(raw), path
    except BaseException:
        os.unlink(path)
        raise


def s3_client():
    """Presigned links to objects encrypted with a KMS key must be signed with Signature Version 4."""
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(signature_version="s3v4"))


class S3ExportStore:
    def __init__(self, client, bucket: str):
        self._client = client
        self._bucket = bucket

    @contextmanager
    def writer(self, key: str) -> Iterator[_FileWriter]:
        with _temporary_file() as (out, path):
            yield out
        try:  # the bucket's default encryption (the data key) applies; the type lets a browser save it
            self._client.upload_file(path, self._bucket, key, ExtraArgs={"ContentType": "application/json"})
        finally:
            os.unlink(path)

    def link(self, key: str, minutes: int) -> str:
        return self._client.generate_presigned_url("get_object", Params={"Bucket": self._bucket, "Key": key},
                                                   ExpiresIn=minutes * 60)

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=key)


class FolderExportStore:
    """The local run's stand-in for the bucket: files under a folder, linked by file URI."""

    def __init__(self, folder: str | Path):
        self._folder = Path(folder)

    @contextmanager
    def writer(self, key: str) -> Iterator[_FileWriter]:
        with _temporary_file() as (out, path):
            yield out
        target = self._folder / key
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)

    def link(self, key: str, minutes: int) -> str:
        return (self._folder / key).resolve().as_uri()

    def delete(self, key: str) -> None:
        (self._folder / key).unlink(missing_ok=True)


class SqsExportQueue:
    def __init__(self, client, queue_url: str):
        self._client = client
        self._url = queue_url

    def send(self, member_id: str, export_id: str) -> None:
        self._client.send_message(QueueUrl=self._url,
                                  MessageBody=json.dumps({"member_id": member_id, "export_id": export_id}),
                                  MessageAttributes={"export_id": {"DataType": "String", "StringValue": export_id}})
