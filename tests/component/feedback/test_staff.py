"""Staff handling: transitions with history, optimistic versions, lists from the indexes, configuration."""
from __future__ import annotations

import pytest

from tests.component.feedback.conftest import message, process, staff
from tests.conftest import BACKOFFICE, POS_SH

ITEM = "/v1/feedback/{feedback_id}"
MANAGER_SH = {"client_id": "crm-sh", "kind": "backoffice", "scopes": "feedback:manage reports:read",
              "store_ids": "SH-JINGAN SH-XUHUI"}


def received(*bodies) -> list[str]:
    process(*bodies)
    return [b["feedback_id"] for b in bodies]


def act(feedback_id: str, action: str, body: dict | None = None, client=BACKOFFICE):
    return staff("POST", ITEM + "/" + action, path_params={"feedback_id": feedback_id}, body=body or {},
                 client=client)


def test_acknowledge_assign_resolve_keeps_every_change_as_history(services, rewarder, clock, publisher):
    (fid,) = received(message(text="买的羊毛衫洗一次就起球了，质量太差", rating=3))

    clock.advance(minutes=30)
    status, item = act(fid, "acknowledge", {"version": 1, "by": "emp-1024"})
    assert (status, item["status"], item["version"]) == (200, "acknowledged", 2)
    clock.advance(minutes=30)
    status, item = act(fid, "assign", {"assignee": "qa-zhang", "version": 2})
    assert (status, item["status"], item["assignee"], item["version"]) == (200, "assigned", "qa-zhang", 3)
    clock.advance(hours=3)
    status, item = act(fid, "resolve", {"reply": "已为您办理退货并补偿 50 积分", "note": "同批次已送检", "by": "qa-zhang"})
    assert (status, item["status"], item["resolved_on_time"]) == (200, "resolved", True)

    status, detail = staff("GET", ITEM, path_params={"feedback_id": fid})
    assert status == 200
    assert detail["department"] == "quality_management"
    assert [(h["action"], h.get("from_status"), h["to_status"], h["version"]) for h in detail["history"]] == [
        ("received", None, "new", 1),
        ("acknowledged", "new", "acknowledged", 2),
        ("assigned", "acknowledged", "assigned", 3),
        ("resolved", "assigned", "resolved", 4),
    ]
    assert detail["history"][1]["by"] == "emp-1024"
    assert (detail["history"][3]["note"], detail["history"][3]["reply"]) == ("同批次已送检", "已为您办理退货并补偿 50 积分")
    assert (detail["outcome"], detail["reply"], detail["resolution_note"]) == ("resolved", "已为您办理退货并补偿 50 积分", "同批次已送检")
    assert detail["history"][3]["client_id"] == "backoffice"
    resolved = [e for e in publisher.events if e.detail_type == "FeedbackResolved.v1"]
    assert len(resolved) == 1 and resolved[0].detail["feedback_id"] == fid
    assert resolved[0].detail["resolved_on_time"] is True


def test_resolved_is_final(services, rewarder):
    (fid,) = received(message(rating=3))
    act(fid, "resolve", {"reply": "已致电道歉"})

    for action, body in [("resolve", {"reply": "again"}), ("acknowledge", {}), ("assign", {"assignee": "x"})]:
        status, answer = act(fid, action, body)
        assert (status, answer["error"]["code"]) == (409, "INVALID_STATUS_TRANSITION")


def test_acknowledging_twice_or_after_assignment_is_refused_but_reassignment_is_allowed(services, rewarder):
    (fid,) = received(message(rating=3))
    act(fid, "assign", {"assignee": "store-li"})

    status, answer = act(fid, "acknowledge")
    assert (status, answer["error"]["code"], answer["error"]["field"]) == (409, "INVALID_STATUS_TRANSITION", "status")
    status, answer = act(fid, "assign", {"assignee": "store-li"})
    assert status == 409
    status, item = act(fid, "assign", {"assignee": "store-wang"})
    assert (status, item["assignee"], item["version"]) == (200, "store-wang", 3)


