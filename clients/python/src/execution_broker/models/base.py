"""The common base of the API models."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """A document of the broker's API, with the field names of the OpenAPI document.

    Unknown fields are kept rather than refused: a newer broker may add some, and a notebook written
    today should still read its answers.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    #: The schema of ``packages/schema/openapi/execution-broker.yaml`` this model follows (checked by the tests).
    openapi_schema: ClassVar[str | None] = None

    def to_json(self) -> dict[str, Any]:
        """The JSON document the broker expects: aliases as field names, no empty fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
