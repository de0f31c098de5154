"""Cold import: what importing each handler costs a fresh Python process, next to importing only the
bare dependencies the handlers use.

    .venv/bin/python -m bench.cold_import            # --pairs 20 --target 1.25; --check to fail on a miss

Lays out in a temporary folder what Lambda has (the function code in var/task; the dependencies
layer built for this machine plus the shared code layer in opt/python), compiles bytecode on both
sides unless --no-bytecode, then times `python -c "import <handler>"` against a baseline process
importing Powertools, pydantic and boto3 (plus the batch utilities for the queue and stream
consumers), alternating the two, each in a fresh interpreter that sees the laid-out folders only.
The environment is a function's on Lambda: the platform's variables, Powertools' with tracing on,
LAMBDA_TASK_ROOT (so Tracer and the X-Ray SDK behave as on Lambda), a region and fake credentials.

Prints, per handler: median wall time, the baseline's, their ratio (median of the paired ratios) and
PASS/FAIL against --target; then, for the slowest handler, where the time goes by `-X importtime`.
Figures only: exits 0 unless --check is given and a handler misses the target, fails to import or
uses the network while importing."""
from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
SHARED_LAYER = ROOT / "layers/shared/python"
HOST_LAYER = ROOT / ".build/layers/deps-host/python"
PROJECT_PACKAGE = "loyalty"
METRICS_NAMESPACE = "Loyalty"  # infra/function.py (not imported here: it needs aws_cdk)

# The platform's own environment contract, from this checkout (not whatever the virtualenv points at).
sys.path.insert(0, str(SHARED_LAYER))
from loyalty.platform import environment as env  # noqa: E402

BASELINE = ("from aws_lambda_powertools import Logger, Tracer, Metrics\n"
            "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
            "import pydantic\n"
            "import boto3\n")
BATCH = "from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response\n"
# --split: the baseline plus what any handler builds at import whatever its code (Logger, Tracer,
# Metrics, the resolver or batch processor, one pydantic model), to tell that fixed cost apart from
# the project's own code. `import pydantic` alone is lazy: the first model loads its machinery.
SETUP = "Logger(); Tracer(); Metrics()\nclass _Model(pydantic.BaseModel):\n    x: int = pydantic.Field(ge=0)\n"
API_SETUP = "APIGatewayRestResolver(enable_validation=True)\n"
BATCH_SETUP = "BatchProcessor(event_type=EventType.SQS)\n"

NETWORK_EVENTS = ("socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo", "socket.gethostbyname",
                  "socket.gethostbyname_ex", "socket.gethostbyaddr", "http.client.connect", "urllib.Request")

# Imports the handler once, untimed, and reports what happened: failure, network use, where the
# packages came from, and what Tracer and the X-Ray SDK set up.
PROBE = """
import importlib, json, sys, threading, traceback
network, sockets = [], []
def _audit(event, args):
    if event in {network_events!r}:
        network.append(event + ' ' + repr(args)[:160])
    elif event == 'socket.__new__':
        sockets.append('new ' + repr(args[1:]))
    elif event == 'socket.bind':
        sockets.append('bind ' + repr(args[1]))
sys.addaudithook(_audit)
import botocore.session
clients = []
_create_client = botocore.session.Session.create_client
def _counting(self, service_name, *args, **kwargs):
    clients.append(service_name)
    return _create_client(self, service_name, *args, **kwargs)
botocore.session.Session.create_client = _counting
report = {{'ok': True}}
try:
    importlib.import_module({module!r})
except BaseException:
    report = {{'ok': False, 'error': traceback.format_exc()}}
report.update(network=network, sockets=sockets, botocore_clients=clients, modules=len(sys.modules),
              threads=sorted(t.name for t in threading.enumerate()),
              origins={{m: getattr(sys.modules.get(m), '__file__', None)
                       for m in ('pydantic', 'aws_lambda_powertools', 'boto3', 'botocore', {package!r})}})
tracer = sys.modules.get('aws_lambda_powertools.tracing.tracer')
if tracer is not None:
    config = tracer.Tracer._config
    report['tracer'] = {{'disabled': bool(config['disabled']), 'auto_patch': config['auto_patch']}}
xray = sys.modules.get('aws_xray_sdk.core')
if xray is not None:
    recorder = xray.xray_recorder
    report['xray'] = {{'context': type(recorder.context).__name__, 'sampler': type(recorder.sampler).__name__,
                      'patched': sorted(sys.modules['aws_xray_sdk.core.patcher']._PATCHED_MODULES)}}
print(json.dumps(report))
"""

IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)\s*$")


@dataclass
class Sample:
    wall_ms: float
    cpu_ms: float  # user + system time of the process: less sensitive than wall time to a busy machine


@dataclass
class Handler:
    module: str
    batch: bool
    api: bool
    environment: dict[str, str]
    probe: dict = field(default_factory=dict)
    samples: dict[str, list[Sample]] = field(default_factory=lambda: {"handler": [], "baseline": [], "setup": []})

    @property
    def baseline_code(self) -> str:
        return BASELINE + (BATCH if self.batch else "")

    @property
    def setup_code(self) -> str:
        return self.baseline_code + SETUP + (API_SETUP if self.api else "") + (BATCH_SETUP if self.batch else "")

    def median(self, kind: str, measure: str = "wall_ms") -> float:
        return statistics.median(getattr(s, measure) for s in self.samples[kind])

    def ratio(self, measure: str = "wall_ms", kind: str = "handler") -> float:
        """Median of the per-pair ratios: each handler run against the baseline run next to it."""
        return statistics.median(getattr(h, measure) / getattr(b, measure)
                                 for h, b in zip(self.samples[kind], self.samples["baseline"]))


def lay_out(root: Path, bytecode: bool) -> tuple[Path, Path]:
    """var/task and opt/python as Lambda has them, built from the stack's asset sources (no bytecode
    is shipped: the stack excludes it and the layer is built with --no-compile)."""
    if not HOST_LAYER.is_dir():
        sys.exit(f"{HOST_LAYER} is missing: the dependencies layer for this machine is built by `make layers`")
    task, opt = root / "var/task", root / "opt/python"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(FUNCTIONS_DIR, task, ignore=ignore)
    shutil.copytree(SHARED_LAYER, opt, ignore=ignore)
    shutil.copytree(HOST_LAYER, opt, dirs_exist_ok=True, ignore=ignore)
    if bytecode:
        for folder in (task, opt):
            subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", str(folder)], check=True,
                           stdout=subprocess.DEVNULL, env={"PATH": os.environ.get("PATH", "")})
    return task, opt


def specs_by_module() -> dict[str, object]:
    """The stack's function specs by handler module (for the service name, memory and queue URLs)."""
    sys.path.insert(0, str(ROOT))
    try:
        from infra.resources import FUNCTIONS
    except Exception as error:  # the bench still runs on the handlers it finds
        print(f"note: infra.resources not readable ({error}); using defaults per handler")
        return {}
    return {spec.handler.rsplit(".", 1)[0]: spec for spec in FUNCTIONS}