def test_a_stale_version_is_a_conflict_and_changes_nothing(services, rewarder):
    (fid,) = received(message(rating=3))
    act(fid, "acknowledge", {"version": 1})

    status, answer = act(fid, "assign", {"assignee": "store-li", "version": 1})

    assert (status, answer["error"]["code"]) == (409, "CONCURRENT_UPDATE")
    assert answer["error"]["details"] == {"current_version": 2}
    _, detail = staff("GET", ITEM, path_params={"feedback_id": fid})
    assert (detail["status"], len(detail["history"])) == ("acknowledged", 2)


def test_a_concurrent_change_between_read_and_write_is_caught_by_the_condition(services, rewarder):
    from loyalty.kernel.errors import ConcurrentUpdate
    from loyalty.feedback.domain import FeedbackAction

    (fid,) = received(message(rating=3))
    repo = services.feedback_repository
    read_by_both = repo.get(fid)
    first, entry = read_by_both.transition(FeedbackAction.ACKNOWLEDGED, now=services.clock.now(), client_id="a",
                                           expected_version=None)
    repo.update(read_by_both, first, entry)
    second, entry = read_by_both.transition(FeedbackAction.ASSIGNED, now=services.clock.now(), client_id="b",
                                            expected_version=None, assignee="someone")

    with pytest.raises(ConcurrentUpdate):
        repo.update(read_by_both, second, entry)
    assert repo.get(fid).status.value == "acknowledged"


@pytest.mark.parametrize("body, field", [
    ({}, "reply"),
    ({"reply": "正在处理", "outcome": "in_progress"}, "expected_at"),
    ({"reply": "正在处理", "outcome": "in_progress", "expected_at": "2026-11-01T00:00:00Z"}, "expected_at"),
    ({"reply": "抱歉", "outcome": "cannot_resolve"}, "reason"),
    ({"reply": "抱歉", "outcome": "maybe"}, "outcome"),
])
def test_an_outcome_needs_a_reply_and_what_its_kind_needs(services, rewarder, body, field):
    (fid,) = received(message(rating=3))

    status, answer = act(fid, "resolve", body)

    assert (status, answer["error"]["field"]) == (400, field)


def test_resolving_after_the_due_time_is_recorded_as_late(services, rewarder, clock, publisher):
    (fid,) = received(message(rating=1, text="牛奶喝出异味，孩子喝了呕吐"))  # urgent: due in 4 hours
    clock.advance(hours=5)

    status, item = act(fid, "resolve", {"reply": "门店已下架同批次牛奶并联系会员"})

    assert (status, item["resolved_on_time"]) == (200, False)
    assert publisher.events[-1].detail["resolved_on_time"] is False


def test_unknown_feedback_and_other_stores_feedback_are_not_found(services, rewarder):
    (fid,) = received(message(store_id="HZ-XIHU", client_id="pos-hz-xihu", rating=3))

    assert staff("GET", ITEM, path_params={"feedback_id": "no-such-feedback"})[0] == 404
    status, answer = staff("GET", ITEM, path_params={"feedback_id": fid}, client=MANAGER_SH)
    assert (status, answer["error"]["code"]) == (404, "FEEDBACK_NOT_FOUND")
    assert act(fid, "acknowledge", client=MANAGER_SH)[0] == 404


def test_a_till_cannot_use_the_staff_api(services, rewarder):
    (fid,) = received(message(rating=3))

    status, answer = staff("GET", ITEM, path_params={"feedback_id": fid}, client=POS_SH)

    assert (status, answer["error"]["code"]) == (403, "MISSING_SCOPE")


# -- lists ----------------------------------------------------------------------------------------
@pytest.fixture
def mixed(services, rewarder, clock):
    """Feedback from three stores, two urgent, over a couple of hours."""
    bodies = [
        message(text="洗手间很脏，地面湿滑，老人差点滑倒", rating=2),  # urgent, store_environment
        message(text="导购服务很热情，点赞", kind="praise", rating=5, received_at="2026-11-18T02:10:00Z"),
        message(text="满减活动结账时没有生效，多收了二十元", rating=3, received_at="2026-11-18T02:20:00Z"),
        message(store_id="HZ-XIHU", client_id="pos-hz-xihu", text="The courier left my parcel in the rain.",
                rating=3, received_at="2026-11-18T02:30:00Z", channel="webshop"),
        message(store_id="HZ-XIHU", client_id="pos-hz-xihu", text="店员推荐的面霜用了过敏，脸上起红疹",
                rating=3, received_at="2026-11-18T02:40:00Z"),  # urgent by keyword
        message(store_id="SH-XUHUI", client_id="pos-sh-xuhui", text="积分兑换的商品一直缺货", rating=3,
                received_at="2026-11-18T02:50:00Z"),
    ]
    ids = received(*bodies)
    return ids


