"""`make run`: the platform on 127.0.0.1 over DynamoDB Local and moto's server.

Starts the embedded services, creates the table, queues and bus from infra/resources.py, seeds demo
stores and keys, then serves the API through the same authorizer and handlers as the stack, with the
SQS consumers, the table's stream consumers and EventBridge schedules running as they do on AWS.
Ctrl-C stops everything.

The table (members, points, feedback, keys...) is kept in the data folder (.local-data/, or the
folder $LOYALTY_LOCAL_DATA names) across restarts, with the position of the stream consumers;
`make reset` empties it. moto's server keeps queues and the bus in memory: they are made anew at
each start (a message still queued when the run stops is gone). --in-memory keeps nothing."""
from __future__ import annotations

import argparse
import ast
import json
import os
import signal
import sys
import threading
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

from infra.resources import (
    AUTHORIZER_CACHE_SECONDS, CORS, env, EVENT_BUS_NAME, FUNCTIONS, QUEUES, SCHEDULES, SETTLEMENT_SHARDS, STREAM_CONSUMERS,
    TABLE,
)
from local.demo import DEMO_CLIENTS, DEMO_STORES, demo_key
from local.embedded import ROOT, aws_environment, free_port, start_dynamodb_local, start_moto_server
from local.endpoints import data_dir as default_data_dir
from local.endpoints import endpoints_file, running_platform
from local.gateway import LocalGateway, serve
from local.lambdas import FunctionError, LambdaRuntime
from local.pollers import EventTap, QueueConsumer, Scheduler, StreamCheckpoint, StreamConsumer
from local.provision import create_bus, create_queues, create_table, subscribe_queues


def infra_constant(name: str, module: Path = ROOT / "infra/function.py"):
    """A constant of an infra module, read from its source: importing infra/function.py loads the CDK
    and starts its Node.js runtime, in this process and in every container, which re-imports this module."""
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{name} is not a constant of {module}")


METRICS_NAMESPACE = infra_constant("METRICS_NAMESPACE")


class AlreadyRunning(RuntimeError):
    pass


