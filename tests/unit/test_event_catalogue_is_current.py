"""docs/events/ is the published catalogue: one JSON Schema per event, matching the event classes."""
from __future__ import annotations

import importlib
import json
import pkgutil
from datetime import date, datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from pydantic import BaseModel

import loyalty
from loyalty.catalogue import EVENTS
from loyalty.kernel.events import DomainEvent
from local.event_catalogue import documents

ROOT = Path(__file__).resolve().parents[2]


def test_committed_catalogue_matches_the_event_classes():
    committed = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "docs/events").glob("*")}
    assert committed == documents(), "docs/events/ is stale: run `make events` and commit it"


def test_every_event_class_is_in_the_catalogue():
    for module in pkgutil.walk_packages(loyalty.__path__, "loyalty."):
        importlib.import_module(module.name)
    concrete, todo = set(), [DomainEvent]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("loyalty.") and not sub.__name__.startswith("_") \
                    and not sub.__name__.endswith("Event"):
                concrete.add(sub)
    assert concrete == set(EVENTS)


def test_detail_types_are_unique_and_versioned():
    names = [event.detail_type_name() for event in EVENTS]
    assert len(set(names)) == len(names)
    assert all(name.rsplit(".", 1)[1].startswith("v") for name in names)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.detail_type_name())
def test_an_event_validates_against_its_published_schema(event):
    schema = json.loads((ROOT / "docs/events" / f"{event.detail_type_name()}.json").read_text(encoding="utf-8"))
    assert schema["x-source"] == event.source
    example = {name: _example(field.annotation) for name, field in event.model_fields.items()
               if field.is_required() and name not in ("event_id", "occurred_at")}
    instance = event(occurred_at=datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc), **example)
    jsonschema.validate(instance.envelope(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**instance.envelope(), "event_id": 42}, schema)


def _example(annotation):
    text = str(annotation)
    item = (getattr(annotation, "__args__", None) or (None,))[0]
    if "list" in text and isinstance(item, type) and issubclass(item, BaseModel):  # a list of records
        return [{name: _example(field.annotation) for name, field in item.model_fields.items()}]
    if "list" in text:
        return ["x"]
    if "dict" in text:  # dict[str, V]: one key with an example of V
        value = (getattr(annotation, "__args__", None) or (str, bool))[1]
        return {"marketing": _example(value)}
    if "bool" in text:
        return True
    if "Decimal" in text:
        return "12.50"
    if "int" in text:
        return 1
    if annotation is date or text == "date":
        return date(2026, 12, 31)
    if "datetime" in text or "IsoDateTime" in text:
        return datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)
    return "x"
