"""Waiting for a phase by long-polls: the bookkeeping shared by the sync and async clients."""

from __future__ import annotations

import time
from typing import Callable, Iterable

from .calls import long_poll_seconds
from .errors import PhaseNotReached, WaitTimeout
from .models import TERMINAL_PHASES, Execution

OnUpdate = Callable[[Execution], None]


def phase_set(phases: str | Iterable[str]) -> frozenset[str]:
    return frozenset([phases] if isinstance(phases, str) else phases)


class PhaseWait:
    """One wait: knows the deadline and the phases wanted, and judges each answer.

    ``seen`` returns True when the wait is over, raises when it never will be, and otherwise the
    caller long-polls for ``next_wait()`` seconds with the ETag of the last answer.
    """

    def __init__(self, phases: str | Iterable[str], timeout_s: float, on_update: OnUpdate | None = None) -> None:
        self.phases = phase_set(phases)
        self.deadline = time.monotonic() + timeout_s
        self.on_update = on_update

    def seen(self, execution: Execution) -> bool:
        if self.on_update:
            self.on_update(execution)
        if execution.phase in self.phases:
            return True
        # Nothing more will happen to an execution that has ended in another phase.
        if execution.phase in TERMINAL_PHASES:
            raise PhaseNotReached(execution, self.phases)
        if time.monotonic() >= self.deadline:
            raise WaitTimeout(execution, self.phases)
        return False

    def next_wait(self) -> int:
        return long_poll_seconds(self.deadline - time.monotonic())

    def backoff(self, retry_after: float | None) -> float:
        """How long to pause when the broker holds too many of this user's long-polls: what it asked
        (else a second), never past the deadline."""
        return max(0.0, min(retry_after if retry_after is not None else 1.0, self.deadline - time.monotonic()))