class LocalPlatform:
    def __init__(self, port: int, dynamodb_port: int, moto_port: int, containers: int = 4,
                 authorizer_cache_seconds: int = AUTHORIZER_CACHE_SECONDS, country_code: str = "86",
                 data_dir: Path | None = None, in_memory: bool = False):
        self.port, self.dynamodb_port, self.moto_port = port, dynamodb_port, moto_port
        self.containers = containers
        self.authorizer_cache_seconds = authorizer_cache_seconds
        self.country_code = country_code
        self.data_dir = data_dir or default_data_dir()
        self.in_memory = in_memory
        self.endpoints_file = endpoints_file(self.data_dir)
        self.export_folder = self.data_dir / "exports"  # members' data exports (a bucket on AWS)
        self.base_url = f"http://127.0.0.1:{port}"
        self._stop = threading.Event()
        self._services = []
        self.runtime: LambdaRuntime | None = None
        self.consumers: list[QueueConsumer] = []
        self.stream_consumers: list[StreamConsumer] = []
        self.scheduler: Scheduler | None = None
        self.tap: EventTap | None = None
        self.server = None

    def start(self) -> None:
        running = running_platform(self.data_dir)
        if running:  # two runs over one database would corrupt it
            raise AlreadyRunning(f"a local platform is already running at {running} on {self.data_dir}")
        logs = self.data_dir / "logs"
        db_path = None if self.in_memory else self.data_dir / "dynamodb"
        self._services.append(start_dynamodb_local(self.dynamodb_port, logs, db_path))
        self._services.append(start_moto_server(self.moto_port, logs))
        services = aws_environment(self._services[0].endpoint, self._services[1].endpoint)
        os.environ.update(services)

        create_table(boto3.client("dynamodb"))  # kept from the last run, unless it is the first or --in-memory
        sqs, events = boto3.client("sqs"), boto3.client("events")
        queue_urls = create_queues(sqs)  # moto's server is in memory: queues and bus are new at every start
        create_bus(events)
        subscribe_queues(events, sqs, queue_urls)

        def function_environment(spec) -> dict[str, str]:  # as the stack gives each function its own
            return {
                **services,
                **env.function_environment(table_name=TABLE.name, event_bus_name=EVENT_BUS_NAME,
                                           default_country_code=self.country_code, queue_urls=queue_urls,
                                           sends_to=spec.sends_to,
                                           cors_allow_origins=CORS.allow_origins if spec.routes else (),
                                           settlement_shards=SETTLEMENT_SHARDS if spec.settlement_counters else None,
                                           export_folder=str(self.export_folder) if spec.member_exports else None),
                **env.powertools_environment(service_name=spec.name, metrics_namespace=METRICS_NAMESPACE,
                                             log_level=os.environ.get(env.LOG_LEVEL, "INFO"), tracing=False),
            }

        os.environ.update(env.function_environment(table_name=TABLE.name, event_bus_name=EVENT_BUS_NAME,
                                                   default_country_code=self.country_code, queue_urls=queue_urls,
                                                   sends_to=()))
        self._seed()

        self.runtime = LambdaRuntime({spec.name: function_environment(spec) for spec in FUNCTIONS}, self.containers)
        gateway = LocalGateway(self.runtime, self.authorizer_cache_seconds, self._local_routes())
        self.server = serve(gateway, "127.0.0.1", self.port)
        threading.Thread(target=self.server.serve_forever, name="http", daemon=True).start()

        for queue in QUEUES:
            consumer = QueueConsumer(sqs, self.runtime, queue, queue_urls[queue.logical_id], self._stop)
            consumer.start()
            self.consumers.append(consumer)
        # The table's stream is DynamoDB Local's (AWS_ENDPOINT_URL would send this client to moto).
        streams = boto3.client("dynamodbstreams", endpoint_url=self._services[0].endpoint)
        for spec in STREAM_CONSUMERS:
            checkpoint = None if self.in_memory else StreamCheckpoint(self.data_dir / "streams" / f"{spec.logical_id}.json")
            stream_consumer = StreamConsumer(streams, boto3.client("dynamodb"), self.runtime, spec, self._stop,
                                             checkpoint=checkpoint)
            stream_consumer.start()
            self.stream_consumers.append(stream_consumer)
        self.scheduler = Scheduler(self.runtime, self._stop)
        self.scheduler.start()
        self.tap = EventTap(events, sqs, self._stop)
        self.tap.start()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.endpoints_file.write_text(json.dumps({
            "base_url": self.base_url, **services, env.TABLE_NAME: TABLE.name, "queues": queue_urls,
        }, indent=2))

    def _seed(self) -> None:
        """Demo stores and keys, when missing: a kept table already has them, maybe changed on purpose
        (a store renamed, a demo key revoked), and keeps them as they are."""
        from loyalty.wiring import Services

        services = Services(table=boto3.resource("dynamodb").Table(TABLE.name))
        for store in DEMO_STORES:
            if services.stores.get_store(store.store_id) is None:
                services.stores.put_store(store)
        for client_id, kind, stores, key_id, secret in DEMO_CLIENTS:
            try:
                services.api_key_service.create(client_id, kind, stores, description="demo key (local run only)",
                                                key_id=key_id, secret=secret)
            except ClientError as error:  # the key id exists: created by an earlier run
                if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise

    def _local_routes(self):
        def health(_request, _body):
            return 200, {"status": "ok"}

        def openapi(_request, _body):
            return 200, (ROOT / "docs/openapi.json").read_text()

        def invoke(request, body):
            function = request["path"].rsplit("/", 1)[-1]
            if function not in {f.name for f in FUNCTIONS}:
                return 404, {"error": {"code": "NO_SUCH_FUNCTION", "message": function}}
            try:
                return 200, {"result": self.runtime.invoke(function, json.loads(body or b"{}"))}
            except FunctionError as error:
                return 200, {"error": {"errorType": error.error_type, "errorMessage": error.message}}

        def fire_schedule(request, _body):
            logical_id = request["path"].rsplit("/", 1)[-1]
            spec = next((s for s in SCHEDULES if s.logical_id == logical_id), None)
            if spec is None:
                return 404, {"error": {"code": "NO_SUCH_SCHEDULE", "message": logical_id}}
            return 200, self.scheduler.fire(spec)

        def recent_events(_request, _body):
            return 200, {"items": list(self.tap.recent)}

        return {
            ("GET", "/_local/health"): health,
            ("GET", "/openapi.json"): openapi,
            ("POST", "/_local/invoke/*"): invoke,
            ("POST", "/_local/schedules/*"): fire_schedule,
            ("GET", "/_local/events"): recent_events,
        }

    def stop(self) -> None:
        self._stop.set()
        try:
            if self.server is not None:
                self.server.shutdown()
            for poller in [*self.consumers, *self.stream_consumers, self.scheduler, self.tap]:
                if poller is not None and poller.is_alive():
                    poller.join(timeout=5)  # each wakes within a second or so; then the services can go
            if self.runtime is not None:
                self.runtime.shutdown()
        finally:  # whatever happened above, no DynamoDB Local or moto server outlives the run
            for service in reversed(self._services):
                service.stop()
            if self.server is not None:  # written once started
                self.endpoints_file.unlink(missing_ok=True)


