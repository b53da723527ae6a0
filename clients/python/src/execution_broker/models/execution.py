"""An offer, and once accepted the execution it becomes (the same document, the same UUID)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .base import ApiModel
from .common import ComponentMetadata, Cost, MessageItem, Metric, Schedule
from .components import AnyCompute, AnyData, AnyExecutable, AnyStorage
from .phases import TERMINAL_PHASES, ExecutionPhase


class Connector(ApiModel):
    """A way to reach the running work (an access URL) or its output (stdout/stderr)."""

    openapi_schema = "SimpleSessionConnector"
    kind: str | None = None
    status: Literal["PREPARING", "AVAILABLE", "FINISHED"] | None = None
    protocol: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class PhaseChange:
    phase: str
    time: datetime | None
    note: str | None


class Execution(ApiModel):
    """The broker's ScheduledExecutionSession: phase, schedule, components, messages, connectors."""

    openapi_schema = "ScheduledExecutionSession"
    kind: str
    meta: ComponentMetadata | None = None
    costs: list[Cost] | None = None
    metrics: list[Metric] | None = None
    phase: ExecutionPhase | None = None
    expires: datetime | None = None
    executable: AnyExecutable | None = None
    compute: AnyCompute | None = None
    storage: list[AnyStorage] | None = None
    data: list[AnyData] | None = None
    connectors: list[Connector] | None = None
    schedule: Schedule | None = None

    @property
    def uuid(self) -> str:
        if not self.meta or not self.meta.uuid:
            raise ValueError("this execution carries no meta.uuid")
        return self.meta.uuid

    @property
    def is_terminal(self) -> bool:
        return self.phase in TERMINAL_PHASES

    @property
    def messages(self) -> list[MessageItem]:
        return list(self.meta.messages or []) if self.meta else []

    def history(self) -> list[PhaseChange]:
        """The phases the execution went through, oldest first (the broker's ``urn:phase-change`` messages)."""
        changes = []
        for m in self.messages:
            if m.kind == "urn:phase-change" and m.values and "phase" in m.values:
                note = m.values.get("note")
                changes.append(PhaseChange(str(m.values["phase"]), m.time, str(note) if note is not None else None))
        return changes

    def component_messages(self) -> list[MessageItem]:
        """Messages of the components (exit codes, staging progress, platform failures), executable first."""
        parts = [self.executable, self.compute, *(self.storage or []), *(self.data or [])]
        return [m for p in parts if p is not None and p.meta for m in (p.meta.messages or [])]

    def connector(self, kind_suffix: str) -> Connector | None:
        """The first connector whose kind ends with ``kind_suffix``."""
        return next((c for c in self.connectors or [] if (c.kind or "").endswith(kind_suffix)), None)

    @property
    def access_urls(self) -> list[str]:
        """Where the running work answers (published ports of an interactive container, a notebook)."""
        return [c.location for c in self.connectors or [] if c.kind == "urn:access-url" and c.location]

    def _repr_html_(self) -> str:
        from ..progress import render_html

        return render_html(self)
