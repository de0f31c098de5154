"""A member's data export (access request, PIPL art. 45, GDPR art. 15): one JSON document with what every
capability keeps of the member, written by a queue worker page by page, so that a long history is never
held in memory, then put where the chain keeps exports (a bucket on AWS) and handed out through a
short-lived link."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, ContextManager, Iterator, Literal, Protocol, Sequence

from pydantic import BaseModel, ConfigDict, Field

from loyalty.kernel.errors import MemberNotFound
from loyalty.kernel.identity import ClientIdentity, Scope
from loyalty.kernel.models import Result
from loyalty.kernel.ports import Clock, IdGenerator, MemberDataSource
from loyalty.members.errors import ExportNotFound
from loyalty.members.ports import MemberRepository

FORMAT_VERSION = 1
LINK_MINUTES = 15  # how long a download link works
RUNNING_RETRY_AFTER = timedelta(minutes=30)  # an export left running this long (a worker died) may start again


class ExportRecord(BaseModel):
    model_config = ConfigDict(defer_build=True)

    export_id: str
    member_id: str
    status: Literal["queued", "running", "done", "failed"]
    requested_by: str
    requested_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None
    sections: dict[str, int] = Field(default_factory=dict)
    size_bytes: int | None = None
    location: str | None = None
    version: int = 1


class ExportView(Result):
    export_id: str
    member_id: str
    status: Literal["queued", "running", "done", "failed"]
    requested_by: str
    requested_at: datetime
    completed_at: datetime | None = None
    sections: dict[str, int] = Field(description="Records per section in the document")
    size_bytes: int | None = None
    download_url: str | None = Field(default=None, description="While done: a link that works for 15 minutes "
                                                                "(ask again for a new one)")
    link_expires_at: datetime | None = None


class ExportWriter(Protocol):
    size: int  # bytes written, once closed

    def write(self, text: str) -> None: ...


class ExportStore(Protocol):
    """Where exports are kept: an encrypted bucket on AWS, a folder in the local run."""

    def writer(self, key: str) -> ContextManager[ExportWriter]:
        """Text written goes to a file as it comes; on a clean exit the document is kept under `key`."""

    def link(self, key: str, minutes: int) -> str: ...

    def delete(self, key: str) -> None: ...


class ExportQueue(Protocol):
    def send(self, member_id: str, export_id: str) -> None: ...


class ExportRepository(Protocol):
    def put_export(self, record: ExportRecord, before: ExportRecord | None) -> bool:
        """Put `record` if nothing is stored (before None) or the stored version is before's; False if not."""

    def get_export(self, member_id: str, export_id: str) -> ExportRecord | None: ...

    def member_exports(self, member_id: str) -> list[ExportRecord]: ...

    def delete_export(self, member_id: str, export_id: str) -> None: ...


def export_key(member_id: str, export_id: str) -> str:
    return f"exports/{member_id}/{export_id}.json"


class MemberExports:
    """Start an export, report it, write it (the queue worker), and forget a member's exports (erasure)."""

    holds = "exports"

    def __init__(self, members: MemberRepository, exports: ExportRepository, sources: Sequence[MemberDataSource],
                 store: ExportStore, queue: ExportQueue | None, clock: Clock, ids: IdGenerator):
        self._members = members
        self._exports = exports
        self._sources = sources
        self._store = store
        self._queue = queue
        self._clock = clock
        self._ids = ids

    def start(self, member_id: str, client: ClientIdentity) -> tuple[ExportView, bool]:
        """Queue an export; one still queued or running is answered instead (created False)."""
        client.require(Scope.MEMBERS_EXPORT)
        if self._members.get_member(member_id) is None:  # raises MemberErased for an erased member
            raise MemberNotFound(f"member {member_id} does not exist")
        now = self._clock.now()
        for record in self._exports.member_exports(member_id):
            if record.status == "queued" or (record.status == "running" and record.started_at
                                             and now - record.started_at < RUNNING_RETRY_AFTER):
                return self._view(record), False
        record = ExportRecord(export_id=self._ids.new_id("exp"), member_id=member_id, status="queued",
                              requested_by=client.client_id, requested_at=now)
        self._exports.put_export(record, None)
        self._queue.send(member_id, record.export_id)
        return self._view(record), True

    def get(self, member_id: str, export_id: str, client: ClientIdentity) -> ExportView:
        client.require(Scope.MEMBERS_EXPORT)
        self._members.get_member(member_id)  # an erased member answers 410
        record = self._exports.get_export(member_id, export_id)
        if record is None:
            raise ExportNotFound(f"member {member_id} has no export {export_id}", field="export_id")
        return self._view(record)

    def run(self, member_id: str, export_id: str) -> ExportRecord | None:
        """The worker: write the document section by section into a temporary file, keep it, mark it done.
        A message for an export already done (a redelivery) does nothing."""
        record = self._exports.get_export(member_id, export_id)
        if record is None or record.status == "done":
            return record
        now = self._clock.now()
        running = record.model_copy(update={"status": "running", "started_at": now, "version": record.version + 1})
        if not self._exports.put_export(running, record):
            return self._exports.get_export(member_id, export_id)  # another worker took it
        member = self._members.get_member(member_id)
        if member is None:
            raise MemberNotFound(f"member {member_id} does not exist")
        counts: dict[str, int] = {}
        key = export_key(member_id, export_id)
        with self._store.writer(key) as out:  # a record at a time: memory stays bounded by one page
            out.write('{"format_version": %d, "member_id": %s, "exported_at": %s'
                      % (FORMAT_VERSION, json.dumps(member_id), json.dumps(now.isoformat())))
            for section, records in self._sections(member_id, member):
                out.write(f', {json.dumps(section)}: [')
                count = 0
                for item in records:
                    out.write(("," if count else "") + json.dumps(item, ensure_ascii=False, default=str))
                    count += 1
                out.write("]")
                counts[section] = count
            out.write("}\n")
        size = out.size
        done = running.model_copy(update={"status": "done", "completed_at": self._clock.now(), "sections": counts,
                                          "size_bytes": size, "location": key, "version": running.version + 1})
        self._exports.put_export(done, running)
        return done

    def forget_member(self, member_id: str) -> int:
        """kernel.ports.MemberDataHolder: erasure deletes every export of the member, document and record."""
        forgotten = 0
        for record in self._exports.member_exports(member_id):
            if record.location:
                self._store.delete(record.location)
            self._exports.delete_export(member_id, record.export_id)
            forgotten += 1
        return forgotten

    def _sections(self, member_id: str, member) -> Iterator[tuple[str, Iterator[dict[str, Any]]]]:
        yield "profile", iter([member.model_dump(mode="json", exclude={"version"})])
        yield "consents", (c.model_dump(mode="json") for c in self._members.consent_history(member_id))
        for source in self._sources:
            for section in source.sections:
                yield section, source.member_records(member_id, section)

    def _view(self, record: ExportRecord) -> ExportView:
        data = record.model_dump(exclude={"version", "location", "started_at"})
        if record.status == "done" and record.location:
            data["download_url"] = self._store.link(record.location, LINK_MINUTES)
            data["link_expires_at"] = self._clock.now() + timedelta(minutes=LINK_MINUTES)
        return ExportView.model_validate(data)
