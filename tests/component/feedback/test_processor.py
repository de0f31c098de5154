"""The SQS-triggered processor: partial batch failures, the dead-letter queue, exactly-once storage."""
from __future__ import annotations

import json

from tests.component.feedback.conftest import (
    QueuePump, failed_ids, history_items, message, new_feedback_id, process, queue_messages, sqs_record,
    stored_feedback,
)

MALFORMED = '{"feedback_id": "fb-broken-0001", "store_id": "SH-JINGAN", "kind": "complaint", "text": "缺了渠道和时间'


def test_one_malformed_message_fails_alone_and_the_rest_of_the_batch_is_stored(services, rewarder, publisher):
    good = [
        message(text="酸奶还没到保质期就胀包了，质量太差"),
        message(kind="suggestion", rating=None, text="希望周末多开几个收银台"),
        message(store_id="HZ-XIHU", client_id="pos-hz-xihu", kind="praise", rating=5, text="导购小姐姐很耐心，推荐的外套很合身"),
    ]
    bad = sqs_record(MALFORMED)
    missing_field = sqs_record({k: v for k, v in message().items() if k != "channel"})

    response, records = process(sqs_record(good[0]), bad, sqs_record(good[1]), missing_field, sqs_record(good[2]))

    assert sorted(failed_ids(response)) == sorted([bad["messageId"], missing_field["messageId"]])
    stored = {i.feedback_id for i in stored_feedback(services, "SH-JINGAN") + stored_feedback(services, "HZ-XIHU")}
    assert stored == {m["feedback_id"] for m in good}
    assert publisher.types().count("FeedbackReceived.v1") == 3


def test_a_message_that_keeps_failing_lands_in_the_dead_letter_queue(services, rewarder, queue_url, dlq_url):
    from infra.resources import QUEUES

    max_receives = QUEUES[0].max_receive_count
    good = message(text="配送很快，包装完好")
    services.sqs.send_message(QueueUrl=queue_url, MessageBody=MALFORMED)
    services.sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(good, ensure_ascii=False))
    pump = QueuePump(services.sqs, queue_url)

    pump.drain()

    assert [i.feedback_id for i in stored_feedback(services)] == [good["feedback_id"]]
    assert len(pump.failures) == max_receives  # every receive of the bad message was reported as failed
    assert queue_messages(services.sqs, queue_url) == []
    dead = queue_messages(services.sqs, dlq_url)
    assert [m["Body"] for m in dead] == [MALFORMED]
    assert int(dead[0]["Attributes"]["ApproximateReceiveCount"]) > max_receives


def test_a_duplicated_message_is_stored_once_with_one_history_entry_and_one_set_of_side_effects(
        services, rewarder, publisher):
    body = message(member_id="mbr_01JD0000000000000000000000", rating=3, text="会员积分没有到账，小票显示应得 120 分")

    first, _ = process(body, body)  # the same message twice in one batch
    second, _ = process(body)  # and redelivered later

    assert failed_ids(first) == failed_ids(second) == []
    items = stored_feedback(services)
    assert [i.feedback_id for i in items] == [body["feedback_id"]]
    assert len(history_items(services, body["feedback_id"])) == 1
    assert publisher.types() == ["FeedbackReceived.v1"]
    assert [c[1] for c in rewarder.calls] == [body["feedback_id"]]


def test_a_burst_of_500_messages_in_batches_of_ten_is_stored_exactly_once(services, rewarder, queue_url, publisher):
    bodies = [message(feedback_id=new_feedback_id("burst"), rating=(n % 5) + 1,
                      text=f"第{n}位顾客：生鲜区的蔬菜不新鲜") for n in range(500)]
    resent = bodies[::20]  # clients retrying: 25 exact duplicates in the mix
    entries = [json.dumps(b, ensure_ascii=False) for b in bodies + resent]
    for start in range(0, len(entries), 10):
        services.sqs.send_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "MessageBody": body} for i, body in enumerate(entries[start:start + 10])])
    pump = QueuePump(services.sqs, queue_url, batch_size=10)

    pump.drain()

    stored = stored_feedback(services)
    assert len(stored) == 500
    assert {i.feedback_id for i in stored} == {b["feedback_id"] for b in bodies}
    assert pump.failures == []
    assert publisher.types().count("FeedbackReceived.v1") == 500
    assert pump.invocations >= 52  # 525 messages, at most ten per invocation


