"""Phase names: of executions (offers) and of their components."""

from __future__ import annotations

from typing import Literal, get_args

ExecutionPhase = Literal[
    "INITIAL", "OFFERED", "ACCEPTED", "REJECTED", "EXPIRED", "WAITING", "PREPARING",
    "AVAILABLE", "RUNNING", "RELEASING", "COMPLETED", "FAILED", "CANCELLED",
]
LifecyclePhase = Literal[
    "INITIALIZING", "WAITING", "PREPARING", "AVAILABLE", "RUNNING", "RELEASING", "COMPLETED", "FAILED", "CANCELLED",
]
#: What a client may ask for with a phase update.
ClientPhase = Literal["ACCEPTED", "REJECTED", "CANCELLED"]

EXECUTION_PHASES: tuple[str, ...] = get_args(ExecutionPhase)
#: Nothing more happens to an execution in one of these phases.
TERMINAL_PHASES: frozenset[str] = frozenset({"COMPLETED", "FAILED", "CANCELLED", "REJECTED", "EXPIRED"})
