"""A storm of purchases against the local run: how many purchases a second it answers, and whether any
client loses its connection.

    .venv/bin/python -m bench.storm [--seconds 20] [--count N]    # or: python -m bench.run --storm

Starts a local run in memory (`python -m local.run --in-memory`, on 127.0.0.1 and a free port, as the
end-to-end tests start it), enrolls 100 members with distinct phones, then 24 client threads post
purchases (unique order ids, each for one of the 100 members, with the demo POS key of SH-JINGAN) until
the time or the count is up, and stops the run. Prints purchases per second, median and 95th percentile
latency, status counts and connection errors. Each thread keeps one connection (a POS keeps its
connection too); a short warm-up first starts the functions' containers and is not counted."""
from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from infra.resources import AUTHORIZER_CACHE_SECONDS
from tests.e2e.local_run import LocalRun

STORE, CLIENT = "SH-JINGAN", "pos-sh-jingan"
REQUEST_TIMEOUT = 60  # seconds; a request that takes longer counts as a connection error


def enrollment(phone: str) -> dict:
    return {"phone": phone, "store_id": STORE, "channel": "pos",
            "consents": {"data_processing": {"granted": True, "policy_version": "2026-01"}}}


def purchase_body(order_id: str, n: int) -> dict:
    amount = f"{10 + n % 490}.{n % 100:02d}"
    occurred = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    return {"order_id": order_id, "store_id": STORE, "channel": "pos", "occurred_at": occurred, "currency": "CNY",
            "payment_method": "wechat_pay", "total": amount,
            "lines": [{"sku": f"SKU-{n % 50:04d}", "category": "grocery", "quantity": 1, "unit_price": amount,
                       "amount": amount}]}


class Client(threading.local):
    """One keep-alive connection per thread."""

    @property
    def session(self) -> requests.Session:
        if not hasattr(self, "_session"):
            self._session = requests.Session()
        return self._session


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the clients send (default 20)")
    parser.add_argument("--count", type=int, default=None, help="stop after this many purchases, if sooner")
    parser.add_argument("--threads", type=int, default=24)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--warm-up", type=int, default=48, help="purchases sent first, not counted")
    parser.add_argument("--authorizer-cache-seconds", type=int, default=AUTHORIZER_CACHE_SECONDS,
                        help=f"as the stack caches authorizer answers (default {AUTHORIZER_CACHE_SECONDS}; 0: every "
                             f"request runs the authorizer)")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.seconds > 600:
        parser.error("--seconds must be between 0 and 600")

    base = Path(tempfile.mkdtemp(prefix="loyalty-storm-"))
    run = LocalRun(base / "data", base / "run.log", "--in-memory",
                   "--authorizer-cache-seconds", str(args.authorizer_cache_seconds))
    print(f"starting the local run (in memory; its log: {base / 'run.log'})...", flush=True)
    try:
        platform = run.start(timeout=180)
        assert platform.base_url.startswith("http://127.0.0.1:"), platform.base_url
        headers = {"X-Api-Key": platform.key(CLIENT)}
        client = Client()

        def post(path: str, body: dict) -> requests.Response:
            return client.session.post(platform.base_url + path, json=body, headers=headers, timeout=REQUEST_TIMEOUT)

        with ThreadPoolExecutor(args.threads) as pool:
            enrolled = list(pool.map(lambda i: post("/v1/members", enrollment(f"1390000{i:04d}")), range(args.members)))
        refused = [r for r in enrolled if r.status_code != 201]
        if refused:
            raise SystemExit(f"{len(refused)} enrollments failed, first: {refused[0].status_code} {refused[0].text}")
        members = [r.json()["member_id"] for r in enrolled]
        print(f"enrolled {len(members)} members", flush=True)

        started = time.monotonic()
        with ThreadPoolExecutor(args.threads) as pool:
            warm = list(pool.map(lambda n: post(f"/v1/members/{members[n % len(members)]}/purchases",
                                                purchase_body(f"WARM-{n:05d}", n)).status_code,
                                 range(args.warm_up)))
        print(f"warm-up: {len(warm)} purchases in {time.monotonic() - started:.1f} s, statuses "
              f"{dict(Counter(warm))}", flush=True)

        numbers = itertools.count()
        lock = threading.Lock()
        latencies: list[float] = []
        statuses: Counter = Counter()
        codes: Counter = Counter()
        errors: list[str] = []
        start = time.monotonic()
        deadline = start + args.seconds

        def send() -> None:
            while time.monotonic() < deadline:
                with lock:
                    n = next(numbers)
                if args.count is not None and n >= args.count:
                    return
                body = purchase_body(f"STORM-{n:07d}", n)
                sent = time.monotonic()
                try:
                    response = post(f"/v1/members/{members[n % len(members)]}/purchases", body)
                except requests.RequestException as error:  # refused, reset or timed out
                    with lock:
                        errors.append(repr(error))
                    continue
                took = time.monotonic() - sent
                code = None
                if response.status_code != 201:
                    try:
                        code = response.json().get("error", {}).get("code")
                    except ValueError:
                        code = "not JSON"
                with lock:
                    latencies.append(took)
                    statuses[response.status_code] += 1
                    if code:
                        codes[code] += 1

        print(f"storm: {args.threads} threads for {args.seconds:g} s"
              f"{f' or {args.count} purchases' if args.count else ''}...", flush=True)
        threads = [threading.Thread(target=send, name=f"client-{i}", daemon=True) for i in range(args.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()) + REQUEST_TIMEOUT + 30)
        elapsed = time.monotonic() - start
        stuck = sum(thread.is_alive() for thread in threads)

        created = statuses.get(201, 0)
        print()
        print(f"purchases answered 201: {created} in {elapsed:.1f} s = {created / elapsed:.1f} purchases/s "
              f"({args.threads} client threads, {len(members)} members, authorizer cache "
              f"{args.authorizer_cache_seconds} s)")
        if latencies:
            print(f"latency: p50 {statistics.median(latencies) * 1000:.0f} ms, "
                  f"p95 {percentile(latencies, 95) * 1000:.0f} ms, "
                  f"max {max(latencies) * 1000:.0f} ms")
        print(f"statuses: {dict(sorted(statuses.items()))}" + (f", error codes: {dict(codes)}" if codes else ""))
        print(f"connection errors: {len(errors)}" + (f", first: {errors[:3]}" if errors else ""))
        if stuck:
            print(f"client threads still waiting when the run was stopped: {stuck}")
    finally:
        run.stop()
        log = base / "run.log"
        if log.exists():
            text = log.read_text(errors="replace")
            print(f"the run's log: {text.count('Traceback')} tracebacks ({log})")


if __name__ == "__main__":
    main()