def test_a_failed_reward_keeps_the_feedback_and_the_redelivery_retries_only_the_reward(services, rewarder, publisher):
    body = message(member_id="mbr_01JD0000000000000000000001", kind="praise", rating=5,
                   text="店员主动帮忙把东西搬上车，非常感谢！")
    rewarder.fail_next = 1

    first, _ = process(body)

    assert len(failed_ids(first)) == 1
    stored = services.feedback_repository.get(body["feedback_id"])
    assert stored is not None and stored.events_published_at is not None and stored.reward_settled_at is None

    second, _ = process(body)

    assert failed_ids(second) == []
    assert len(rewarder.calls) == 2  # the retry reached the (idempotent) rewarder again
    assert publisher.types() == ["FeedbackReceived.v1"]  # ...but the events were not sent twice
    assert services.feedback_repository.get(body["feedback_id"]).reward_settled_at is not None


def test_urgent_feedback_is_escalated_and_events_carry_no_text(services, rewarder, publisher):
    text = "昨天买的花生酱没有标注过敏原，孩子吃了过敏送医院了，电话 13812345678"
    body = message(member_id="mbr_01JD0000000000000000000002", text=text, rating=1)

    process(body)

    assert publisher.types() == ["FeedbackReceived.v1", "FeedbackEscalated.v1"]
    escalated = publisher.events[1]
    assert escalated.detail["feedback_id"] == body["feedback_id"]
    assert escalated.detail["department"] == "quality_management"
    assert "safety_keyword" in escalated.detail["reasons"]
    serialized = json.dumps([e.envelope() for e in publisher.events], ensure_ascii=False)
    assert "过敏" not in serialized and "13812345678" not in serialized
    item = services.feedback_repository.get(body["feedback_id"])
    assert item.urgency.value == "urgent"
    assert (item.due_at - item.received_at).total_seconds() == 4 * 3600
    assert {"过敏原", "过敏", "医院"} <= set(item.matched_keywords)  # why it went where it did, for staff


def test_the_issues_food_poisoning_example_is_product_quality_urgent_and_at_quality_management(services, rewarder):
    body = message(text="吃了店里的熟食后食物中毒,进了医院", rating=None, kind="complaint")

    process(body)

    item = services.feedback_repository.get(body["feedback_id"])
    assert (item.primary_category.value, item.urgency.value, item.department) == (
        "product_quality", "urgent", "quality_management")
    assert "食物中毒" in item.matched_keywords and "熟食" in item.matched_keywords


def test_a_reused_feedback_id_with_other_content_is_not_stored_over_the_first(services, rewarder):
    first = message(text="停车场太难找了")
    other = {**first, "text": "完全不同的内容", "rating": 5}
    process(first)

    response, records = process(other)

    assert failed_ids(response) == [records[0]["messageId"]]  # kept for the dead-letter queue, not dropped
    assert services.feedback_repository.get(first["feedback_id"]).text == "停车场太难找了"


def test_feedback_without_a_member_is_stored_and_nobody_is_rewarded(services, rewarder):
    body = message(text="The fitting rooms were dirty and crowded.", kind="complaint", rating=3)

    response, _ = process(body)

    assert failed_ids(response) == []
    assert rewarder.calls == []
    item = services.feedback_repository.get(body["feedback_id"])
    assert item.primary_category.value == "store_environment"
    assert item.department == "store_operations"
    assert item.reward_settled_at is not None


def test_an_edited_keyword_dictionary_applies_to_the_next_batch(services, rewarder):
    from loyalty.kernel.identity import ClientIdentity
    from loyalty.feedback.config import DEFAULT_FEEDBACK_CONFIG, FeedbackConfigUpdate
    from tests.conftest import BACKOFFICE

    before = message(text="提货点关门了")
    process(before)
    data = DEFAULT_FEEDBACK_CONFIG.model_dump(mode="json")
    data["keywords"]["delivery_logistics"].append("提货点")
    services.feedback_desk.put_config(FeedbackConfigUpdate(**data, version=0), ClientIdentity.from_context(BACKOFFICE))
    after = message(text="提货点关门了")
    process(after)

    assert services.feedback_repository.get(before["feedback_id"]).primary_category.value == "other"
    assert services.feedback_repository.get(after["feedback_id"]).primary_category.value == "delivery_logistics"
