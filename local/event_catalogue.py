"""docs/events/: a JSON Schema per published event and a catalogue page, generated from the event
classes (loyalty.catalogue). `make events` writes them; a test fails when the committed copy is stale."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "layers/shared/python") not in sys.path:
    sys.path.insert(0, str(ROOT / "layers/shared/python"))

from loyalty.catalogue import EVENTS  # noqa: E402

HEADER = """# Event catalogue

Generated from the event classes (`layers/shared/python/loyalty/*/events.py`) by `make events`; a test
fails when this folder is stale. Every event is published on the `loyalty-bus` EventBridge bus with the
source and detail type below; its `detail` is the event's envelope: `event_id` (unique, time-ordered:
consumers drop a redelivered event by it), `occurred_at`, then the event's own fields. Details carry ids,
labels and figures, never personal data or free text. Delivery is at least once.

| source | detail type | what happened | schema |
|---|---|---|---|
"""


def documents() -> dict[str, str]:
    """File name -> content of every file of docs/events/."""
    files: dict[str, str] = {}
    rows = []
    for event in sorted(EVENTS, key=lambda e: (e.source, e.detail_type_name())):
        name = f"{event.detail_type_name()}.json"
        files[name] = json.dumps(event.envelope_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        summary = " ".join((event.__doc__ or "").split())
        rows.append(f"| `{event.source}` | `{event.detail_type_name()}` | {summary} | [{name}]({name}) |")
    files["README.md"] = HEADER + "\n".join(rows) + "\n"
    return files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", type=Path, default=ROOT / "docs/events")
    args = parser.parse_args()
    args.write.mkdir(parents=True, exist_ok=True)
    for stale in args.write.glob("*"):
        stale.unlink()
    for name, text in documents().items():
        (args.write / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
