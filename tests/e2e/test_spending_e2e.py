"""Spending points over HTTP against the local run, under contention: parallel redemptions, cancels and
voucher uses from several Lambda containers side by side, and the sweep that releases a points
reservation the till left alone.

The sweep's proof needs a reservation past its hold time: the module's first test makes one (with the
program's shortest hold, one minute) and the last test, after the others have run, waits for its hold
to end and fires the schedule the way EventBridge would (`POST /_local/schedules/PointsHoldsSchedule`)."""
from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

pytestmark = pytest.mark.e2e

RETRYABLE = {"CONCURRENT_UPDATE", "INTERNAL_ERROR", "THROTTLED"}
HOLDS_SCHEDULE = "PointsHoldsSchedule"
_tags = itertools.count()


def error_code(response) -> str | None:
    if response.status_code < 400:
        return None
    try:
        return response.json().get("error", {}).get("code")
    except ValueError:  # not the platform's answer (a gateway timeout): worth trying again
        return "INTERNAL_ERROR"


def send_like_a_pos(platform, method: str, path: str, *, client: str, json=None):
    """A POS retries what the platform says is worth retrying, with the very same body."""
    for _ in range(20):
        response = platform.call(method, path, client=client, json=json)
        if error_code(response) not in RETRYABLE:
            return response
    return response


