"""What can go wrong, as exceptions that carry what the broker said."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .models import Execution, MessageItem, Problem


class BrokerError(Exception):
    """Base class of every error this client raises."""


class ProblemError(BrokerError):
    """The broker answered with an HTTP error and an RFC 9457 problem document (``.problem``)."""

    def __init__(self, status: int, problem: "Problem", url: str | None = None, retry_after: float | None = None) -> None:
        self.status = status
        self.problem = problem
        self.url = url
        #: Seconds the broker asked the client to wait before trying again (``Retry-After``), if it did.
        self.retry_after = retry_after
        text = f"{status} {problem.title or 'error'}"
        if problem.detail:
            text += f": {problem.detail}"
        fields = [f"{e.pointer}: {e.message}" for e in problem.errors or [] if e.pointer or e.message]
        if fields:
            text += " [" + "; ".join(fields) + "]"
        super().__init__(text)

    @property
    def title(self) -> str | None:
        return self.problem.title

    @property
    def detail(self) -> str | None:
        return self.problem.detail


class BadRequest(ProblemError):
    """400: the body is malformed or does not match the schema (``problem.errors`` names the fields)."""


class Unauthorized(ProblemError):
    """401: no token, or one the broker does not accept (and refreshing it did not help)."""


class Forbidden(ProblemError):
    """403: only the owner may make this change."""


class NotFound(ProblemError):
    """404: no such offer set or execution (or it is someone else's)."""


class Conflict(ProblemError):
    """409: the phase change is not allowed from the current phase."""


class Unprocessable(ProblemError):
    """422: a well-formed update the broker cannot apply."""


class TooManyRequests(ProblemError):
    """429: too many long-polls open at once for this user; ``retry_after`` says when to try again.
    The waits handle it themselves (they wait that long and go on)."""


_BY_STATUS: dict[int, type[ProblemError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 422: Unprocessable,
    429: TooManyRequests,
}


def problem_error(status: int, problem: "Problem", url: str | None = None, retry_after: float | None = None) -> ProblemError:
    """The most specific :class:`ProblemError` for an HTTP status."""
    return _BY_STATUS.get(status, ProblemError)(status, problem, url, retry_after)


class NoOffersError(BrokerError):
    """The broker understood the request but cannot meet it (``result: NO``); ``.messages`` say why."""

    def __init__(self, offer_set_uuid: str | None, messages: Iterable["MessageItem"], problem: "Problem | None" = None) -> None:
        self.offer_set_uuid = offer_set_uuid
        self.messages = list(messages)
        self.problem = problem
        reasons = "; ".join(m.message or m.template or m.kind or "" for m in self.messages) or "no reason given"
        super().__init__(f"no offers: {reasons}")


class WaitTimeout(BrokerError, TimeoutError):
    """The execution did not reach the awaited phase in time; ``.execution`` is the last seen."""

    def __init__(self, execution: "Execution", phases: Iterable[str]) -> None:
        self.execution = execution
        self.phases = sorted(phases)
        super().__init__(f"execution {execution.meta.uuid if execution.meta else '?'} did not reach "
                         f"{'/'.join(self.phases)} in time (last seen {execution.phase})")


class PhaseNotReached(BrokerError):
    """The execution ended in another phase, so the awaited one will never come (again).

    ``passed`` names the awaited phases it went through before it ended (between two answers, say).
    """

    def __init__(self, execution: "Execution", phases: Iterable[str]) -> None:
        self.execution = execution
        self.phases = sorted(phases)
        self.passed = sorted({c.phase for c in execution.history()} & set(self.phases))
        earlier = f" (it was {'/'.join(self.passed)} before)" if self.passed else f", never {'/'.join(self.phases)}"
        super().__init__(f"execution {execution.meta.uuid if execution.meta else '?'} ended {execution.phase}{earlier}")


class ExecutionFailed(BrokerError):
    """The execution ended but did not complete (FAILED, CANCELLED, ...); the messages say why."""

    def __init__(self, execution: "Execution") -> None:
        self.execution = execution
        why = "; ".join(m.message or "" for m in execution.component_messages() if m.level in ("ERROR", "WARN"))
        super().__init__(f"execution {execution.meta.uuid if execution.meta else '?'} ended {execution.phase}"
                         + (f": {why}" if why else ""))


class OutputNotAvailable(BrokerError):
    """The execution offers no connector for this output (yet, or on this platform)."""
