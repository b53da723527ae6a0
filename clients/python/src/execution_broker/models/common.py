"""Parts shared by requests, offers and executions: messages, metadata, costs, metrics, schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from .base import ApiModel

MessageLevel = Literal["DEBUG", "WARN", "ERROR", "INFO", "OTHER"]


class MessageItem(ApiModel):
    """A message (Message Templates): why an offer set is NO, a phase change, a platform's note."""

    openapi_schema = "MessageItem"
    kind: str | None = None
    time: datetime | None = None
    level: MessageLevel | None = None
    template: str | None = None
    values: dict[str, Any] | None = None
    message: str | None = None

    def __str__(self) -> str:
        return f"{self.level or 'INFO'} {self.kind or ''}: {self.message or self.template or ''}".strip()


class ComponentMetadata(ApiModel):
    openapi_schema = "ComponentMetadata"
    uuid: str | None = None
    name: str | None = None
    url: str | None = None
    description: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    messages: list[MessageItem] | None = None
    options: list[dict[str, Any]] | None = None


class MinMax(ApiModel):
    """Cores, memory (GiB) or storage size (GiB): the least the work needs, the most it can use."""

    openapi_schema = "SimpleComputeCores"
    min: int | None = None
    max: int | None = None


class Cost(ApiModel):
    openapi_schema = "SimpleMinMaxFloatCost"
    kind: str = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/costs/simple-minmax-float-cost.yaml"
    type: str | None = None
    description: str | None = None
    min: float | None = None
    max: float | None = None


class Metric(ApiModel):
    openapi_schema = "SimpleMinMaxFloatMetric"
    kind: str = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/metrics/simple-minmax-float-metric.yaml"
    type: str | None = None
    description: str | None = None
    min: float | None = None
    max: float | None = None


class StartDuration(ApiModel):
    """An ISO 8601 start (instant or interval) and duration."""

    openapi_schema = "LifecycleStartDurationInstant"
    start: str | None = None
    duration: str | None = None


class Schedule(ApiModel):
    """When preparation starts, when the work is available and for how long, when release starts."""

    openapi_schema = "LifecycleSchedule"
    preparing: StartDuration | None = None
    available: StartDuration | None = None
    releasing: StartDuration | None = None


class RequestedScheduleItem(ApiModel):
    openapi_schema = "RequestedScheduleItem"
    duration: str | None = None
    start: str | None = None


class RequestedSchedule(ApiModel):
    openapi_schema = "RequestedScheduleBlock"
    requested: RequestedScheduleItem | None = None
