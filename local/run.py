"""`make run`: the platform on 127.0.0.1 over DynamoDB Local and moto's server.

Starts the embedded services, creates the table, queues and bus from infra/resources.py, seeds demo
stores and keys, then serves the API through the same authorizer and handlers as the stack, with the
SQS consumers, the table's stream consumers and EventBridge schedules running as they do on AWS.
Ctrl-C stops everything."""
from __future__ import annotations

import argparse
import json
import os
import signal
import threading

import boto3

from infra.function import METRICS_NAMESPACE
from infra.resources import AUTHORIZER_CACHE_SECONDS, CORS, env, EVENT_BUS_NAME, FUNCTIONS, QUEUES, SCHEDULES, STREAM_CONSUMERS, TABLE
from local.demo import DEMO_CLIENTS, DEMO_STORES, demo_key
from local.embedded import ROOT, aws_environment, free_port, start_dynamodb_local, start_moto_server
from local.gateway import LocalGateway, serve
from local.lambdas import FunctionError, LambdaRuntime
from local.pollers import EventTap, QueueConsumer, Scheduler, StreamConsumer
from local.provision import create_bus, create_queues, create_table

DATA_DIR = ROOT / ".local-data"
ENDPOINTS_FILE = DATA_DIR / "endpoints.json"


class LocalPlatform:
    def __init__(self, port: int, dynamodb_port: int, moto_port: int, containers: int = 4,
                 authorizer_cache_seconds: int = AUTHORIZER_CACHE_SECONDS, country_code: str = "86"):
        self.port, self.dynamodb_port, self.moto_port = port, dynamodb_port, moto_port
        self.containers = containers
        self.authorizer_cache_seconds = authorizer_cache_seconds
        self.country_code = country_code
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
        logs = DATA_DIR / "logs"
        self._services.append(start_dynamodb_local(self.dynamodb_port, logs))
        self._services.append(start_moto_server(self.moto_port, logs))
        os.environ.update(aws_environment(self._services[0].endpoint, self._services[1].endpoint))

        create_table(boto3.client("dynamodb"))
        sqs, events = boto3.client("sqs"), boto3.client("events")
        queue_urls = create_queues(sqs)
        create_bus(events)
        environment = {
            **aws_environment(self._services[0].endpoint, self._services[1].endpoint),
            **env.function_environment(table_name=TABLE.name, event_bus_name=EVENT_BUS_NAME,
                                       default_country_code=self.country_code, queue_urls=queue_urls,
                                       sends_to=[q.logical_id for q in QUEUES],
                                       cors_allow_origins=CORS.allow_origins),
            **env.powertools_environment(service_name="loyalty-local", metrics_namespace=METRICS_NAMESPACE,
                                         log_level=os.environ.get(env.LOG_LEVEL, "INFO"), tracing=False),
        }
        os.environ.update(environment)
        self._seed()

        self.runtime = LambdaRuntime(environment, self.containers)
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
            stream_consumer = StreamConsumer(streams, boto3.client("dynamodb"), self.runtime, spec, self._stop)
            stream_consumer.start()
            self.stream_consumers.append(stream_consumer)
        self.scheduler = Scheduler(self.runtime, self._stop)
        self.scheduler.start()
        self.tap = EventTap(events, sqs, self._stop)
        self.tap.start()
        DATA_DIR.mkdir(exist_ok=True)
        ENDPOINTS_FILE.write_text(json.dumps({
            "base_url": self.base_url, **aws_environment(self._services[0].endpoint, self._services[1].endpoint),
            env.TABLE_NAME: TABLE.name, "queues": queue_urls,
        }, indent=2))

    def _seed(self) -> None:
        from loyalty.wiring import Services

        services = Services(table=boto3.resource("dynamodb").Table(TABLE.name))
        for store in DEMO_STORES:
            services.stores.put_store(store)
        for client_id, kind, stores, key_id, secret in DEMO_CLIENTS:
            services.api_key_service.create(client_id, kind, stores, description="demo key (local run only)",
                                            key_id=key_id, secret=secret)

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
        if self.server is not None:
            self.server.shutdown()
        if self.runtime is not None:
            self.runtime.shutdown()
        for service in reversed(self._services):
            service.stop()
        ENDPOINTS_FILE.unlink(missing_ok=True)


def banner(platform: LocalPlatform) -> str:
    pos_key = demo_key("pos-sh-jingan")
    lines = [
        "",
        f"Loyalty platform running at {platform.base_url}   (OpenAPI: {platform.base_url}/openapi.json)",
        f"  DynamoDB Local :{platform.dynamodb_port}   moto server :{platform.moto_port}   logs: .local-data/logs/",
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--dynamodb-port", type=int, default=int(os.environ.get("DYNAMODB_PORT", "0")) or None)
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "0")) or None)
    parser.add_argument("--containers", type=int, default=4, help="warm Lambda containers running side by side")
    parser.add_argument("--authorizer-cache-seconds", type=int, default=AUTHORIZER_CACHE_SECONDS)
    args = parser.parse_args(argv)

    platform = LocalPlatform(args.port, args.dynamodb_port or free_port(), args.moto_port or free_port(),
                             args.containers, args.authorizer_cache_seconds)
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