def lambda_environment(module: str, spec, task: Path, opt: Path) -> dict[str, str]:
    """A function's environment on Lambda, as the stack configures it, with tracing on."""
    name = getattr(spec, "name", module)
    sends_to = getattr(spec, "sends_to", tuple(env.QUEUE_URLS))
    queue_urls = {q: f"https://sqs.us-east-1.amazonaws.com/123456789012/{q}" for q in env.QUEUE_URLS}
    return {
        # What the runtime sets for every function (LAMBDA_TASK_ROOT turns Tracer and the X-Ray SDK on).
        "LAMBDA_TASK_ROOT": str(task),
        "AWS_LAMBDA_FUNCTION_NAME": f"loyalty-{name}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(getattr(spec, "memory_mb", 512)),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.14",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "TZ": ":UTC",
        "LANG": "C.UTF-8",
        # What the stack sets, tracing left on.
        **env.function_environment(table_name="loyalty-main", event_bus_name="loyalty-bus",
                                   default_country_code="86", queue_urls=queue_urls, sends_to=sends_to),
        **env.powertools_environment(service_name=name, metrics_namespace=METRICS_NAMESPACE),
        # Only the laid-out folders on the path; no bytecode written by the timed runs.
        "PYTHONPATH": os.pathsep.join([str(task), str(opt)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }


def discover(task: Path, opt: Path) -> list[Handler]:
    specs = specs_by_module()
    handlers = []
    for path in sorted(FUNCTIONS_DIR.glob("*.py")):
        imported = _imported_modules(path)
        environment = lambda_environment(path.stem, specs.get(path.stem), task, opt)
        assert env.TRACE_DISABLED not in environment
        handlers.append(Handler(module=path.stem, environment=environment,
                                batch=any(m.startswith("aws_lambda_powertools.utilities.batch") for m in imported),
                                api=any(m.startswith(f"{PROJECT_PACKAGE}.platform.http") for m in imported)))
    return handlers


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def python(code: str, environment: dict[str, str], cwd: Path, *flags: str) -> subprocess.CompletedProcess:
    # -S: no site module, so the virtualenv's site-packages stay out (-I would drop PYTHONPATH too);
    # -s: no user site-packages. The environment is exactly the one given.
    return subprocess.run([sys.executable, "-S", "-s", *flags, "-c", code], env=environment, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def timed(code: str, environment: dict[str, str], cwd: Path) -> Sample:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = python(code, environment, cwd)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Sample(wall_ms=elapsed * 1000, cpu_ms=cpu * 1000)


def probe(handler: Handler, task: Path, root: Path) -> dict:
    code = PROBE.format(module=handler.module, network_events=NETWORK_EVENTS, package=PROJECT_PACKAGE)
    try:
        result = python(code, handler.environment, task)
    except subprocess.TimeoutExpired as error:
        return {"ok": False, "error": f"import did not finish in {error.timeout} s"}
    try:
        report = json.loads(result.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"ok": False, "error": result.stderr.strip() or f"exit code {result.returncode}"}
    leaked = {m: o for m, o in report.get("origins", {}).items() if o and not o.startswith(str(root))}
    if leaked:
        report.update(ok=False, error=f"imported from outside the laid-out folders: {leaked}")
    return report


@dataclass
class ImportTime:
    self_ms: float
    cumulative_ms: float
    own_ms: float  # project modules: self time plus that of the project modules under it, no third-party imports


def importtime(code: str, environment: dict[str, str], cwd: Path, runs: int,
               is_project=lambda name: False) -> dict[str, ImportTime]:
    """Median figures per module over `runs` processes of `python -X importtime`."""
    samples: dict[str, list[tuple[int, int, int]]] = {}
    for _ in range(runs):
        result = python(code, environment, cwd, "-X", "importtime")
        pending: list[tuple[int, str, int]] = []  # (depth, name, own us) not yet claimed by a parent
        for line in result.stderr.splitlines():
            match = IMPORTTIME_LINE.match(line)
            if not match:
                continue
            self_us, cumulative_us, depth, name = int(match[1]), int(match[2]), (len(match[3]) - 1) // 2, match[4]
            children = []
            while pending and pending[-1][0] > depth:  # printed after its imports, one level deeper
                children.append(pending.pop())
            own = self_us + sum(o for _, child, o in children if is_project(child)) if is_project(name) else 0
            pending.append((depth, name, own))
            samples.setdefault(name, []).append((self_us, cumulative_us, own))
    return {name: ImportTime(*(statistics.median(v[i] for v in values) / 1000 for i in range(3)))
            for name, values in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=20, help="paired baseline/handler runs per handler")
    parser.add_argument("--target", type=float, default=1.25, help="the ratio a handler must stay within")
    parser.add_argument("--check", action="store_true",
                        help="exit non-zero when a handler misses the target, fails to import or uses the network")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="compile nothing: every import compiles its source, as on Lambda today")
    parser.add_argument("--split", action="store_true",
                        help="also time the baseline plus the Logger/Tracer/Metrics/resolver objects handlers build")
    parser.add_argument("--only", nargs="+", metavar="MODULE", help="handler modules to measure (default: all)")
    parser.add_argument("--importtime-runs", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the laid-out folder and print its path")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="loyalty-cold-import-"))
    try:
        return run(args, root)
    finally:
        if args.keep:
            print(f"\nlaid out in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def run(args, root: Path) -> int:
    bytecode = not args.no_bytecode
    started = time.perf_counter()
    task, opt = lay_out(root, bytecode)
    handlers = discover(task, opt)
    if args.only:
        handlers = [h for h in handlers if h.module in args.only]
    if not handlers:
        print(f"no handler modules to measure in {FUNCTIONS_DIR}" + (f" named {args.only}" if args.only else ""))
        return 1 if args.check else 0
    print(f"Python {platform.python_version()} ({sys.executable}), {platform.machine()}, {os.cpu_count()} cores; "
          f"bytecode {'compiled ahead' if bytecode else 'not compiled (every import compiles)'}; "
          f"{args.pairs} pairs per handler; laid out in {time.perf_counter() - started:.1f} s")

    floor_env = handlers[0].environment if handlers else {}
    floor = [timed("pass", floor_env, task) for _ in range(5)]

    print("\nimport probe (untimed): failures, network use, what Tracer and the X-Ray SDK set up")
    for handler in handlers:
        handler.probe = probe(handler, task, root)
        report = handler.probe
        if not report["ok"]:
            print(f"  {handler.module}: IMPORT FAILED\n    " + report["error"].strip().replace("\n", "\n    "))
            continue
        xray = report.get("xray") or {}
        binds = [e.split(" ", 1)[1] for e in report["sockets"] if e.startswith("bind ")]
        print(f"  {handler.module}: {report['modules']} modules; network calls: "
              f"{report['network'] or 'none'}; sockets created: "
              f"{sum(e.startswith('new ') for e in report['sockets'])}"
              f"{' (bound to ' + ', '.join(binds) + ')' if binds else ''}; botocore clients: "
              f"{report['botocore_clients'] or 'none'}; Tracer disabled: {report.get('tracer', {}).get('disabled')}; "
              f"X-Ray {xray.get('context')}/{xray.get('sampler')}, patched: {', '.join(xray.get('patched', [])) or '-'}; "
              f"threads: {', '.join(report['threads'])}")
    talkers = [h.module for h in handlers if h.probe.get("network")]
    print(f"  network calls at import: {', '.join(talkers) if talkers else 'none, in any handler'}")
    sys.stdout.flush()

    for handler in handlers:
        if not handler.probe.get("ok"):
            continue
        print(f"timing {handler.module}...", end="", flush=True, file=sys.stderr)
        runs = [("baseline", handler.baseline_code), ("handler", f"import {handler.module}")]
        if args.split:
            runs.append(("setup", handler.setup_code))
        try:
            timed(handler.baseline_code, handler.environment, task)  # warm the page cache for both sides
            for i in range(args.pairs):
                shift = i % len(runs)  # alternate which side goes first
                for kind, code in runs[shift:] + runs[:shift]:
                    handler.samples[kind].append(timed(code, handler.environment, task))
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            handler.probe = {"ok": False, "error": str(error)}
            print(f" failed: {error}", file=sys.stderr)
            continue
        print(" done", file=sys.stderr)

    print(f"\ninterpreter start-up alone (`python -S -c pass`): {statistics.median(s.wall_ms for s in floor):.0f} ms "
          f"wall, {statistics.median(s.cpu_ms for s in floor):.0f} ms CPU, in every figure below\n")
    header = "| handler | median ms | baseline median ms | ratio | target | result | CPU ratio |"
    rule = "|---|---|---|---|---|---|---|"
    if args.split:
        header += " baseline + fixed set-up ms (ratio) |"
        rule += "---|"
    print(header)
    print(rule)
    missed = False
    for handler in handlers:
        if not handler.probe.get("ok"):
            missed = True
            print(f"| {handler.module} | import failed | | | {args.target:.2f} | FAIL | |" + (" |" if args.split else ""))
            continue
        ratio = handler.ratio()
        passed = ratio <= args.target and not handler.probe.get("network")
        missed |= not passed
        result = "PASS" if passed else "FAIL (network at import)" if handler.probe.get("network") else "FAIL"
        line = (f"| {handler.module}{' (batch)' if handler.batch else ''} | {handler.median('handler'):.0f} | "
                f"{handler.median('baseline'):.0f} | {ratio:.2f} | {args.target:.2f} | {result} | "
                f"{handler.ratio('cpu_ms'):.2f} |")
        if args.split:
            line += f" {handler.median('setup'):.0f} ({handler.ratio(kind='setup'):.2f}) |"
        print(line)
    print("\nms: median wall time of the whole process. ratio: median of the per-pair ratios (each handler run "
          "against the baseline run next to it); CPU ratio: the same on user + system time.")
    if args.split:
        print("fixed set-up: the baseline plus Logger(), Tracer(), Metrics(), one pydantic model and the resolver "
              "(API) or batch processor (queue, stream) that any handler builds.")

    timed_handlers = [h for h in handlers if h.probe.get("ok") and h.samples["handler"]]
    if timed_handlers:
        # Ranked by ratio times the usual figure of its baseline over all handlers: on a busy machine a
        # handler's own wall time says as much about when it was measured as about the handler.
        usual = {code: statistics.median(s.wall_ms for h in timed_handlers if h.baseline_code == code
                                         for s in h.samples["baseline"])
                 for code in {h.baseline_code for h in timed_handlers}}
        slowest = max(timed_handlers, key=lambda h: h.ratio() * usual[h.baseline_code])
        where_the_time_goes(slowest, task, args)
    return 1 if args.check and missed else 0


def where_the_time_goes(handler: Handler, task: Path, args) -> None:
    def is_project(name: str) -> bool:
        return name == handler.module or name.split(".")[0] == PROJECT_PACKAGE

    modules = importtime(f"import {handler.module}", handler.environment, task, args.importtime_runs, is_project)
    baseline = importtime(handler.baseline_code, handler.environment, task, args.importtime_runs)
    print(f"\nslowest handler (ratio x usual baseline): {handler.module}; `-X importtime` (which slows imports "
          f"down), median of {args.importtime_runs} runs. cumulative: the module and everything first imported under it, "
          f"third-party included; own: time in the project's modules only (their bodies: models built, "
          f"objects created, routes registered), not in the third-party modules they import first.\n")
    print("| project module | cumulative ms | own ms | self ms |")
    print("|---|---|---|---|")
    project = sorted(((n, t) for n, t in modules.items() if is_project(n)), key=lambda nt: -nt[1].cumulative_ms)
    for name, t in project[:args.top]:
        print(f"| {name} | {t.cumulative_ms:.1f} | {t.own_ms:.1f} | {t.self_ms:.1f} |")

    extra: dict[str, list[float]] = {}
    for name, t in modules.items():
        if name not in baseline:
            extra.setdefault(name.split(".")[0], []).append(t.self_ms)
    print(f"\nmodules {handler.module} loads beyond the baseline, by top-level package (sum of self ms)\n")
    print("| package | modules | self ms |")
    print("|---|---|---|")
    for package, times in sorted(extra.items(), key=lambda kv: -sum(kv[1]))[:args.top]:
        print(f"| {package} | {len(times)} | {sum(times):.1f} |")


if __name__ == "__main__":
    sys.exit(main())
