"""The one function construct: every Lambda function of the platform gets its runtime, architecture,
tracing, logging, retention and Powertools settings here, and only the permissions granted to it; and
the layers and handler code all of them share.

Every function runs with SnapStart: each deploy publishes a version, Lambda initialises it once (imports
and module-level setup) and snapshots it, and cold starts resume from that snapshot. Only published
versions have snapshots, so nothing invokes the function itself ($LATEST): API Gateway, the authorizer,
event source mappings and schedules all invoke the alias `live`, which points at the newest version
(docs/decisions.md, 15)."""
from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.resources import FunctionSpec, env

RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.ARM_64
# The Python version and platform the dependency layer is built for (Makefile, `make layers`).
LAYER_PYTHON_VERSION = "3.14"
LAYER_PLATFORM = "manylinux2014_aarch64"
METRICS_NAMESPACE = "Loyalty"
SNAP_START = lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS
ALIAS_NAME = "live"
# A version's logical id must change whenever its layers do, or the alias would keep running the old
# layers' code: CDK hashes the layers into it only with this flag (cdk.json sets it; the stack sets it
# too, so that a synth outside the CDK CLI, as the tests do, publishes the same versions).
RECOGNIZE_LAYER_VERSION = "@aws-cdk/aws-lambda:recognizeLayerVersion"
ROOT = Path(__file__).resolve().parent.parent
DEPS_LAYER_DIR = ROOT / ".build/layers/deps"
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc"]


def shared_layers(scope: Construct) -> list[lambda_.ILayerVersion]:
    """The two layers every function runs with: third-party dependencies and the loyalty package."""
    if not (DEPS_LAYER_DIR / "python").is_dir():
        raise FileNotFoundError(f"{DEPS_LAYER_DIR}/python is missing: run `make layers` before synth")
    return [
        lambda_.LayerVersion(scope, "DependenciesLayer", code=lambda_.Code.from_asset(str(DEPS_LAYER_DIR)),
                             compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
                             description="Powertools, pydantic, boto3 (layers/deps/requirements.txt)"),
        lambda_.LayerVersion(scope, "SharedCodeLayer",
                             code=lambda_.Code.from_asset(str(ROOT / "layers/shared"), exclude=ASSET_EXCLUDES),
                             compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
                             description="The loyalty package: domain, use cases, adapters"),
    ]


def function_code() -> lambda_.Code:
    """The handlers (functions/), one asset shared by every function."""
    return lambda_.Code.from_asset(str(ROOT / "functions"), exclude=ASSET_EXCLUDES)


class LoyaltyFunction(Construct):
    def __init__(self, scope: Construct, spec: FunctionSpec, *, code: lambda_.Code, layers: list[lambda_.ILayerVersion],
                 environment: dict[str, str], log_retention: logs.RetentionDays):
        super().__init__(scope, f"{_pascal(spec.name)}Function")
        self.spec = spec
        log_group = logs.LogGroup(self, "Logs", retention=log_retention, removal_policy=RemovalPolicy.RETAIN)
        self.function = lambda_.Function(
            self, "Function",
            description=spec.description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=spec.handler,
            code=code,
            layers=layers,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            environment={**env.powertools_environment(service_name=spec.name, metrics_namespace=METRICS_NAMESPACE),
                         **environment},
            snap_start=SNAP_START,
            # A superseded version is deleted once the alias has moved on (CloudFormation's cleanup, after
            # the update succeeded): a Python snapshot is billed for as long as its version exists.
            current_version_options=lambda_.VersionOptions(removal_policy=RemovalPolicy.DESTROY),
        )
        Annotations.of(self.function).acknowledge_warning(
            "@aws-cdk/aws-lambda:snapStartRequirePublish", "Every deploy publishes a version (the alias's).")
        # What everything invokes. Grants stay on the function's role, which every version runs with.
        self.alias = lambda_.Alias(self, "Alias", alias_name=ALIAS_NAME, version=self.function.current_version,
                                   description="The newest published version, resumed from its SnapStart snapshot")


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