def banner(platform: LocalPlatform) -> str:
    pos_key = demo_key("pos-sh-jingan")
    lines = [
        "",
        f"Loyalty platform running at {platform.base_url}   (OpenAPI: {platform.base_url}/openapi.json)",
        f"  DynamoDB Local :{platform.dynamodb_port}   moto server :{platform.moto_port}   logs: {_shown(platform.data_dir / 'logs')}/",
        ("  Data is kept in memory only: it is gone when the run stops." if platform.in_memory else
         f"  Data is kept in {_shown(platform.data_dir / 'dynamodb')}/ across restarts; `make reset` starts empty."),
        "",
        "Demo API keys (local run only; send as X-Api-Key):",
    ]
    for client_id, kind, stores, _key_id, _secret in DEMO_CLIENTS:
        lines.append(f"  {client_id:<15} {kind.value:<10} {','.join(stores):<10} {demo_key(client_id)}")
    lines += [
        "",
        "Enroll a member at the Shanghai Jing'an store:",
        f"  curl -s -X POST {platform.base_url}/v1/members -H 'X-Api-Key: {pos_key}' -H 'Content-Type: application/json' \\",
        """    -d '{"phone":"13812345678","name":"李娜","store_id":"SH-JINGAN","channel":"pos","consents":{"data_processing":{"granted":true,"policy_version":"2026-01"}}}'""",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--dynamodb-port", type=int, default=int(os.environ.get("DYNAMODB_PORT", "0")) or None)
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "0")) or None)
    parser.add_argument("--containers", type=int, default=4,
                        help="warm Lambda containers of each function running side by side")
    parser.add_argument("--authorizer-cache-seconds", type=int, default=AUTHORIZER_CACHE_SECONDS)
    parser.add_argument("--in-memory", action="store_true", help="keep no data: the table is gone when the run stops")
    args = parser.parse_args(argv)

    # The data folder comes from LOYALTY_LOCAL_DATA (default .local-data/), which `ops.admin --local`,
    # `make invoke` and `make reset` read too.
    platform = LocalPlatform(args.port, args.dynamodb_port or free_port(), args.moto_port or free_port(),
                             args.containers, args.authorizer_cache_seconds, in_memory=args.in_memory)
    running = running_platform(platform.data_dir)
    if running:
        sys.exit(f"a local platform is already running at {running} on {platform.data_dir}: stop it first, "
                 f"or set LOYALTY_LOCAL_DATA to another folder for this one")
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        platform.start()
        print(banner(platform), flush=True)
        stopped.wait()
    finally:
        print("stopping...", flush=True)
        platform.stop()


if __name__ == "__main__":
    main()
