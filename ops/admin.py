"""Operator commands: API keys, stores, and settlement.

Against a deployed stack: AWS credentials as usual and the table name variable of the environment
contract set to the stack's table.
Against the local run: add --local (reads the endpoints `make run` wrote).

    python -m ops.admin keys create --client-id pos-sh-xuhui --kind pos --stores SH-XUHUI
    python -m ops.admin keys create --client-id reporting --kind backoffice --all-stores
    python -m ops.admin keys list
    python -m ops.admin keys revoke <key_id>
    python -m ops.admin stores put --store-id NJ-XINJIEKOU --name 新街口店 --city 南京
    python -m ops.admin stores list
    python -m ops.admin settlement count --entry 'MEMBER#mbr_…' 'LEDGER#000000000012'

`settlement count` adds ledger entries to the settlement counters, each at most once however often it is
run: for entries the stream consumer gave up on (its log names them: entry_pk, entry_sk).
"""
from __future__ import annotations

import argparse
import os
import sys

from loyalty.kernel.identity import ALL_STORES, ClientKind, Scope
from loyalty.platform import environment as env
from loyalty.kernel.stores import Store


def _services(local: bool):
    if local:
        from local.endpoints import read_endpoints

        endpoints = read_endpoints()
        if endpoints is None:
            sys.exit("the local platform is not running: start it with `make run`")
        for name in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
                     "AWS_SECRET_ACCESS_KEY", env.TABLE_NAME):
            os.environ[name] = endpoints[name]
    table_name = os.environ.get(env.TABLE_NAME)
    if not table_name:
        sys.exit(f"set {env.TABLE_NAME} to the stack's table name (output of `cdk deploy`), or use --local")
    import boto3

    from loyalty.wiring import Services

    from infra.resources import SETTLEMENT_SHARDS  # the stack's shard count (cdk.json), as its functions get it

    return Services(table=boto3.resource("dynamodb").Table(table_name), settlement_shards=SETTLEMENT_SHARDS)


def _store_ids(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """--all-stores, or the stores named: `*` is not a store id (and unquoted the shell would replace
    it with the file names of the current folder)."""
    if args.all_stores:
        if args.kind != ClientKind.BACKOFFICE.value:
            parser.error(f"--all-stores is for back-office keys only (--kind {ClientKind.BACKOFFICE.value})")
        return [ALL_STORES]
    store_ids = [s.strip() for s in args.stores.split(",") if s.strip()]
    if any("*" in s for s in store_ids):
        parser.error("--stores takes store ids; for every store use --all-stores (back-office keys only)")
    if not store_ids:
        parser.error("--stores needs at least one store id")
    return store_ids


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="ops.admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", action="store_true", help="use the running local platform")
    area = parser.add_subparsers(dest="area", required=True)
    keys = area.add_parser("keys").add_subparsers(dest="command", required=True)
    create = keys.add_parser("create")
    create.add_argument("--client-id", required=True)
    create.add_argument("--kind", required=True, choices=[k.value for k in ClientKind])
    acts_for = create.add_mutually_exclusive_group(required=True)
    acts_for.add_argument("--stores", help="comma-separated store ids the client acts for")
    acts_for.add_argument("--all-stores", action="store_true", help="every store (back-office clients only)")
    create.add_argument("--scopes", help="comma-separated scopes (default: the kind's scopes)")
    create.add_argument("--description", default="")
    keys.add_parser("list")
    revoke = keys.add_parser("revoke")
    revoke.add_argument("key_id")
    stores = area.add_parser("stores").add_subparsers(dest="command", required=True)
    put = stores.add_parser("put")
    put.add_argument("--store-id", required=True)
    put.add_argument("--name", required=True)
    put.add_argument("--city", required=True)
    put.add_argument("--timezone", default="Asia/Shanghai")
    put.add_argument("--kind", default="store", choices=["store", "webshop", "app"])
    stores.add_parser("list")
    settlement = area.add_parser("settlement").add_subparsers(dest="command", required=True)
    recount = settlement.add_parser("count", help="add ledger entries to the settlement counters (once each)")
    recount.add_argument("--entry", nargs=2, action="append", required=True, metavar=("PK", "SK"),
                         help="a ledger entry's item key, e.g. 'MEMBER#mbr_…' 'LEDGER#000000000012'")
    args = parser.parse_args(argv)
    if args.area == "keys" and args.command == "create":
        store_ids = _store_ids(create, args)

    services = _services(args.local)
    if args.area == "keys" and args.command == "create":
        scopes = [Scope(s) for s in args.scopes.split(",")] if args.scopes else None
        api_key, record = services.api_key_service.create(
            args.client_id, ClientKind(args.kind), store_ids, scopes, args.description)
        print(f"key_id: {record.key_id}\napi_key: {api_key}\n(shown once; only its hash is stored)")
    elif args.area == "keys" and args.command == "list":
        for record in services.api_key_service.list():
            state = f"revoked {record.revoked_at:%Y-%m-%d}" if record.revoked_at else "active"
            print(f"{record.key_id:<16} {record.client_id:<20} {record.kind.value:<10} "
                  f"{','.join(sorted(record.store_ids)):<20} {state}")
    elif args.area == "keys" and args.command == "revoke":
        if not services.api_key_service.revoke(args.key_id):
            sys.exit(f"no active key {args.key_id}")
        print(f"revoked {args.key_id}")
    elif args.area == "stores" and args.command == "put":
        services.stores.put_store(Store(store_id=args.store_id, name=args.name, city=args.city,
                                        timezone=args.timezone, kind=args.kind))
        print(f"store {args.store_id} saved")
    elif args.area == "stores" and args.command == "list":
        for store in services.stores.list_stores():
            print(f"{store.store_id:<14} {store.kind:<8} {store.city:<6} {store.name}")
    elif args.area == "settlement" and args.command == "count":
        from loyalty.settlement.dynamo import DynamoLedgerEntries

        entries = DynamoLedgerEntries(services.table)
        missing = 0
        for pk, sk in args.entry:
            entry = entries.get((pk, sk))
            if entry is None:
                missing += 1
                print(f"{pk} {sk}: no such ledger entry")
                continue
            print(f"{pk} {sk}: {services.settlement_counting.count(entry).value.replace('_', ' ')}")
        if missing:
            sys.exit(1)


if __name__ == "__main__":
    main()