def ids_of(answer) -> list[str]:
    return [i["feedback_id"] for i in answer["items"]]


def test_lists_read_the_status_and_store_indexes_never_the_table(services, mixed, monkeypatch):
    def no_scan(*_a, **_k):
        raise AssertionError("a list must not scan the table")

    monkeypatch.setattr(services.feedback_repository._table, "scan", no_scan)

    status, by_store = staff("GET", "/v1/feedback", query={"store_id": "SH-JINGAN"})
    assert status == 200
    assert ids_of(by_store) == mixed[2::-1]  # newest first
    status, urgent_new = staff("GET", "/v1/feedback", query={"status": "new", "urgency": "urgent"})
    assert ids_of(urgent_new) == [mixed[0], mixed[4]]  # by due time
    _, delivery = staff("GET", "/v1/feedback", query={"category": "delivery_logistics"})
    assert ids_of(delivery) == [mixed[3]]
    _, open_items = staff("GET", "/v1/feedback")
    assert set(ids_of(open_items)) == set(mixed)


def test_a_manager_sees_only_their_stores(services, mixed):
    _, answer = staff("GET", "/v1/feedback", client=MANAGER_SH)
    assert set(ids_of(answer)) == {mixed[0], mixed[1], mixed[2], mixed[5]}
    status, answer = staff("GET", "/v1/feedback", query={"store_id": "HZ-XIHU"}, client=MANAGER_SH)
    assert (status, answer["error"]["code"]) == (403, "STORE_NOT_ALLOWED")


def test_overdue_filter_follows_the_clock(services, mixed, clock):
    _, none_yet = staff("GET", "/v1/feedback", query={"overdue": "true"})
    assert ids_of(none_yet) == []

    clock.advance(hours=5)  # past the 4-hour deadline of the two urgent items
    act(mixed[4], "resolve", {"reply": "已为会员办理退货退款"})
    _, overdue = staff("GET", "/v1/feedback", query={"overdue": "true"})
    assert ids_of(overdue) == [mixed[0]]
    _, not_overdue = staff("GET", "/v1/feedback", query={"overdue": "false", "store_id": "SH-JINGAN"})
    assert set(ids_of(not_overdue)) == {mixed[1], mixed[2]}


def test_pages_follow_the_cursor_across_statuses(services, mixed):
    act(mixed[1], "acknowledge")
    act(mixed[5], "assign", {"assignee": "crm-chen"})

    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status, page = staff("GET", "/v1/feedback", query=query)
        assert status == 200 and len(page["items"]) <= 2
        seen += ids_of(page)
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert sorted(seen) == sorted(mixed) and len(seen) == len(set(seen))
    assert pages >= 3


def test_a_cursor_only_works_for_the_query_that_issued_it(services, mixed):
    _, page = staff("GET", "/v1/feedback", query={"store_id": "SH-JINGAN", "limit": "1"})

    status, answer = staff("GET", "/v1/feedback", query={"store_id": "HZ-XIHU", "cursor": page["next_cursor"]})
    assert (status, answer["error"]["field"]) == (400, "cursor")
    status, answer = staff("GET", "/v1/feedback", query={"cursor": "bm90LWEtY3Vyc29y"})
    assert (status, answer["error"]["field"]) == (400, "cursor")


def test_a_cursor_whose_start_key_is_not_an_item_of_the_partition_read_is_a_400(services, mixed):
    """The fingerprint binds a cursor to its filters, but anyone can compute it: the start key is checked
    too, since DynamoDB refuses a malformed or foreign one with a ValidationException (a 500)."""
    import base64
    import json

    from loyalty.feedback.domain import FeedbackQuery

    _, page = staff("GET", "/v1/feedback", query={"store_id": "SH-JINGAN", "limit": "1"})
    issued = json.loads(base64.urlsafe_b64decode(page["next_cursor"] + "=" * (-len(page["next_cursor"]) % 4)))
    fingerprint = FeedbackQuery(store_id="SH-JINGAN").fingerprint()
    assert issued["q"] == fingerprint  # so the cursors below differ from an issued one only in their key

    def cursor(key: dict) -> str:
        raw = json.dumps({"q": fingerprint, "p": 0, "k": key})
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    foreign = {**issued["k"], "GSI2PK": "FEEDBACK#STORE#HZ-XIHU"}
    for key in [{"PK": issued["k"]["PK"]}, foreign]:
        status, answer = staff("GET", "/v1/feedback", query={"store_id": "SH-JINGAN", "cursor": cursor(key)})
        assert (status, answer["error"]["field"]) == (400, "cursor")
    status, answer = staff("GET", "/v1/feedback", query={"store_id": "SH-JINGAN", "cursor": cursor(issued["k"])})
    assert status == 200 and answer["items"]  # the key as issued still works


