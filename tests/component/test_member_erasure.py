"""Member rights: erasure removes every personal field and keeps the books; withdrawing data-processing
consent schedules it, giving consent again cancels it, and the daily job erases those due."""
from __future__ import annotations

import json
from datetime import timedelta

import members
import members_erasure
import points
import redemption
from loyalty.kernel.identity import ClientIdentity
from loyalty.points.requests import AdjustmentRequest, PointsPaymentRequest, PurchaseRequest
from loyalty.rewards.requests import RedemptionRequest
from tests.component.points.conftest import line, purchase_body
from tests.component.rewards.conftest import reward_body
from tests.conftest import BACKOFFICE, POS_SH, LambdaContext, api_event, response_json

ADMIN = ClientIdentity.from_context(BACKOFFICE)
POS = ClientIdentity.from_context(POS_SH)
PHONE, E164, NAME, EMAIL = "139 0000 1234", "+8613900001234", "王小明", "wang.xiaoming@example.cn"
ADDRESS_LINE = "静安区南京西路1266号"
FEEDBACK_TEXT = "王小明投诉：上周在静安店买的熟食吃了以后拉肚子，请回电13900001234。"
STAFF_REPLY = "王先生您好，质量部已联系门店下架该批次熟食，并将致电您。"


def enroll(ctx, phone: str = PHONE, email: str = EMAIL) -> tuple[int, dict]:
    body = {"phone": phone, "name": NAME, "email": email, "birthday": "1990-05-17", "gender": "male",
            "address": {"city": "上海", "line": ADDRESS_LINE}, "interests": ["护肤", "咖啡"],
            "store_id": "SH-JINGAN", "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"},
                         "marketing": {"granted": True, "policy_version": "2026-01"}}}
    response = members.handler(api_event("POST", "/v1/members", body=body), ctx)
    return response["statusCode"], response_json(response)


def member_call(ctx, method: str, resource: str, member_id: str, body=None, client=BACKOFFICE) -> tuple[int, dict]:
    response = members.handler(api_event(method, resource, path_params={"member_id": member_id}, body=body,
                                         client=client), ctx)
    return response["statusCode"], response_json(response)


def erase(ctx, member_id: str, client=BACKOFFICE) -> tuple[int, dict]:
    return member_call(ctx, "POST", "/v1/members/{member_id}/erasure", member_id, {"reason": "member_request"},
                       client)


def withdraw(ctx, member_id: str, granted: bool = False) -> tuple[int, dict]:
    return member_call(ctx, "PATCH", "/v1/members/{member_id}", member_id,
                       {"consents": {"data_processing": {"granted": granted, "policy_version": "2026-02"}}}, POS_SH)


def whole_table(services) -> str:
    items, kwargs = [], {}
    while True:
        page = services.table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return json.dumps(items, default=str, ensure_ascii=False)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def a_year_of_history(services, clock, member_id: str) -> str:
    """Purchases, an adjustment, a voucher redemption and a points payment still held: returns the
    voucher's code."""
    for month in range(12):
        body = purchase_body(f"ER-{month}", line(unit_price="88.00"), occurred_at=clock.now() - timedelta(hours=1))
        services.points_service.earn_purchase(member_id, PurchaseRequest.model_validate(body), POS)
        clock.advance(days=30)
    services.points_service.adjust(member_id, AdjustmentRequest(
        adjustment_id="er-adj", points=500, reason="goodwill", store_id="SH-JINGAN"), ADMIN)
    from loyalty.rewards.domain import RewardInput

    services.reward_catalogue.create(RewardInput.model_validate(reward_body("er-coupon")), ADMIN)
    redeemed = services.redemptions.redeem(member_id, RedemptionRequest(
        redemption_id="er-r1", reward_id="er-coupon", store_id="SH-JINGAN", channel="pos", quantity=1), POS)
    services.points_payments.reserve(member_id, PointsPaymentRequest.model_validate({
        "payment_id": "er-pay", "store_id": "SH-JINGAN", "order_id": "ER-PAY", "channel": "pos",
        "currency": "CNY", "order_total": "50.00", "points": 300}), POS)
    return redeemed.result.vouchers[0].code


def identity(context):
    from loyalty.kernel.identity import ClientIdentity

    return ClientIdentity.from_context(context)


def kpi_figures(services) -> dict:
    from datetime import date

    from loyalty.kpis.service import KpiQuery

    report = services.kpi_reports.report(KpiQuery(from_date=date(2026, 11, 1), to_date=date(2027, 10, 31),
                                                  group_by="chain"), identity(BACKOFFICE))
    return report.totals.model_dump(mode="json")


