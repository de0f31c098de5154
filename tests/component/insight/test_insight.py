"""Insight against moto's table: purchases reach the profile through the insight queue's consumer, once per
event; the API shows figures, tags and stage; a member going quiet is found by the daily check and lands on
the home store's churn-risk list with MemberChurnRisk.v1; erasure forgets the profile."""
from __future__ import annotations

import random
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

import insight as insight_api
import insight_check
import insight_events
from loyalty.kernel.identity import ClientIdentity
from loyalty.points.requests import PurchaseRequest
from tests.component.kpis.conftest import sqs_event
from tests.component.points.conftest import ago, call, enroll, line, purchase_body
from tests.conftest import BACKOFFICE, POS_SH

STAFF_HZ = {"client_id": "crm-hz", "kind": "backoffice", "scopes": "insight:read insight:manage", "store_ids": "HZ-XIHU"}


def deliver(ctx, events) -> dict:
    failures = []
    events = list(events)
    for start in range(0, len(events), 10):
        failures += insight_events.handler(sqs_event(events[start:start + 10], start=start), ctx)["batchItemFailures"]
    return {"batchItemFailures": failures}


def buy(services, clock, member, order_id, price, **line_fields):
    request = PurchaseRequest.model_validate(purchase_body(
        order_id, line(unit_price=price, **line_fields), occurred_at=ago(clock, minutes=30)))
    services.points_service.earn_purchase(member, request, ClientIdentity.from_context(POS_SH))


def view(ctx, member, client=BACKOFFICE):
    return call(insight_api, ctx, "GET", "/v1/members/{member_id}/insight", member_id=member, client=client)


def test_purchases_build_the_profile_once_whatever_the_redeliveries(services, ctx, clock, publisher):
    member = enroll(services)
    for week in range(4):
        buy(services, clock, member, f"I-{week}", "260.00", discounted=True, amount="210.00")
        clock.advance(days=7)
    events = publisher.events
    assert deliver(ctx, events) == {"batchItemFailures": []}
    status, first = view(ctx, member)
    assert status == 200, first
    assert (first["figures"]["orders_total"], first["figures"]["purchases_30d"], first["figures"]["spend_90d"]) == (
        4, 4, "840.00")
    assert first["figures"]["purchase_interval_days"] == "7.0" and first["figures"]["discount_share"] == "1.0000"
    # Enrolled under 90 days ago: still new, however often they buy.
    assert first["stage"] == "new" and "frequency_mid" in first["tags"] and first["home_store"] == "SH-JINGAN"
    again = list(events) * 2
    random.Random(3).shuffle(again)
    assert deliver(ctx, again) == {"batchItemFailures": []}
    assert view(ctx, member)[1] == first