def enroll(platform, phone: str) -> str:
    response = platform.call("POST", "/v1/members", json={
        "phone": phone, "store_id": "SH-JINGAN", "channel": "pos",
        "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}})
    assert response.status_code == 201, response.text
    return response.json()["member_id"]


def give_points(platform, member_id: str, points: int, adjustment_id: str) -> None:
    """The back office credits points earned at the Shanghai Jing'an store."""
    response = send_like_a_pos(platform, "POST", f"/v1/members/{member_id}/adjustments", client="backoffice", json={
        "adjustment_id": adjustment_id, "points": points, "reason": "opening balance", "store_id": "SH-JINGAN"})
    assert response.status_code == 201, response.text


def create_reward(platform, reward_id: str, **changes) -> dict:
    body = {"reward_id": reward_id, "name": {"zh": "保温杯", "en": "Travel mug"}, "kind": "physical_gift",
            "points_cost": 100, **changes}
    response = platform.call("POST", "/v1/rewards", client="backoffice", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def redeem(platform, member_id: str, redemption_id: str, reward_id: str, *, store_id: str = "HZ-XIHU",
           client: str = "pos-hz-xihu"):
    return send_like_a_pos(platform, "POST", f"/v1/members/{member_id}/redemptions", client=client, json={
        "redemption_id": redemption_id, "reward_id": reward_id, "store_id": store_id, "channel": "pos",
        "quantity": 1})


def points(platform, member_id: str) -> dict:
    response = platform.call("GET", f"/v1/members/{member_id}/points", client="webshop")
    assert response.status_code == 200, response.text
    return response.json()


def ledger(platform, member_id: str) -> list[dict]:
    seen, cursor = [], None
    while True:
        query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
        response = platform.call("GET", f"/v1/members/{member_id}/ledger{query}")
        assert response.status_code == 200, response.text
        page = response.json()
        seen += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return seen


def assert_ledger_explains(platform, member_id: str) -> list[dict]:
    """Every part of the balance is the sum of the ledger's changes to it."""
    balance, entries = points(platform, member_id), ledger(platform, member_id)
    assert sum(e["available_change"] for e in entries) == balance["available"]
    assert sum(e.get("reserved_change", 0) for e in entries) == balance["reserved"]
    assert sum(e["pending_change"] for e in entries) == balance["pending"]
    assert sum(e["debt_change"] for e in entries) == balance["debt"]
    assert sum(e["points"] for e in entries) == balance["available"] + balance["reserved"] + balance["pending"]
    return entries


def fire_holds_schedule(platform) -> dict:
    response = platform.call("POST", f"/_local/schedules/{HOLDS_SCHEDULE}", client=None)
    assert response.status_code == 200, response.text
    fired = response.json()
    assert fired["function"] == "points_holds" and "error" not in fired, fired
    return fired["result"]


def unique_phone() -> str:
    return f"137{(int(time.time() * 1000) + next(_tags) * 7919) % 100_000_000:08d}"


# -- a reservation the till leaves alone (made first, checked last) -------------------------------------
def program_rules(platform) -> dict:
    response = platform.call("GET", "/v1/program/rules", client="backoffice")
    assert response.status_code == 200, response.text
    return response.json()


def put_rules(platform, rules: dict) -> dict:
    response = platform.call("PUT", "/v1/program/rules", client="backoffice", json=rules)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture(scope="module")
def left_alone(platform):
    """A 200-point reservation of a member with 500 points, held for the program's shortest time (one
    minute). The rules go back as they were once it is made. Each container reads the rules afresh within
    a minute of a change: a reservation still made under the old hold time is voided and made again."""
    phone = unique_phone()
    member_id = enroll(platform, phone)
    give_points(platform, member_id, 500, f"SEED-HOLD-{phone}")
    original = program_rules(platform)
    changed = put_rules(platform, {**original, "points_payment_hold_minutes": 1})
    try:
        deadline = time.monotonic() + 90
        for attempt in itertools.count():
            payment_id = f"PAY-{phone}-{attempt}"
            response = send_like_a_pos(platform, "POST", f"/v1/members/{member_id}/points-payments",
                                       client="pos-sh-jingan", json={
                                           "payment_id": payment_id, "store_id": "SH-JINGAN",
                                           "order_id": f"ORDER-{phone}-{attempt}", "channel": "pos",
                                           "currency": "CNY", "order_total": "100.00", "points": 200})
            assert response.status_code == 201, response.text
            held = response.json()
            held_until = datetime.fromisoformat(held["held_until"])
            if held_until <= datetime.now(timezone.utc) + timedelta(minutes=2):
                break
            voided = send_like_a_pos(platform, "POST",
                                     f"/v1/members/{member_id}/points-payments/{payment_id}/void",
                                     client="pos-sh-jingan")
            assert voided.status_code == 200, voided.text
            assert time.monotonic() < deadline, "the one-minute hold never reached the points function"
            time.sleep(5)
    finally:
        put_rules(platform, {**original, "version": changed["version"]})
    assert held["status"] == "reserved" and held["cash_value"] == "2"
    assert held["balance"] == {"available": 300, "pending": 0, "debt": 0, "reserved": 200}
    return {"member_id": member_id, "payment_id": payment_id, "held_until": held_until}


def test_the_sweep_leaves_a_reservation_alone_while_its_hold_lasts(platform, left_alone):
    fire_holds_schedule(platform)
    if datetime.now(timezone.utc) >= left_alone["held_until"]:
        pytest.skip("the hold was over before the sweep ran")  # the last test covers what follows
    balance = points(platform, left_alone["member_id"])
    assert (balance["available"], balance["reserved"]) == (300, 200)


# -- parallel redemptions -----------------------------------------------------------------------------
def test_fifty_parallel_redemptions_of_a_thousand_points_succeed_exactly_ten_times(platform, phone):
    member_id = enroll(platform, phone)
    give_points(platform, member_id, 1000, f"SEED-{phone}")
    reward_id = f"mug-{phone}"
    create_reward(platform, reward_id, points_cost=100)

    samples: list[int] = []
    running = threading.Event()
    running.set()

    def sample_balance():  # a member app refreshing the balance while the tills redeem
        while running.is_set():
            samples.append(points(platform, member_id)["available"])

    sampler = threading.Thread(target=sample_balance, daemon=True)
    sampler.start()
    ids = [f"RD-{phone}-{n:02d}" for n in range(50)]
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            responses = dict(zip(ids, pool.map(lambda rid: redeem(platform, member_id, rid, reward_id), ids)))
    finally:
        running.clear()
        sampler.join(timeout=60)

    statuses = Counter(r.status_code for r in responses.values())
    assert statuses == {201: 10, 409: 40}, {rid: r.text for rid, r in responses.items() if r.status_code not in (201, 409)}
    redeemed = {rid: r.json() for rid, r in responses.items() if r.status_code == 201}
    refused = [r.json()["error"] for r in responses.values() if r.status_code == 409]
    assert {e["code"] for e in refused} == {"INSUFFICIENT_POINTS"}
    assert {e["details"]["available"] for e in refused} == {0}  # only refused once all 1,000 were spent
    # Each success saw the balance the one before it left: 900, 800, ... 0, each exactly once.
    assert sorted(r["balance"]["available"] for r in redeemed.values()) == list(range(0, 1000, 100))

    assert samples and min(samples) >= 0
    assert all(s % 100 == 0 and s <= 1000 for s in samples)  # never a half-written redemption
    final = points(platform, member_id)
    assert (final["available"], final["reserved"], final["debt"]) == (0, 0, 0)

    entries = assert_ledger_explains(platform, member_id)
    redemptions = [e for e in entries if e["type"] == "redemption"]
    assert sorted(e["reference"]["id"] for e in redemptions) == sorted(redeemed)
    assert all(e["available_change"] == -100 and e["store_id"] == "HZ-XIHU" for e in redemptions)
    assert all(e["origins"] == {"SH-JINGAN": -100} for e in redemptions)  # earned in Shanghai, spent in Hangzhou

    first = next(iter(redeemed))
    again = redeem(platform, member_id, first, reward_id)
    assert again.status_code == 200 and again.json()["redemption_id"] == first
    assert points(platform, member_id)["available"] == 0


# -- parallel cancels -----------------------------------------------------------------------------------
def test_twenty_parallel_cancels_give_the_points_back_once(platform, phone):
    member_id = enroll(platform, phone)
    give_points(platform, member_id, 300, f"SEED-{phone}")
    reward_id = f"wrap-{phone}"
    create_reward(platform, reward_id, kind="service", service="gift_wrapping", points_cost=100, stock=5,
                  name={"zh": "礼品包装", "en": "Gift wrap"})
    redemption_id = f"RD-{phone}"
    redeemed = redeem(platform, member_id, redemption_id, reward_id)
    assert redeemed.status_code == 201, redeemed.text
    assert redeemed.json()["balance"]["available"] == 200
    assert platform.call("GET", f"/v1/rewards/{reward_id}").json()["stock_left"] == 4

    path = f"/v1/members/{member_id}/redemptions/{redemption_id}/cancel"
    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(lambda _: send_like_a_pos(platform, "POST", path, client="pos-hz-xihu"), range(20)))

    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses if r.status_code != 200]
    answers = [r.json() for r in responses]
    assert {a["status"] for a in answers} == {"cancelled"}
    assert {a["points_returned"] for a in answers} == {100}
    assert {a["balance"]["available"] for a in answers} == {300}  # every answer, first or replay, after the one
    assert points(platform, member_id)["available"] == 300

    entries = assert_ledger_explains(platform, member_id)
    cancels = [e for e in entries if e["type"] == "redemption_cancel"]
    assert len(cancels) == 1
    assert cancels[0]["reference"]["id"] == redemption_id and cancels[0]["available_change"] == 100
    assert cancels[0]["origins"] == {"SH-JINGAN": 100}
    reward = platform.call("GET", f"/v1/rewards/{reward_id}").json()
    assert reward["stock_left"] == 5  # the unit came back once too


# -- parallel voucher uses ------------------------------------------------------------------------------
def test_twenty_parallel_uses_of_one_voucher_on_different_orders_succeed_once(platform, phone):
    member_id = enroll(platform, phone)
    give_points(platform, member_id, 100, f"SEED-{phone}")
    reward_id = f"coupon-{phone}"
    create_reward(platform, reward_id, kind="voucher", name={"zh": "满100减20券", "en": "20 off 100"},
                  voucher={"discount": "amount_off", "amount_off": "20.00", "min_spend": "100.00", "valid_days": 30})
    redeemed = redeem(platform, member_id, f"RD-{phone}", reward_id)
    assert redeemed.status_code == 201, redeemed.text
    [voucher] = redeemed.json()["vouchers"]
    code = voucher["code"]

    orders = [f"ORDER-{phone}-{n:02d}" for n in range(20)]

    def use(order_id: str):
        return send_like_a_pos(platform, "POST", f"/v1/vouchers/{code}/use", client="pos-sh-jingan", json={
            "member_id": member_id, "store_id": "SH-JINGAN", "order_id": order_id, "order_total": "150.00"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = dict(zip(orders, pool.map(use, orders)))

    statuses = Counter(r.status_code for r in responses.values())
    assert statuses == {201: 1, 409: 19}, {o: r.text for o, r in responses.items()}
    [(winner, used)] = [(o, r.json()) for o, r in responses.items() if r.status_code == 201]
    assert used["discount"] == "20.00" and used["voucher"]["use"]["order_id"] == winner
    refused = [r.json()["error"] for r in responses.values() if r.status_code == 409]
    assert {e["code"] for e in refused} == {"VOUCHER_ALREADY_USED"}
    assert {e["details"]["order_id"] for e in refused} == {winner}

    wallet = platform.call("GET", f"/v1/members/{member_id}/vouchers", client="pos-sh-jingan").json()
    [stored] = wallet["items"]
    assert stored["code"] == code and stored["status"] == "used" and stored["use"]["order_id"] == winner
    assert use(winner).status_code == 200  # the winning till asking again gets its answer


# -- the sweep (last: the hold made first has had time to end) ------------------------------------------
def test_a_reservation_left_alone_is_released_by_the_sweep_once(platform, left_alone):
    member_id, payment_id = left_alone["member_id"], left_alone["payment_id"]
    wait = (left_alone["held_until"] - datetime.now(timezone.utc)).total_seconds() + 1
    if wait > 0:
        time.sleep(wait)

    run = fire_holds_schedule(platform)
    assert run["failed"] == 0 and run["complete"] is True
    balance = points(platform, member_id)
    assert (balance["available"], balance["reserved"]) == (500, 0)
    fire_holds_schedule(platform)  # a second run releases nothing twice
    assert points(platform, member_id)["available"] == 500

    entries = assert_ledger_explains(platform, member_id)
    releases = [e for e in entries if e["type"] == "release" and e["reference"]["id"] == payment_id]
    assert len(releases) == 1
    assert (releases[0]["available_change"], releases[0]["reserved_change"]) == (200, -200)
    assert "hold time over" in releases[0]["reason"]

    capture = platform.call("POST", f"/v1/members/{member_id}/points-payments/{payment_id}/capture")
    assert capture.status_code == 409 and capture.json()["error"]["code"] == "PAYMENT_ALREADY_VOIDED"