def test_erasure_removes_every_personal_field_and_keeps_the_books(services, ctx, clock, publisher, log_output):
    status, member = enroll(ctx)
    assert status == 201
    member_id = member["member_id"]
    code = a_year_of_history(services, clock, member_id)
    from tests.component.feedback.conftest import message, process

    response, _ = process(message(member_id=member_id, text=FEEDBACK_TEXT, received_at=clock.now().isoformat()))
    assert response == {"batchItemFailures": []}
    [feedback] = services.feedback_repository.member_feedback(member_id, 10, None).items
    from tests.component.feedback.conftest import staff

    resolved = staff("POST", "/v1/feedback/{feedback_id}/resolve", path_params={"feedback_id": feedback.feedback_id},
                     body={"reply": STAFF_REPLY, "note": "客户王小明情绪激动"})
    assert resolved[0] == 200, resolved
    before = services.points_repository.get_balance(member_id)
    assert before.reserved == 300
    ledger_before, _ = services.points_repository.ledger_page(member_id, 100, None)
    whole = whole_table(services)
    assert E164 in whole and EMAIL in whole and NAME in whole and FEEDBACK_TEXT in whole  # the check can find them
    # The KPIs and the member's insight have seen the year.
    from tests.component.insight.test_insight import deliver as to_insight
    from tests.component.kpis.conftest import deliver as to_kpis

    seen_before = publisher.events
    assert to_kpis(ctx, seen_before) == to_insight(ctx, seen_before) == {"batchItemFailures": []}
    kpis_before = kpi_figures(services)
    assert kpis_before["orders"] > 0
    assert services.insight.view(member_id, identity(BACKOFFICE)).figures.orders_total > 0
    # The year ends with two quiet months: the member, who allows marketing, was sent a win-back voucher.
    open_vouchers = services.voucher_wallet.wallet(member_id, identity(BACKOFFICE), status="issued").body()["items"]
    assert sorted(v["source"]["kind"] for v in open_vouchers) == ["redemption", "win_back"]

    status, record = erase(ctx, member_id)
    assert status == 201, record
    assert (record["status"], record["reason"], record["requested_by"]) == ("done", "member_request", "backoffice")
    assert record["ended"] == {"vouchers": 2, "points_payments": 1, "feedback_text": 1}, resolved

    whole = whole_table(services)
    for personal in (E164, EMAIL, NAME, ADDRESS_LINE, "1990-05-17", "护肤", member["card_number"], "13900001234",
                     FEEDBACK_TEXT, STAFF_REPLY, "情绪激动"):
        assert personal not in whole, personal
    events = json.dumps([e.envelope() for e in publisher.events], default=str, ensure_ascii=False)
    for personal in (E164, EMAIL, NAME, ADDRESS_LINE):
        assert personal not in events
    assert publisher.types()[-1] == "MemberErased.v1"

    # the books: every entry stays, the released hold comes back to available, nothing else moves
    after = services.points_repository.get_balance(member_id)
    assert (after.available + after.reserved, after.debt, after.lifetime_earned) == \
        (before.available + before.reserved, before.debt, before.lifetime_earned)
    ledger_after, _ = services.points_repository.ledger_page(member_id, 100, None)
    assert [e.entry_id for e in ledger_after[-len(ledger_before):]] == [e.entry_id for e in ledger_before]
    assert sum(e.available_change for e in ledger_after) == after.available
    voucher = services.voucher_wallet._vouchers.get(member_id, code)
    assert voucher.status == "voided"
    # KPIs unchanged by the erasure's own events; the insight profile is gone.
    known = {e.event_id for e in seen_before}
    erasure_events = [e for e in publisher.events if e.event_id not in known]
    assert to_kpis(ctx, erasure_events) == to_insight(ctx, erasure_events) == {"batchItemFailures": []}
    assert kpi_figures(services) == kpis_before
    assert services.insight._repo.load(member_id) == (None, 0)

    # the member answers no more, on every capability's routes
    assert member_call(ctx, "GET", "/v1/members/{member_id}", member_id)[0] == 410
    status, body = member_call(ctx, "GET", "/v1/members/{member_id}/consents", member_id)
    assert (status, body["error"]["code"]) == (410, "MEMBER_ERASED")
    purchase = purchase_body("ER-AFTER", line(), occurred_at=clock.now() - timedelta(minutes=5))
    response = points.handler(api_event("POST", "/v1/members/{member_id}/purchases",
                                        path_params={"member_id": member_id}, body=purchase), ctx)
    assert response["statusCode"] == 410
    response = redemption.handler(api_event("GET", "/v1/members/{member_id}/rewards",
                                            path_params={"member_id": member_id}), ctx)
    assert response["statusCode"] == 410, response

    # asked again: the same record; the phone enrolls again, as a new member
    status, again = erase(ctx, member_id)
    assert status == 200 and again == record
    status, new = enroll(ctx)
    assert status == 201 and new["member_id"] != member_id
    logs = log_output()
    assert member_id in logs  # the functions did log, by member id only
    for personal in (E164, EMAIL, NAME, ADDRESS_LINE):
        assert personal not in logs