def test_a_member_going_quiet_is_found_by_the_daily_check_once(services, ctx, clock, publisher):
    member = enroll(services)
    for n in range(3):
        buy(services, clock, member, f"Q-{n}", "99.00")
        clock.advance(days=5)
    deliver(ctx, publisher.events)
    _, seen = view(ctx, member)
    assert seen["next_check_on"] is not None
    assert seen["next_check_on"] == "2026-12-29"  # last purchase 28 November, quiet for more than 30 days
    clock.current = datetime(2026, 12, 29, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # the job's hour
    run = insight_check.handler({"detail-type": "Scheduled Event", "detail": {}}, ctx)
    assert (run["members"], run["risks_raised"]) == (1, 1), run
    risks = [e.detail for e in publisher.events if e.detail_type == "MemberChurnRisk.v1"]
    assert [(r["member_id"], r["store_id"], r["reasons"], r["win_back_voucher"]) for r in risks] == [
        (member, "SH-JINGAN", ["silent_beyond_usual_interval"], False)]  # no marketing consent: no voucher
    second = insight_check.handler({"detail-type": "Scheduled Event", "detail": {}}, ctx)
    assert second["risks_raised"] == 0 and second["changed"] == 0

    status, page = call(insight_api, ctx, "GET", "/v1/insight/churn-risk", query={"store_id": "SH-JINGAN"},
                        client=BACKOFFICE)
    assert status == 200 and [(i["member_id"], i["status"]) for i in page["items"]] == [(member, "open")]
    status, worked = call(insight_api, ctx, "PATCH", "/v1/insight/churn-risk/{member_id}", member_id=member,
                          body={"store_id": "SH-JINGAN", "status": "contacted", "note": "电话回访"}, client=BACKOFFICE)
    assert status == 200 and worked["status"] == "contacted"
    status, body = call(insight_api, ctx, "GET", "/v1/insight/churn-risk", query={"store_id": "SH-JINGAN"},
                        client=STAFF_HZ)
    assert (status, body["error"]["code"]) == (403, "STORE_NOT_ALLOWED")


def test_erasure_forgets_the_profile_and_the_list_entry(services, ctx, clock, publisher):
    member = enroll(services)
    buy(services, clock, member, "E-1", "50.00")
    deliver(ctx, publisher.events)
    assert view(ctx, member)[0] == 200
    erased = type(publisher.events[0])(event_id="evt_erased_1", source="loyalty.members", detail_type="MemberErased.v1",
                                       occurred_at=clock.now(), detail={"member_id": member, "reason": "member_request",
                                                                        "requested_by": "backoffice"})
    assert deliver(ctx, [erased]) == {"batchItemFailures": []}
    status, body = view(ctx, member)
    assert (status, body["error"]["code"]) == (404, "INSIGHT_NOT_FOUND")


@pytest.mark.parametrize("body,field", [
    ({"store_id": "SH-JINGAN", "status": "forgotten"}, "status"),
    ({"status": "contacted"}, "store_id"),
    ({"store_id": "SH-JINGAN", "status": "contacted", "note": "x" * 201}, "note"),
])
def test_bad_churn_updates_are_refused_naming_the_field(services, ctx, body, field):
    status, answer = call(insight_api, ctx, "PATCH", "/v1/insight/churn-risk/{member_id}",
                          member_id="mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E", body=body, client=BACKOFFICE)
    assert status == 400 and answer["error"]["field"] == field, answer


def test_a_member_not_on_the_list_is_404_and_a_till_may_not_read_insight(services, ctx):
    status, body = call(insight_api, ctx, "PATCH", "/v1/insight/churn-risk/{member_id}",
                        member_id="mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E", body={"store_id": "SH-JINGAN", "status": "dismissed"},
                        client=BACKOFFICE)
    assert (status, body["error"]["code"]) == (404, "CHURN_RISK_NOT_FOUND")
    assert view(ctx, "mbr_01KA7Z3J5Q8N2W4X6Y9B0C1D2E", client=POS_SH)[0] == 403


def enroll_with_marketing(services) -> str:
    from loyalty.members.domain import EnrollmentRequest

    request = EnrollmentRequest.model_validate({
        "phone": "13812345670", "store_id": "SH-JINGAN", "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"},
                     "marketing": {"granted": True, "policy_version": "2026-01"}}})
    return services.member_service.enroll(request, ClientIdentity.from_context(POS_SH), None).member.member_id


