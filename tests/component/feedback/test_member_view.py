"""The member's side: the member's feedback with progress and the staff's reply (never internal notes),
outcomes, rating, reopening within the window, and an event per status change."""
from __future__ import annotations

from datetime import timedelta

import pytest

import feedback_member
from tests.component.feedback.conftest import message, process, staff
from tests.conftest import BACKOFFICE, LambdaContext, POS_SH, WEBSHOP, api_event, enroll_as, response_json
from local.demo import demo_context

APP = demo_context("member-app")
MEMBER = "mbr_01JD5Z8Q7K3M2N4P6R8T0V2X4Y"
OTHER_MEMBER = "mbr_01JD5Z8Q7K3M2N4P6R8T0V2X4Z"
FEEDBACK = "/v1/members/{member_id}/feedback"
RATING = "/v1/members/{member_id}/feedback/{feedback_id}/rating"
REOPEN = "/v1/members/{member_id}/feedback/{feedback_id}/reopen"


def member_call(method, resource, *, member_id=MEMBER, feedback_id=None, body=None, query=None, client=APP):
    path = {"member_id": member_id} | ({"feedback_id": feedback_id} if feedback_id else {})
    response = feedback_member.handler(api_event(method, resource, path_params=path, body=body, query=query,
                                                 client=client), LambdaContext())
    return response["statusCode"], response_json(response)


def resolve(feedback_id, **body):
    status, item = staff("POST", "/v1/feedback/{feedback_id}/resolve", path_params={"feedback_id": feedback_id},
                         body=body)
    assert status == 200, item
    return item


@pytest.fixture
def member(services, chosen_ids):
    enroll_as(services, chosen_ids, MEMBER, "13800000001")
    enroll_as(services, chosen_ids, OTHER_MEMBER, "13800000002")
    return MEMBER


def test_the_member_sees_progress_outcome_and_reply_but_never_internal_notes(services, rewarder, member, clock,
                                                                             publisher):
    older = message(member_id=member, text="快递三天了还没发货", kind="complaint", rating=3,
                    received_at="2026-11-18T01:00:00Z")
    newer = message(member_id=member, text="建议收银员态度热情一点", kind="suggestion", rating=None,
                    received_at="2026-11-18T01:30:00Z")
    someone_else = message(member_id=OTHER_MEMBER, text="积分没到账", received_at="2026-11-18T01:40:00Z")
    process(older, newer, someone_else)
    staff("POST", "/v1/feedback/{feedback_id}/assign", path_params={"feedback_id": older["feedback_id"]},
          body={"assignee": "logistics-wang", "note": "仓库缺货，内部先别告诉会员"})
    clock.advance(hours=1)
    expected = clock.now() + timedelta(days=3)
    resolve(older["feedback_id"], outcome="in_progress", reply="仓库正在补货，预计三天内发出",
            expected_at=expected.isoformat(), note="供应商延迟交货")

    status, page = member_call("GET", FEEDBACK)

    assert status == 200 and page["next_cursor"] is None
    assert [i["feedback_id"] for i in page["items"]] == [newer["feedback_id"], older["feedback_id"]]
    newest, in_progress = page["items"]
    assert (newest["status"], newest["department"], newest["category"]) == ("new", "customer_service",
                                                                            "service_attitude")
    assert newest["expected_by"] == "2026-11-20T01:30:00+00:00"  # normal: 48 hours to an answer
    assert (in_progress["status"], in_progress["outcome"], in_progress["reply"]) == (
        "in_progress", "in_progress", "仓库正在补货，预计三天内发出")
    assert in_progress["expected_by"].startswith(expected.strftime("%Y-%m-%dT%H:%M"))
    text = str(page)
    assert "供应商延迟交货" not in text and "仓库缺货" not in text and "logistics-wang" not in text
    changed = [e.detail for e in publisher.events if e.detail_type == "FeedbackStatusChanged.v1"]
    assert [(e["feedback_id"], e["previous_status"], e["status"]) for e in changed] == [
        (older["feedback_id"], "new", "assigned"), (older["feedback_id"], "assigned", "in_progress")]
    assert changed[1]["member_id"] == member and changed[1]["expected_at"]