def test_only_a_client_with_the_erase_scope_erases(services, ctx):
    member_id = enroll(ctx)[1]["member_id"]
    status, body = erase(ctx, member_id, client=POS_SH)
    assert (status, body["error"]["code"]) == (403, "MISSING_SCOPE")
    assert member_call(ctx, "GET", "/v1/members/{member_id}", member_id)[0] == 200
    status, body = erase(ctx, "mbr_01JD0000000000000000000000")
    assert (status, body["error"]["code"]) == (404, "MEMBER_NOT_FOUND")


def test_withdrawing_consent_schedules_erasure_and_giving_it_again_cancels_it(services, ctx, clock, publisher):
    member_id = enroll(ctx)[1]["member_id"]
    clock.advance(minutes=5)
    status, member = withdraw(ctx, member_id)
    assert (status, member["status"]) == (200, "erasure_scheduled")
    status, record = member_call(ctx, "GET", "/v1/members/{member_id}/erasure", member_id)
    assert (status, record["status"], record["reason"]) == (200, "scheduled", "consent_withdrawn")
    assert record["erase_after"].startswith((clock.now() + timedelta(days=30)).date().isoformat())

    clock.advance(days=3)
    status, member = withdraw(ctx, member_id, granted=True)
    assert (status, member["status"]) == (200, "active")
    assert "MemberErasureCancelled.v1" in publisher.types()
    assert member_call(ctx, "GET", "/v1/members/{member_id}/erasure", member_id)[0] == 404
    clock.advance(days=40)
    assert services.member_erasure.run_due()["erased"] == 0
    assert member_call(ctx, "GET", "/v1/members/{member_id}", member_id)[0] == 200


def test_the_daily_job_erases_members_whose_grace_period_is_over_once(services, ctx, clock, publisher):
    due_id = enroll(ctx)[1]["member_id"]
    later_id = enroll(ctx, phone="139 0000 5678", email="later@example.cn")[1]["member_id"]
    clock.advance(minutes=5)
    withdraw(ctx, due_id)
    clock.advance(days=10)
    withdraw(ctx, later_id)
    clock.advance(days=20, minutes=1)  # the first one's 30 days are over, the second one's are not

    run = members_erasure.handler({"time": clock.now().isoformat()}, LambdaContext())
    assert run == {"erased": 1, "failed": 0, "complete": True}
    assert member_call(ctx, "GET", "/v1/members/{member_id}", due_id)[0] == 410
    assert member_call(ctx, "GET", "/v1/members/{member_id}", later_id)[0] == 200
    assert publisher.types().count("MemberErased.v1") == 1
    assert members_erasure.handler({}, LambdaContext())["erased"] == 0  # the same day again: nothing

    clock.advance(days=10)
    assert services.member_erasure.run_due()["erased"] == 1
    status, record = member_call(ctx, "GET", "/v1/members/{member_id}/erasure", later_id)
    assert (status, record["status"], record["reason"]) == (200, "done", "consent_withdrawn")


def test_the_sample_schedule_event_runs_the_job(services):
    from pathlib import Path

    event = json.loads((Path(__file__).resolve().parents[2] / "events/members_erasure/scheduled.json")
                       .read_text(encoding="utf-8"))
    assert members_erasure.handler(event, LambdaContext()) == {"erased": 0, "failed": 0, "complete": True}


def test_personal_data_in_clear_needs_its_scope_and_back_office_reads_are_logged(services, ctx, clock):
    member_id = enroll(ctx)[1]["member_id"]
    reporting = {**BACKOFFICE, "client_id": "bi-reporting", "scopes": "members:read points:read reports:read"}
    status, seen = member_call(ctx, "GET", "/v1/members/{member_id}", member_id, client=reporting)
    assert status == 200
    assert (seen["phone"], seen["email"], seen["name"]) == ("+86139****1234", "w***@example.cn", "王**")
    assert seen["birthday"] is None and seen["address"] is None and seen["interests"] == []
    status, seen = member_call(ctx, "GET", "/v1/members/{member_id}", member_id, client=POS_SH)
    assert (status, seen["phone"], seen["name"]) == (200, E164, NAME)  # the till serves the member in person
    clock.advance(minutes=1)
    assert member_call(ctx, "GET", "/v1/members/{member_id}", member_id)[1]["email"] == EMAIL  # back office
    status, log = member_call(ctx, "GET", "/v1/members/{member_id}/access-log", member_id)
    assert status == 200
    assert [(r["client_id"], r["action"]) for r in log["items"]] == [("backoffice", "read")]
    assert member_call(ctx, "GET", "/v1/members/{member_id}/access-log", member_id, client=POS_SH)[0] == 403