def test_a_consenting_member_at_risk_gets_one_win_back_voucher(services, ctx, clock, publisher):
    member = enroll_with_marketing(services)
    for n in range(3):
        buy(services, clock, member, f"W-{n}", "99.00")
        clock.advance(days=5)
    deliver(ctx, publisher.events)
    clock.current = datetime(2026, 12, 29, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    insight_check.handler({"detail-type": "Scheduled Event", "detail": {}}, ctx)
    insight_check.handler({"detail-type": "Scheduled Event", "detail": {}}, ctx)
    wallet = services.voucher_wallet.wallet(member, ClientIdentity.from_context(BACKOFFICE)).body()["items"]
    win_back = [v for v in wallet if v["source"]["kind"] == "win_back"]
    assert len(win_back) == 1 and win_back[0]["terms"]["amount_off"] == "20.00"
    [risk] = [e.detail for e in publisher.events if e.detail_type == "MemberChurnRisk.v1"]
    assert risk["win_back_voucher"] is True
    _, page = call(insight_api, ctx, "GET", "/v1/insight/churn-risk", query={"store_id": "SH-JINGAN"}, client=BACKOFFICE)
    assert [(i["member_id"], i["status"]) for i in page["items"]] == [(member, "voucher_sent")]


def test_the_retention_policy_hands_a_member_quiet_for_its_term_to_erasure(services, ctx, clock, publisher):
    """Off by default; with `loyalty:inactivityErasureDays` (here 3 years) the daily checks follow a quiet
    member through its churn dates to the end of the term, and schedule the erasure the members' daily job
    carries out."""
    from loyalty.insight.dynamo import DynamoInsightRepository
    from loyalty.insight.profile import LifecyclePolicy
    from loyalty.insight.service import Insight

    three_years = Insight(DynamoInsightRepository(services.table), services.program_rules, services.clock,
                          policy=LifecyclePolicy(inactivity_erasure_days=1095), eraser=services.member_erasure)
    assert LifecyclePolicy().inactivity_erasure_days == 0  # off unless the chain sets it
    member = enroll(services)
    buy(services, clock, member, "RET-1", "45.00")
    for event in publisher.events:
        three_years.apply_event(event.event_id, event.detail_type, event.envelope())
    zone = ZoneInfo("Asia/Shanghai")
    days = []
    while True:
        due = three_years._repo.load(member)[0].next_check_on
        if due is None or due.year > 2030:
            break
        clock.current = datetime(due.year, due.month, due.day, 1, 0, tzinfo=zone)
        run = three_years.check_due()
        days.append((due.isoformat(), run.erasures_scheduled))
        if run.erasures_scheduled:
            break
    # Silent past 30 days, churned at 180, then the end of the term: three years after the last purchase.
    assert days[-1] == ("2029-11-17", 1), days
    assert three_years.check_due().erasures_scheduled == 0  # scheduled once
    record = services.member_erasure.get(member, ClientIdentity.from_context(BACKOFFICE))
    assert (record.status, record.reason.value) == ("scheduled", "inactivity_policy")
    assert services.member_erasure.run_due()["erased"] == 1


def test_tag_rules_are_validated_and_versioned_and_a_decision_by_hand_wins_until_cleared(services, ctx, clock, publisher):
    member = enroll(services)
    buy(services, clock, member, "T-1", "6200.00")
    deliver(ctx, publisher.events)
    assert "high_spender" in view(ctx, member)[1]["tags"]
    status, rules = call(insight_api, ctx, "GET", "/v1/insight/tag-rules", client=BACKOFFICE)
    assert status == 200 and rules["version"] == 0 and {r["tag"] for r in rules["rules"]} >= {"high_spender"}
    bad = {**rules, "rules": [{**rules["rules"][0], "when": {"field": "spend_365d", "op": ">=", "value": "lots"}}]}
    status, body = call(insight_api, ctx, "PUT", "/v1/insight/tag-rules", body=bad, client=BACKOFFICE)
    assert status == 400 and body["error"]["field"].startswith("rules"), body
    vip = {"tag": "vip_beauty", "name_zh": "美妆VIP", "name_en": "Beauty VIP",
           "when": {"all": [{"field": "top_category", "op": "==", "value": "apparel"},
                            {"field": "spend_365d", "op": ">=", "value": "6000"}]}}
    status, stored = call(insight_api, ctx, "PUT", "/v1/insight/tag-rules",
                          body={"rules": [*rules["rules"], vip], "version": 0}, client=BACKOFFICE)
    assert status == 200 and stored["version"] == 1
    status, body = call(insight_api, ctx, "PUT", "/v1/insight/tag-rules", body={**rules, "version": 0},
                        client=BACKOFFICE)
    assert (status, body["error"]["code"]) == (409, "TAG_RULES_VERSION_CONFLICT")
    assert "vip_beauty" in view(ctx, member)[1]["tags"]  # judged on the rules in force

    decide = lambda tag, action: call(insight_api, ctx, "POST", "/v1/members/{member_id}/tags",  # noqa: E731
                                      member_id=member, body={"tag": tag, "action": action,
                                                              "reason": "店长复核 store manager review"},
                                      client=BACKOFFICE)
    status, decided = decide("high_spender", "remove")
    assert status == 200 and "high_spender" not in decided["tags"] and decided["manual"] == {"high_spender": "remove"}
    status, decided = decide("high_spender", "clear")
    assert "high_spender" in decided["tags"] and decided["manual"] == {}
    assert [(h["tag"], h["action"]) for h in decided["history"]] == [("high_spender", "clear"), ("high_spender", "remove")]
    status, body = call(insight_api, ctx, "POST", "/v1/members/{member_id}/tags", member_id=member,
                        body={"tag": "high_spender", "action": "toggle", "reason": "x"}, client=BACKOFFICE)
    assert status == 400 and body["error"]["field"] == "action"
