"""KPIs against moto's table: events through the KPI queue's consumer, the report API, exactly-once counting
under duplicates and reordering, store managers' view, the monthly digest and the reconciliation."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

import kpi_digest
import kpi_reconciliation
import kpis
from loyalty.kernel.identity import ClientIdentity
from loyalty.platform.dynamo import plain
from loyalty.points.requests import PurchaseRequest, ReturnRequest
from loyalty.settlement.dynamo import fact_of_item
from tests.component.kpis.conftest import deliver
from tests.component.points.conftest import ago, call, enroll, line, purchase_body
from tests.conftest import BACKOFFICE, POS_HZ, POS_SH, api_event

REPORT = "/v1/reports/kpis"
DAY = {"from": "2026-11-18", "to": "2026-11-18"}
MANAGER_SH = {"client_id": "bi-sh", "kind": "backoffice", "scopes": "kpis:read", "store_ids": "SH-JINGAN SH-XUHUI"}


def buy(services, clock, member, order_id, amount, *, store_id="SH-JINGAN", quantity=1, client=POS_SH):
    request = PurchaseRequest.model_validate(purchase_body(
        order_id, line(unit_price=amount, quantity=quantity), store_id=store_id, occurred_at=ago(clock, minutes=30)))
    services.points_service.earn_purchase(member, request, ClientIdentity.from_context(client))


@pytest.fixture
def small_chain(services, clock):
    """Three members over three stores in two cities on 2026-11-18 (Shanghai time):
    A buys twice at 静安 (100 + 50), B once at 徐家汇 (200), C three units at 西湖 (3 x 100) and brings one back."""
    a, b = enroll(services), enroll(services)
    c = enroll(services, store_id="HZ-XIHU", client=POS_HZ)
    buy(services, clock, a, "K-A1", "100.00")
    buy(services, clock, a, "K-A2", "50.00")
    buy(services, clock, b, "K-B1", "200.00", store_id="SH-XUHUI", client=BACKOFFICE)
    buy(services, clock, c, "K-C1", "100.00", store_id="HZ-XIHU", quantity=3, client=POS_HZ)
    services.points_service.record_return(c, ReturnRequest.model_validate({
        "return_id": "KR-C1", "order_id": "K-C1", "store_id": "HZ-XIHU", "returning_store_id": "HZ-XIHU",
        "occurred_at": ago(clock, minutes=5).isoformat(), "lines": [{"sku": "SKU-1", "quantity": 1}]}),
        ClientIdentity.from_context(POS_HZ))
    return a, b, c


def report(query: dict, ctx, client=BACKOFFICE):
    return call(kpis, ctx, "GET", REPORT, query=query, client=client)


def by_group(body: dict) -> dict:
    return {row["group"]: row["figures"] for row in body["rows"]}


def test_the_days_figures_by_store_city_and_chain_match_the_hand_count(services, ctx, publisher, small_chain):
    assert deliver(ctx, publisher.events) == {"batchItemFailures": []}
    status, body = report({**DAY, "group_by": "store"}, ctx)
    assert status == 200, body
    stores = by_group(body)
    jingan = stores["SH-JINGAN"]
    # 静安: A and B enrolled there; A's two orders: 150.00, average 75.00, one buyer who bought again.
    assert (jingan["new_members"], jingan["orders"], jingan["spend"], jingan["average_ticket"]) == (2, 2, "150.00", "75.00")
    assert (jingan["buyers"], jingan["repeat_buyers"], jingan["repurchase_rate"], jingan["active_members"]) == (1, 1, "1.0000", 1)
    xihu = stores["HZ-XIHU"]  # 300.00 bought, 100.00 back: 200.00 net
    assert (xihu["new_members"], xihu["orders"], xihu["spend"], xihu["refunds"], xihu["returns"]) == (1, 1, "200.00", "100.00", 1)
    assert stores["SH-XUHUI"]["spend"] == "200.00" and stores["SH-XUHUI"]["new_members"] == 0

    cities = by_group(report({**DAY, "group_by": "city"}, ctx)[1])
    assert (cities["上海"]["spend"], cities["上海"]["buyers"], cities["上海"]["repurchase_rate"]) == ("350.00", 2, "0.5000")
    assert cities["杭州"]["spend"] == "200.00"

    status, chain = report({**DAY, "group_by": "chain"}, ctx)
    figures = chain["rows"][0]["figures"]
    # 4 orders, 550.00 net, 137.50 a ticket; 3 buyers of whom 1 bought again.
    assert (figures["orders"], figures["spend"], figures["average_ticket"], figures["repurchase_rate"]) == (
        4, "550.00", "137.50", "0.3333")
    assert figures["purchase_frequency"] == "1.33" and figures["new_members"] == 3
    assert chain["totals"]["spend"] == "550.00"
    balances = [services.points_queries.balance(m, ClientIdentity.from_context(BACKOFFICE)).body() for m in small_chain]
    held = sum(b["available"] + b["pending"] + b.get("reserved", 0) for b in balances)
    assert chain["standing"]["points_outstanding"] == held == figures["points_issued"] - figures["points_returned"]
    assert chain["standing"]["liability"] == str((Decimal(held) / 100).quantize(Decimal("0.01")))
    assert chain["standing"]["members"] == 3 and chain["standing"]["tiers"] == {"base": 3}


def test_duplicates_and_any_order_leave_every_figure_unchanged(services, ctx, publisher, small_chain):
    events = publisher.events
    deliver(ctx, events)
    first = {g: report({**DAY, "group_by": g}, ctx)[1]["rows"] for g in ("store", "city", "channel", "chain")}
    shuffled = list(events) * 2
    random.Random(7).shuffle(shuffled)
    assert deliver(ctx, shuffled) == {"batchItemFailures": []}
    again = {g: report({**DAY, "group_by": g}, ctx)[1]["rows"] for g in ("store", "city", "channel", "chain")}
    assert again == first


def test_a_store_managers_key_sees_its_stores_only(services, ctx, publisher, small_chain):
    deliver(ctx, publisher.events)
    status, body = report({**DAY, "group_by": "store"}, ctx, client=MANAGER_SH)
    assert status == 200 and sorted(by_group(body)) == ["SH-JINGAN", "SH-XUHUI"] and "standing" not in body
    assert body["totals"]["spend"] == "350.00"
    status, body = report({**DAY, "group_by": "day"}, ctx, client=MANAGER_SH)
    assert status == 200 and by_group(body)["2026-11-18"]["orders"] == 3
    status, body = report({**DAY, "group_by": "city"}, ctx, client=MANAGER_SH)
    assert (status, body["error"]["code"], body["error"]["field"]) == (403, "STORE_NOT_ALLOWED", "group_by")
    status, body = report({**DAY, "store_id": "HZ-XIHU"}, ctx, client=MANAGER_SH)
    assert (status, body["error"]["field"]) == (403, "store_id")
    status, _ = report(DAY, ctx, client=POS_SH)  # a till has no kpis:read
    assert status == 403


def test_csv_answers_one_line_per_group_by_format_or_accept(services, ctx, publisher, small_chain):
    deliver(ctx, publisher.events)
    asked = [api_event("GET", REPORT, query={**DAY, "group_by": "store", "format": "csv"}, client=BACKOFFICE),
             api_event("GET", REPORT, query={**DAY, "group_by": "store"}, headers={"Accept": "text/csv"},
                       client=BACKOFFICE)]
    for event in asked:
        response = kpis.handler(event, ctx)
        assert response["statusCode"] == 200 and response["multiValueHeaders"]["Content-Type"][0].startswith("text/csv")
        lines = response["body"].splitlines()
        assert lines[0].startswith("store,new_members,active_members")
        assert [row.split(",")[0] for row in lines[1:]] == ["HZ-XIHU", "SH-JINGAN", "SH-XUHUI"]
        assert lines[2].split(",")[lines[0].split(",").index("spend")] == "150.00"


@pytest.mark.parametrize("query,field", [
    ({"from": "2026-11-18", "to": "2026-11-17"}, "to"),
    ({"from": "2025-01-01", "to": "2026-11-18"}, "to"),
    ({**DAY, "group_by": "planet"}, "group_by"),
    ({**DAY, "group_by": "city", "store_id": "SH-JINGAN"}, "group_by"),
    ({"from": "yesterday", "to": "2026-11-18"}, "from"),
    ({**DAY, "store_id": "NOWHERE"}, "store_id"),
])
def test_bad_queries_are_refused_naming_the_field(services, ctx, query, field):
    status, body = report(query, ctx)
    assert status == 400 and body["error"]["field"] == field, body


def test_months_group_the_days_and_the_digest_is_stored_once(services, ctx, clock, publisher, small_chain):
    deliver(ctx, publisher.events)
    _, body = report({"from": "2026-11-01", "to": "2026-11-30", "group_by": "month"}, ctx)
    assert by_group(body)["2026-11"]["orders"] == 4
    # Cohort retention: November's three new members all bought in November; in December only A comes back.
    seen = set(e.event_id for e in publisher.events)
    clock.advance(days=20)
    buy(services, clock, small_chain[0], "K-A3", "60.00")
    deliver(ctx, [e for e in publisher.events if e.event_id not in seen])
    _, body = report({"from": "2026-11-01", "to": "2026-12-31", "group_by": "month"}, ctx)
    [november, december] = body["cohorts"]
    assert (november["month"], november["members"], november["buyers"]) == ("2026-11", 3, {"2026-11": 3, "2026-12": 1})
    assert november["retention"] == {"2026-11": "1.0000", "2026-12": "0.3333"}
    assert (december["members"], december["buyers"]) == (0, {})
    clock.current = datetime(2026, 11, 30, 22, 0, tzinfo=timezone.utc)  # 06:00 on 1 December in Shanghai
    first = kpi_digest.handler({"detail-type": "Scheduled Event", "detail": {}}, ctx)
    again = kpi_digest.handler({"detail-type": "Scheduled Event", "detail": {}}, ctx)
    assert (first["month"], first["previous_month"], first["created"], again["created"]) == ("2026-11", "2026-10", True, False)
    orders = next(f for f in first["figures"] if f["figure"] == "orders")
    assert (orders["this_month"], orders["last_month"], orders["change"]) == ("4", "0", "4")
    assert [e.detail["month"] for e in publisher.events if e.detail_type == "MonthlyDigestReady.v1"] == ["2026-11"]


def settle(services) -> None:
    """What the settlement's stream consumer would have counted: every ledger entry, once."""
    items, start = [], None
    while True:
        page = services.table.scan(**({"ExclusiveStartKey": start} if start else {}))
        items += [i for i in page["Items"] if i.get("entity") == "ledger_entry"]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    for item in items:
        services.settlement_counting.count(fact_of_item(plain(item)))