def test_the_member_view_pages_newest_first(services, rewarder, member):
    bodies = [message(member_id=member, text=f"建议{i}", kind="suggestion", rating=None,
                      received_at=f"2026-11-18T01:0{i}:00Z") for i in range(5)]
    process(*bodies)

    seen, cursor = [], None
    while True:
        status, page = member_call("GET", FEEDBACK, query={"limit": "2"} | ({"cursor": cursor} if cursor else {}))
        assert status == 200
        seen += [i["feedback_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break

    assert seen == [b["feedback_id"] for b in reversed(bodies)]


def test_who_may_read_a_members_feedback(services, rewarder, member):
    process(message(member_id=member, text="收银员态度冷漠"))

    assert member_call("GET", FEEDBACK, client=WEBSHOP)[0] == 200
    assert member_call("GET", FEEDBACK, client=BACKOFFICE)[0] == 200
    status, answer = member_call("GET", FEEDBACK, client=POS_SH)  # a till does not browse a member's history
    assert (status, answer["error"]["code"]) == (403, "MISSING_SCOPE")
    assert member_call("GET", FEEDBACK, member_id=OTHER_MEMBER)[1]["items"] == []
    status, answer = member_call("GET", FEEDBACK, member_id="mbr_01JD5Z8Q7K3M2N4P6R8T0V2X99")
    assert (status, answer["error"]["code"]) == (404, "MEMBER_NOT_FOUND")
    status, answer = member_call("GET", FEEDBACK, query={"cursor": "bm90LWEtY3Vyc29y"})
    assert (status, answer["error"]["field"]) == (400, "cursor")


def test_rating_and_reopening_until_the_member_is_satisfied(services, rewarder, member, clock, publisher):
    body = message(member_id=member, text="牛奶没过期就变质了", kind="complaint", rating=3)
    process(body)
    fid = body["feedback_id"]
    status, answer = member_call("POST", RATING, feedback_id=fid, body={"rating": 4})
    assert (status, answer["error"]["code"]) == (409, "INVALID_STATUS_TRANSITION")  # nothing to rate yet

    clock.advance(hours=2)
    resolve(fid, reply="已为您退款", note="批次 2611 送检")
    status, view = member_call("POST", RATING, feedback_id=fid, body={"rating": 2})
    assert (status, view["rating"], view["can_reopen_until"][:10]) == (200, 2, "2026-12-02")
    assert member_call("POST", RATING, feedback_id=fid, body={"rating": 2})[1]["version"] == view["version"]

    clock.advance(days=2)
    status, view = member_call("POST", REOPEN, feedback_id=fid, body={"version": view["version"],
                                                                       "text": "退款一直没到账"})
    assert (status, view["status"], view["reopen_count"], view["department"]) == (
        200, "reopened", 1, "quality_management")
    assert view["expected_by"] == (clock.now() + timedelta(hours=24)).isoformat()  # sooner than 48 hours
    again = member_call("POST", REOPEN, feedback_id=fid, body={"version": view["version"] - 1})
    assert again == (200, view)  # the same reopen, sent again
    status, detail = staff("GET", "/v1/feedback/{feedback_id}", path_params={"feedback_id": fid})
    assert (detail["history"][-1]["action"], detail["history"][-1]["note"]) == ("reopened", "退款一直没到账")
    assert detail["status"] == "reopened"
    listed = staff("GET", "/v1/feedback", query={"status": "reopened"})[1]["items"]
    assert [i["feedback_id"] for i in listed] == [fid]

    resolve(fid, reply="退款已重新发起，今日到账")
    assert member_call("POST", RATING, feedback_id=fid, body={"rating": 5})[1]["rating"] == 5
    types = [e.detail_type for e in publisher.events if e.detail.get("feedback_id") == fid]
    assert types.count("FeedbackRated.v1") == 2 and types.count("FeedbackResolved.v1") == 2
    statuses = [e.detail["status"] for e in publisher.events if e.detail_type == "FeedbackStatusChanged.v1"]
    assert statuses == ["resolved", "reopened", "resolved"]


def test_reopening_after_the_window_or_someone_elses_item_is_refused(services, rewarder, member, clock):
    body = message(member_id=member, text="价格标签和收银价格不一致", kind="complaint", rating=3)
    process(body)
    fid = body["feedback_id"]
    resolve(fid, outcome="cannot_resolve", reply="很抱歉", reason="促销已结束，价签未及时更换")
    view = member_call("GET", FEEDBACK)[1]["items"][0]
    assert (view["outcome"], view["outcome_reason"]) == ("cannot_resolve", "促销已结束，价签未及时更换")

    status, answer = member_call("POST", REOPEN, member_id=OTHER_MEMBER, feedback_id=fid, body={})
    assert (status, answer["error"]["code"]) == (404, "FEEDBACK_NOT_FOUND")
    clock.advance(days=14, seconds=1)
    status, answer = member_call("POST", REOPEN, feedback_id=fid, body={})
    assert (status, answer["error"]["code"]) == (409, "REOPEN_WINDOW_CLOSED")
    assert "can_reopen_until" not in member_call("GET", FEEDBACK)[1]["items"][0]


def test_a_repeated_complaint_and_a_top_tier_member_get_the_high_lane(services, rewarder, member):
    first = message(member_id=member, text="排队太久", kind="complaint", rating=4, received_at="2026-11-10T02:00:00Z")
    second = message(member_id=member, text="排队又是很久", kind="complaint", rating=4)
    unrelated = message(member_id=OTHER_MEMBER, text="排队太久", kind="complaint", rating=4)
    process(first, second, unrelated)

    get = services.feedback_repository.get
    assert (get(first["feedback_id"]).urgency.value, get(second["feedback_id"]).urgency.value) == ("normal", "high")
    assert get(second["feedback_id"]).urgency_reasons == ["repeated_complaint"]
    assert get(second["feedback_id"]).due_at == get(second["feedback_id"]).received_at + timedelta(hours=24)
    assert get(unrelated["feedback_id"]).urgency.value == "normal"


def test_handling_kpis_are_kept_as_it_happens_and_answer_as_json_and_csv(services, rewarder, member, clock):
    first, second, third = (message(member_id=member, text=t, kind="suggestion", rating=None)
                            for t in ("收银员态度冷漠", "价格标签错了", "洗手间很脏"))
    process(first, second, third)
    staff("POST", "/v1/feedback/{feedback_id}/assign", path_params={"feedback_id": first["feedback_id"]},
          body={"assignee": "=cmd|calc"})
    clock.advance(hours=3)
    resolve(first["feedback_id"], reply="已道歉")  # 3 hours
    resolve(second["feedback_id"], outcome="cannot_resolve", reply="抱歉", reason="价签由供应商提供")
    resolve(third["feedback_id"], outcome="in_progress", reply="已安排保洁", expected_at="2026-11-19T02:00:00Z")
    member_call("POST", RATING, feedback_id=first["feedback_id"], body={"rating": 5})
    member_call("POST", RATING, feedback_id=first["feedback_id"], body={"rating": 2})  # changed their mind
    clock.advance(days=1)
    member_call("POST", REOPEN, feedback_id=first["feedback_id"], body={})

    status, report = staff("GET", "/v1/reports/feedback", query={"from": "2026-11-18", "to": "2026-11-19"})

    assert status == 200
    totals = report["handling"]["totals"]
    assert (totals["received"], totals["outcomes"], totals["resolved"], totals["cannot_resolve"]) == (3, 2, 1, 1)
    assert (totals["in_progress_answers"], totals["reopened"], totals["reopen_rate_pct"]) == (1, 1, 50.0)
    assert (totals["resolution_rate_pct"], totals["first_time_resolution_pct"]) == (50.0, 0.0)  # reopened: not first time
    assert (totals["average_handling_hours"], totals["p90_handling_hours"]) == (3.0, 4.0)
    assert (totals["ratings"], totals["average_satisfaction"], totals["satisfied_pct"]) == (1, 2.0, 0.0)
    departments = {d["department"]: d for d in report["handling"]["by_department"]}
    assert departments["customer_service"]["resolved"] == 1 and departments["marketing"]["cannot_resolve"] == 1
    assignees = {a["assignee"]: a for a in report["handling"]["by_assignee"]}
    assert assignees["=cmd|calc"]["average_satisfaction"] == 2.0 and assignees["(unassigned)"]["outcomes"] == 1
    assert [s["store"] for s in report["handling"]["by_store"]] == ["SH-JINGAN"]

    response = feedback_staff_csv({"from": "2026-11-18", "to": "2026-11-19"})
    assert response["multiValueHeaders"]["Content-Type"][0].startswith("text/csv"), response
    lines = response["body"].splitlines()
    assert lines[0].startswith("dimension,value,received,outcomes,resolved")
    assert lines[1].startswith("all,*,3,2,1,1,1,1,50.0,0.0,")
    assert any(line.startswith("assignee,'=cmd|calc,") for line in lines)  # not a formula in a spreadsheet


def feedback_staff_csv(query):
    import feedback_staff

    return feedback_staff.handler(api_event("GET", "/v1/reports/feedback", query={**query, "format": "csv"},
                                            client=BACKOFFICE), LambdaContext())


INVITE = "/v1/members/{member_id}/feedback-invitations"


def invite(order_id, client=POS_SH, store_id="SH-JINGAN"):
    response = feedback_member.handler(api_event("POST", INVITE, path_params={"member_id": MEMBER}, client=client,
                                                 body={"store_id": store_id, "order_id": order_id, "channel": "pos"}),
                                       LambdaContext())
    return response["statusCode"], response_json(response)


def test_a_sample_of_purchases_invites_feedback_once_per_order(services, rewarder, member, publisher):
    answers = {f"SH-0{i:04d}": invite(f"SH-0{i:04d}")[1] for i in range(200)}
    invited = [order for order, answer in answers.items() if answer["invited"]]

    assert 8 <= len(invited) <= 40  # 10% of 200, give or take the hash
    assert all(a["sample_pct"] == 10 for a in answers.values())
    again = invite(invited[0])
    assert again == (200, answers[invited[0]])  # the same order: the same answer, no second event
    events = [e.detail for e in publisher.events if e.detail_type == "FeedbackInvited.v1"]
    assert sorted(e["order_id"] for e in events) == sorted(invited)
    assert {e["member_id"] for e in events} == {MEMBER}
    status, answer = invite(invited[0], store_id="HZ-XIHU")
    assert (status, answer["error"]["code"]) == (403, "STORE_NOT_ALLOWED")
