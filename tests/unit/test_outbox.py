"""Outbox items carry an event through the table's stream unchanged."""
from __future__ import annotations

from datetime import datetime, timezone

from loyalty.kernel.ids import new_id
from loyalty.platform.outbox import OUTBOX_ENTITY, RelayedEvent, event_from_item, outbox_item, outbox_puts
from loyalty.points.events import PointsEarned


def event(**detail) -> RelayedEvent:
    return RelayedEvent(event_id=new_id("evt"), detail_type="PointsEarned.v1", source="loyalty.points",
                        occurred_at=datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc),
                        detail={"member_id": "mbr_X", "points": 128, **detail})


def test_an_outbox_item_gives_back_the_very_same_event():
    original = event(order_id="SH-0001", kinds=["base", "promotion"])
    item = outbox_item(original)
    assert item["entity"] == OUTBOX_ENTITY
    assert item["PK"] == f"OUTBOX#{original.event_id}"
    assert event_from_item(item) == original


def test_a_typed_event_reaches_the_relay_with_its_name_source_and_detail():
    typed = PointsEarned.of(datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc), "mbr_X", "purchase", "SH-0001",
                            "SH-JINGAN", 128, pending=False, debt_repaid=0)
    relayed = event_from_item(outbox_item(typed))
    assert (relayed.event_id, relayed.source, relayed.detail_type) == (typed.event_id, "loyalty.points",
                                                                       "PointsEarned.v1")
    assert relayed.envelope() == typed.envelope()


def test_outbox_items_expire_a_day_after_the_event():
    item = outbox_item(event())
    assert item["expires_at"] - int(datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc).timestamp()) == 86_400


def test_each_event_is_a_new_item_in_the_transaction():
    puts = outbox_puts("loyalty-main", [event(), event()])
    assert [p["Put"]["ConditionExpression"] for p in puts] == ["attribute_not_exists(PK)"] * 2
    assert len({p["Put"]["Item"]["PK"] for p in puts}) == 2


def test_event_ids_are_strictly_increasing_even_within_one_millisecond():
    ids = [new_id("evt") for _ in range(5000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_the_envelope_names_the_event_for_deduplication():
    original = event()
    assert original.envelope()["event_id"] == original.event_id