def test_the_reconciliation_proves_clean_books_and_reports_an_entry_without_its_balance(
        services, ctx, clock, publisher, small_chain):
    deliver(ctx, publisher.events)
    settle(services)
    clock.current = clock.current + timedelta(days=1)
    clean = kpi_reconciliation.handler({"date": "2026-11-18"}, ctx)
    assert (clean["members_checked"], clean["drifts"], clean["complete"]) == (3, [], True)
    status, stored = call(kpis, ctx, "GET", "/v1/reports/reconciliation", query={"date": "2026-11-18"},
                          client=BACKOFFICE)
    assert status == 200 and stored["members_checked"] == 3

    a = small_chain[0]
    balance = services.table.get_item(Key={"PK": f"MEMBER#{a}", "SK": "POINTS"})["Item"]
    seq = int(balance["ledger_seq"]) + 1
    services.table.put_item(Item={  # a ledger entry written without its balance change
        "PK": f"MEMBER#{a}", "SK": f"LEDGER#{seq:012d}", "entity": "ledger_entry", "entry_id": "ent_injected",
        "seq": seq, "type": "adjustment", "points": 10, "available_change": 10, "pending_change": 0,
        "debt_change": 0, "reserved_change": 0, "balance_after": int(balance["available"]) + 10,
        "pending_after": int(balance["pending"]), "debt_after": int(balance["debt"]), "reserved_after": 0,
        "reference": {"kind": "adjustment", "id": "x"}, "reason": "injected", "member_id": a,
        "occurred_at": "2026-11-18T03:00:00Z", "recorded_at": "2026-11-18T03:00:00Z"})
    drifted = kpi_reconciliation.handler({"date": "2026-11-18"}, ctx)
    checks = {(d["subject"], d["check"]) for d in drifted["drifts"]}
    assert (a, "balance_ledger_seq") in checks and (a, "balance_available") in checks
    announced = [e.detail for e in publisher.events if e.detail_type == "ReconciliationDrift.v1"]
    assert {(d["subject"], d["check"]) for d in announced} >= {(a, "balance_ledger_seq"), (a, "balance_available")}
    status, body = call(kpis, ctx, "GET", "/v1/reports/reconciliation", query={"date": "2026-11-17"},
                        client=BACKOFFICE)
    assert (status, body["error"]["code"]) == (404, "RECONCILIATION_NOT_FOUND")
