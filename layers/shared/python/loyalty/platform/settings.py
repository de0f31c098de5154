"""Typed settings, read from the environment once, on first use. The names come from the one
environment contract (loyalty.platform.environment); CDK sets exactly these variables (tests/infra
checks it). No resource name has a default."""
import os
from functools import cache
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from loyalty.platform import environment as env


class CoreSettings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    table_name: str = Field(alias=env.TABLE_NAME, min_length=1)
    event_bus_name: str = Field(alias=env.EVENT_BUS_NAME, min_length=1)
    default_country_code: str = Field(alias=env.DEFAULT_COUNTRY_CODE, pattern=r"^[1-9]\d{0,2}$")
    erasure_grace_days: int = Field(alias=env.ERASURE_GRACE_DAYS, ge=0, le=365)
    inactivity_erasure_days: int = Field(default=0, alias=env.INACTIVITY_ERASURE_DAYS, ge=0, le=3650)  # 0: off


class FeedbackIntakeSettings(CoreSettings):
    feedback_queue_url: str = Field(alias=env.FEEDBACK_QUEUE_URL, min_length=1)


class PointsExpirySettings(CoreSettings):
    points_expiry_queue_url: str = Field(alias=env.POINTS_EXPIRY_QUEUE_URL, min_length=1)


class ExportSettings(CoreSettings):
    """Where members' data exports go: a bucket on AWS, a folder in the local run (exactly one)."""

    export_bucket: str | None = Field(default=None, alias=env.EXPORT_BUCKET, min_length=3)
    export_folder: str | None = Field(default=None, alias=env.EXPORT_FOLDER, min_length=1)

    @model_validator(mode="after")
    def _one_place(self):
        if (self.export_bucket is None) == (self.export_folder is None):
            raise ValueError(f"set exactly one of {env.EXPORT_BUCKET} and {env.EXPORT_FOLDER}")
        return self


class ExportQueueSettings(CoreSettings):
    export_queue_url: str = Field(alias=env.EXPORT_QUEUE_URL, min_length=1)


class ApiSettings(BaseModel):
    """What the API functions read besides the core: the browser origins they answer (CORS)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    cors_allow_origins: str = Field(default="", alias=env.CORS_ALLOW_ORIGINS)

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(o.strip() for o in self.cors_allow_origins.split(",") if o.strip())


class SettlementSettings(BaseModel):
    """The settlement functions' counters: how many shards a day's counters spread over. The counting
    function and the report must agree, and it may only grow (the report reads shards 0 to N-1)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    settlement_shards: int = Field(default=8, ge=1, le=64, alias=env.SETTLEMENT_SHARDS)


S = TypeVar("S", bound=BaseModel)


@cache
def load_settings(model: type[S]) -> S:
    """Validate the environment against `model` once per process; a missing name fails loudly."""
    names = {field.alias or name for name, field in model.model_fields.items()}
    return model.model_validate({name: os.environ[name] for name in names if name in os.environ})


def required_environment(model: type[BaseModel]) -> set[str]:
    """The variables a settings model cannot do without (an optional one, like the retention policy, may be absent)."""
    return {field.alias or name for name, field in model.model_fields.items() if field.is_required()}
