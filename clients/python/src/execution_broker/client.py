"""The synchronous client: one instance may be shared by many threads (httpx.Client is thread-safe)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import httpx

from . import calls
from .auth import BearerAuth, TokenLike, TokenSource
from .calls import RequestLike, retry_safely
from .errors import ExecutionFailed, TooManyRequests
from .models import TERMINAL_PHASES, ClientPhase, Execution, OfferSet
from .outputs import STREAMS, AtomicFile, Stream, has_stream, stream_location, target_file
from .progress import PhaseDisplay
from .waiting import OnUpdate, PhaseWait

URL_ENV = "EB_URL"
DEFAULT_URL = "http://127.0.0.1:8080"
#: How long the waits wait unless told otherwise.
DEFAULT_WAIT_S = 600.0
#: Long-polls one client holds open at once: the broker's default cap per user (EB_LONG_POLLS_PER_OWNER).
DEFAULT_MAX_LONG_POLLS = 16
Progress = bool | Callable[[Execution], None] | None


def base_url(url: str | None) -> str:
    return (url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")


def observer(progress: Progress, on_update: OnUpdate | None) -> OnUpdate | None:
    """One callback from a ``progress`` display (True for the automatic one) and an ``on_update``."""
    display = PhaseDisplay() if progress is True else (progress or None)
    if display and on_update:
        return lambda e: (display(e), on_update(e))  # type: ignore[func-returns-value]
    return display or on_update


class BrokerClient:
    """Requests offers, accepts one, follows the execution to its end and fetches what it produced.

    ``url`` defaults to ``$EB_URL``; ``token`` is a string, a callable (called again after a 401, so it
    can refresh) or ``None`` for ``$EB_TOKEN``. Threads waiting at once share ``max_long_polls``
    long-polls; the others queue for one (the broker caps them per user).
    """

    def __init__(self, url: str | None = None, token: TokenLike = None, *, timeout: float = 30.0,
                 max_long_polls: int = DEFAULT_MAX_LONG_POLLS, http: httpx.Client | None = None,
                 **httpx_options: Any) -> None:
        self.url = base_url(url)
        self.tokens = TokenSource(token)
        self._long_polls = threading.BoundedSemaphore(max_long_polls)
        self.http = http or httpx.Client(base_url=self.url, timeout=timeout, headers={"Accept": "application/json"},
                                         **httpx_options)
        self.http.auth = BearerAuth(self.tokens, httpx.URL(self.url))

    # Plumbing ----------------------------------------------------------------------------------

    def _send(self, call: dict[str, Any]) -> httpx.Response:
        # Redirects: the 303s of POST /offersets and /direct become GETs of the new resource.
        try:
            return self.http.send(self.http.build_request(**call), follow_redirects=True)
        except httpx.RemoteProtocolError:
            if not retry_safely(call):
                raise
            return self.http.send(self.http.build_request(**call), follow_redirects=True)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "BrokerClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Offers ------------------------------------------------------------------------------------

    def request_offers(self, request: RequestLike) -> OfferSet:
        """Asks for offers (a model, a dict, or YAML/JSON text) and follows the 303 to the offer set.

        A NO is returned, not raised: its ``messages`` say why; :meth:`OfferSet.pick` raises on it.
        """
        return calls.read_model(self._send(calls.offers_call(request)), OfferSet)

    def get_offer_set(self, uuid: str) -> OfferSet:
        return calls.read_model(self._send(calls.offer_set_call(uuid)), OfferSet)

    def offer(self, request: RequestLike, predicate: Callable[[Execution], bool] | None = None) -> Execution:
        """Requests offers and picks one (the first, or the first ``predicate`` likes); NoOffersError otherwise."""
        return self.request_offers(request).pick(predicate)

    def set_phase(self, target: str | Execution, phase: ClientPhase, refresh_token: str | None = None) -> Execution:
        return calls.read_model(self._send(calls.phase_call(target, phase, refresh_token)), Execution)

    def accept(self, offer: str | Execution, refresh_token: str | None = None) -> Execution:
        """Accepts an offer (the others of its set are rejected). A refresh token lets the broker renew
        the caller's token for work done on their behalf."""
        return self.set_phase(offer, "ACCEPTED", refresh_token)

    def reject(self, offer: str | Execution) -> Execution:
        return self.set_phase(offer, "REJECTED")

    def cancel(self, execution: str | Execution) -> Execution:
        return self.set_phase(execution, "CANCELLED")

    def direct(self, request: RequestLike, refresh_token: str | None = None) -> Execution:
        """Requests and accepts the first offer in one call (``POST /direct``); NoOffersError on a NO."""
        return calls.read_direct(self._send(calls.direct_call(request, refresh_token)))

    def run(self, request: RequestLike, *, timeout: float = DEFAULT_WAIT_S, progress: Progress = None,
            check: bool = False) -> Execution:
        """Requests offers, accepts the first and waits until the end: the notebook one-liner."""
        accepted = self.accept(self.offer(request))
        return self.wait_until_terminal(accepted, timeout=timeout, progress=progress, check=check)

    # Executions --------------------------------------------------------------------------------

    def get(self, target: str | Execution) -> Execution:
        return calls.read_model(self._send(calls.execution_call(target)), Execution)

    def _get_tagged(self, target: str | Execution, previous: calls.Tagged | None = None,
                         wait_s: int | None = None) -> calls.Tagged:
        etag = previous[1] if previous else None
        call = calls.execution_call(target, wait_s, etag)
        if not wait_s:
            return calls.read_tagged_execution(self._send(call), previous)
        # At most max_long_polls held at once from this client: the broker refuses more per user (429).
        with self._long_polls:
            return calls.read_tagged_execution(self._send(call), previous)

    def wait_for_phase(self, target: str | Execution, phases: str | Iterable[str], *, timeout: float = DEFAULT_WAIT_S,
                       on_update: OnUpdate | None = None, progress: Progress = None) -> Execution:
        """Waits until the execution is in one of ``phases``, by long-polls (``Prefer: wait``): the
        answer comes as soon as the phase changes. WaitTimeout after ``timeout`` seconds,
        PhaseNotReached when it ends in another phase."""
        wait = PhaseWait(phases, timeout, observer(progress, on_update))
        tagged = self._get_tagged(target)
        while not wait.seen(tagged[0]):
            try:
                tagged = self._get_tagged(target, tagged, wait.next_wait())
            except TooManyRequests as busy:
                # The broker caps the long-polls one user holds open; its Retry-After says when to go on.
                time.sleep(wait.backoff(busy.retry_after))
        return tagged[0]

    def wait_until_terminal(self, target: str | Execution, *, timeout: float = DEFAULT_WAIT_S,
                            on_update: OnUpdate | None = None, progress: Progress = None, check: bool = False) -> Execution:
        """Waits until the execution has ended; with ``check``, ExecutionFailed unless it COMPLETED."""
        done = self.wait_for_phase(target, TERMINAL_PHASES, timeout=timeout, on_update=on_update, progress=progress)
        if check and done.phase != "COMPLETED":
            raise ExecutionFailed(done)
        return done

    # Output and results ------------------------------------------------------------------------

    def read_stream(self, target: str | Execution, stream: Stream) -> str:
        # Always a fresh read: a connector's location appears once the platform has one.
        location = stream_location(self.get(target), stream)
        return calls.read_text(self._send({"method": "GET", "url": location, "headers": {"Accept": "text/plain"}}))

    def stdout(self, target: str | Execution) -> str:
        """What the executable wrote to standard output (OutputNotAvailable where the platform has no connector)."""
        return self.read_stream(target, "stdout")

    def stderr(self, target: str | Execution) -> str:
        return self.read_stream(target, "stderr")

    def download(self, url: str, path: str | os.PathLike[str]) -> Path:
        """Streams ``url`` (a connector's location, an access URL) to a file; ``path`` may be a directory.
        The token is sent only if the URL is the broker's own."""
        target = target_file(url, path)
        request = self.http.build_request("GET", url, headers={"Accept": "*/*"})
        response = self.http.send(request, stream=True, follow_redirects=True)
        try:
            if response.status_code >= 400:
                response.read()
                calls.checked(response)
            with AtomicFile(target) as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        finally:
            response.close()
        return target

    def save_outputs(self, target: str | Execution, directory: str | os.PathLike[str]) -> dict[str, Path]:
        """Writes the results to files in ``directory``: ``execution.json`` (the final document) and
        ``stdout.txt``/``stderr.txt`` where the platform serves them. Returns the files by name."""
        execution = self.get(target)
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        written = {"execution": folder / "execution.json"}
        with AtomicFile(written["execution"]) as out:
            out.write(execution.model_dump_json(by_alias=True, exclude_none=True, indent=2).encode())
        for stream in STREAMS:
            if has_stream(execution, stream):
                written[stream] = self.download(stream_location(execution, stream), folder / f"{stream}.txt")
        return written
