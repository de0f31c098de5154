"""GET /v1/reports/feedback: counts, average rating, NPS, resolved on time, per store, by local day."""
from __future__ import annotations

import pytest

from tests.component.feedback.conftest import message, process, staff
from tests.conftest import POS_SH

REPORT = "/v1/reports/feedback"
MANAGER_SH = {"client_id": "crm-sh", "kind": "backoffice", "scopes": "feedback:manage reports:read",
              "store_ids": "SH-JINGAN SH-XUHUI"}


def resolve(feedback_id: str, note: str) -> None:
    status, _ = staff("POST", "/v1/feedback/{feedback_id}/resolve", path_params={"feedback_id": feedback_id},
                      body={"reply": note})
    assert status == 200


@pytest.fixture
def november_18(services, rewarder, clock):
    """A day at two stores (clock starts 2026-11-18 10:00 in Shanghai), and one item just after midnight."""
    sh = dict(store_id="SH-JINGAN", client_id="pos-sh-jingan")
    hz = dict(store_id="HZ-XIHU", client_id="pos-hz-xihu")
    items = {
        "a": message(**sh, received_at="2026-11-18T01:00:00Z", kind="complaint", rating=1, text="酸奶没过期就变质了，孩子喝了拉肚子"),
        "b": message(**sh, received_at="2026-11-18T01:30:00Z", kind="praise", rating=5, nps=10,
                     text="导购小王服务很热情"),
        "c": message(**sh, received_at="2026-11-18T01:40:00Z", kind="survey", rating=4, nps=9, text="配送很快"),
        "d": message(**sh, received_at="2026-11-18T01:50:00Z", kind="survey", rating=3, nps=6, text="价格太贵"),
        "e": message(**sh, received_at="2026-11-18T01:55:00Z", kind="survey", rating=None, nps=8, text=None),
        "g": message(**hz, received_at="2026-11-18T01:00:00Z", kind="complaint", rating=2, text="导购态度差，还推搡我"),
        "h": message(**hz, received_at="2026-11-18T01:10:00Z", kind="complaint", rating=1, text="停车场地面太滑，我摔倒了"),
    }
    process(*items.values())
    clock.advance(hours=1)  # 03:00Z
    resolve(items["a"]["feedback_id"], "已为会员退款并检查同批次酸奶")  # due 05:00Z: on time
    clock.advance(hours=3)  # 06:00Z
    resolve(items["h"]["feedback_id"], "停车场已安排保洁")  # due 05:10Z: late
    clock.advance(hours=11)  # 17:00Z = 01:00 on 19 November in Shanghai
    items["f"] = message(**sh, received_at="2026-11-18T16:30:00Z", kind="suggestion", rating=None,
                         text="希望增加自助收银机")
    process(items["f"])
    return items


def by_store(report: dict) -> dict[str, dict]:
    return {s["store_id"]: s for s in report["stores"]}


def test_the_report_counts_rates_and_times_a_local_day(services, november_18):
    status, report = staff("GET", REPORT, query={"from": "2026-11-18", "to": "2026-11-18"})

    assert status == 200
    totals = report["totals"]
    assert totals["count"] == 7  # f arrived after midnight, Shanghai time
    assert totals["by_category"] == {"product_quality": 1, "service_attitude": 2, "pricing_promotions": 1,
                                     "delivery_logistics": 1, "store_environment": 1, "membership_points": 0,
                                     "other": 1}
    assert totals["by_status"] == {"new": 5, "acknowledged": 0, "assigned": 0, "in_progress": 0, "reopened": 0,
                                   "resolved": 2}
    assert totals["by_urgency"] == {"urgent": 3, "high": 0, "normal": 4}
    assert (totals["average_rating"], totals["ratings"]) == (2.67, 6)
    assert totals["nps"] == {"responses": 4, "promoters": 2, "passives": 1, "detractors": 1, "score": 25.0}
    assert totals["resolution"] == {"resolved_on_time": 1, "resolved_late": 1, "open_overdue": 1,
                                    "open_not_due": 4, "on_time_pct": 33.3}

    stores = by_store(report)
    assert set(stores) == {"SH-JINGAN", "SH-XUHUI", "HZ-XIHU", "CD-CHUNXI", "WEB", "APP"}
    sh, hz = stores["SH-JINGAN"], stores["HZ-XIHU"]
    assert (sh["count"], sh["average_rating"], sh["nps"]["score"], sh["resolution"]["on_time_pct"]) == (
        5, 3.25, 25.0, 100.0)
    assert (hz["count"], hz["average_rating"], hz["nps"]["score"], hz["resolution"]["on_time_pct"]) == (
        2, 1.5, None, 0.0)
    assert stores["CD-CHUNXI"]["count"] == 0 and stores["CD-CHUNXI"]["average_rating"] is None


def test_one_store_and_the_next_day(services, november_18):
    status, report = staff("GET", REPORT, query={"from": "2026-11-19", "to": "2026-11-19", "store_id": "SH-JINGAN"})

    assert status == 200
    assert report["store_id"] == "SH-JINGAN"
    assert [s["store_id"] for s in report["stores"]] == ["SH-JINGAN"]
    assert report["totals"]["count"] == 1
    assert report["totals"]["by_category"]["service_attitude"] == 1  # 自助收银机 mentions the till


def test_a_manager_reports_on_their_stores_only(services, november_18):
    _, report = staff("GET", REPORT, query={"from": "2026-11-18", "to": "2026-11-18"}, client=MANAGER_SH)
    assert [s["store_id"] for s in report["stores"]] == ["SH-JINGAN", "SH-XUHUI"]
    assert report["totals"]["count"] == 5

    status, answer = staff("GET", REPORT, query={"from": "2026-11-18", "to": "2026-11-18", "store_id": "HZ-XIHU"},
                           client=MANAGER_SH)
    assert (status, answer["error"]["code"]) == (403, "STORE_NOT_ALLOWED")


@pytest.mark.parametrize("query, status, field", [
    ({"from": "2026-11-18", "to": "2026-11-10"}, 400, "to"),
    ({"from": "2026-01-01", "to": "2026-12-31"}, 400, "to"),
    ({"from": "2026-11-31", "to": "2026-12-01"}, 400, "from"),
    ({"to": "2026-12-01"}, 400, "from"),
    ({"from": "2026-11-01", "to": "2026-11-30", "store_id": "BJ-NOWHERE"}, 400, "store_id"),
    ({"from": "9999-12-31", "to": "9999-12-31"}, 400, "to"),  # its day has no end a datetime can hold
    ({"from": "0001-01-01", "to": "0001-01-02"}, 400, "from"),  # its start in UTC+8 is before year 1 in UTC
])
def test_report_parameters_are_checked(services, query, status, field):
    answer_status, answer = staff("GET", REPORT, query=query)

    assert (answer_status, answer["error"]["field"]) == (status, field)


def test_a_till_cannot_read_reports(services):
    status, answer = staff("GET", REPORT, query={"from": "2026-11-18", "to": "2026-11-18"}, client=POS_SH)

    assert (status, answer["error"]["code"]) == (403, "MISSING_SCOPE")
