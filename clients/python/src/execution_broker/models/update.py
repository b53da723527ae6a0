"""Updates a client sends to an offer or execution."""

from __future__ import annotations

from .base import ApiModel


class EnumValueUpdate(ApiModel):
    """Sets an enumerated value; the phase update is ``path: phase`` (upstream clients send ``/phase``)."""

    openapi_schema = "EnumValueUpdate"
    kind: str = "uri:enum-value-update"
    path: str = "phase"
    value: str
