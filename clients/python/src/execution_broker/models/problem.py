"""RFC 9457 problem details, as the broker sends them for every error."""

from __future__ import annotations

from .base import ApiModel
from .common import MessageItem


class ProblemField(ApiModel):
    """A field that failed validation: a JSON Pointer into the request, and why."""

    pointer: str | None = None
    message: str | None = None


class Problem(ApiModel):
    openapi_schema = "Problem"
    type: str | None = None
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemField] | None = None
    messages: list[MessageItem] | None = None
