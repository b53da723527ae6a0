"""What a client asks for."""

from __future__ import annotations

from .base import ApiModel
from .common import Cost, Metric, RequestedSchedule, RequestedScheduleItem
from .components import AnyCompute, AnyData, AnyExecutable, AnyStorage


class ExecutionRequest(ApiModel):
    """An executable with the compute, storage and data it needs, and when and for how long.

    >>> ExecutionRequest(
    ...     executable=DockerContainer(image=DockerImage(locations=["ghcr.io/me/app:1"], digest="sha256:..."),
    ...                                command=["python", "-c", "print(42)"]),
    ...     compute=SimpleComputeResource(cores=MinMax(min=1, max=2)),
    ... ).with_duration("PT10M")  # doctest: +SKIP
    """

    openapi_schema = "ExecutionRequest"
    executable: AnyExecutable | None = None
    compute: AnyCompute | None = None
    storage: list[AnyStorage] | None = None
    data: list[AnyData] | None = None
    schedule: RequestedSchedule | None = None
    costs: list[Cost] | None = None
    metrics: list[Metric] | None = None

    def with_duration(self, duration: str, start: str | None = None) -> "ExecutionRequest":
        """A copy asking for ``duration`` (ISO 8601, e.g. ``PT30M``), optionally within ``start`` (an interval)."""
        item = RequestedScheduleItem(duration=duration, start=start)
        return self.model_copy(update={"schedule": RequestedSchedule(requested=item)})