def test_list_parameters_are_validated(services):
    assert staff("GET", "/v1/feedback", query={"status": "closed"})[1]["error"]["field"] == "status"
    assert staff("GET", "/v1/feedback", query={"limit": "500"})[1]["error"]["field"] == "limit"


# -- configuration --------------------------------------------------------------------------------
def test_configuration_starts_from_the_defaults_and_changes_with_its_version(services):
    status, current = staff("GET", "/v1/feedback/config")
    assert (status, current["version"], current["source"]) == (200, 0, "default")
    assert current["routing"]["product_quality"] == "quality_management"
    assert current["urgent_due_hours"] == 4 and current["normal_due_hours"] == 48

    body = {k: v for k, v in current.items() if k not in {"source", "updated_at", "updated_by"}}
    body["urgent_due_hours"] = 2
    body["keywords"]["pricing_promotions"] = body["keywords"]["pricing_promotions"] + ["Price Match", "秒杀"]
    status, stored = staff("PUT", "/v1/feedback/config", body=body)
    assert (status, stored["version"], stored["source"], stored["updated_by"]) == (200, 1, "stored", "backoffice")
    assert "price match" in stored["keywords"]["pricing_promotions"]  # English keywords are kept lower-case

    status, answer = staff("PUT", "/v1/feedback/config", body=body)  # still says version 0
    assert (status, answer["error"]["code"]) == (409, "CONCURRENT_UPDATE")
    assert staff("GET", "/v1/feedback/config")[1]["urgent_due_hours"] == 2


@pytest.mark.parametrize("change, field", [
    (lambda b: b["routing"].pop("membership_points"), "routing"),
    (lambda b: b.update(urgent_due_hours=4, high_due_hours=24, normal_due_hours=12), "normal_due_hours"),
    (lambda b: b.update(urgent_due_hours=72, high_due_hours=24, normal_due_hours=96), "high_due_hours"),
    (lambda b: b["keyword_weights"].update({"质量": 11}), "keyword_weights.质量"),
    (lambda b: b["keywords"]["other"].append("退款*"), "keywords.other.0"),
    (lambda b: b["keywords"]["other"].append("bad!word"), "keywords.other.0"),
    (lambda b: b["routing"].update(other="Customer Service"), "routing.other"),
    (lambda b: b.pop("version"), "version"),
])
def test_an_invalid_configuration_is_refused_naming_the_field(services, change, field):
    _, current = staff("GET", "/v1/feedback/config")
    body = {k: v for k, v in current.items() if k not in {"source", "updated_at", "updated_by"}}
    change(body)

    status, answer = staff("PUT", "/v1/feedback/config", body=body)

    assert (status, answer["error"]["field"]) == (400, field)
    assert staff("GET", "/v1/feedback/config")[1]["version"] == 0


def test_what_get_config_answers_can_be_put_back_as_it_is(services):
    status, current = staff("GET", "/v1/feedback/config")
    assert status == 200 and {"source", "updated_at", "updated_by", "version"} <= set(current)
    status, stored = staff("PUT", "/v1/feedback/config", body=current)
    assert status == 200 and stored["version"] == current["version"] + 1 and stored["source"] == "stored"
    status, again = staff("PUT", "/v1/feedback/config", body=stored)
    assert status == 200 and again["version"] == stored["version"] + 1


def test_a_pos_key_is_refused_config_changes_before_its_body_is_read(services):
    status, answer = staff("PUT", "/v1/feedback/config", body={"nonsense": True}, client=POS_SH)
    assert status == 403 and answer["error"]["code"] == "MISSING_SCOPE"
