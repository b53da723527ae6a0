"""The asyncio client: the same calls as :class:`BrokerClient`, for many executions at once.

>>> async with AsyncBrokerClient() as broker:                                  # doctest: +SKIP
...     offers = await asyncio.gather(*(broker.offer(r) for r in requests))
...     done = await asyncio.gather(*(broker.wait_until_terminal(await broker.accept(o)) for o in offers))
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Callable, Iterable

import httpx

from . import calls
from .auth import BearerAuth, TokenLike, TokenSource
from .calls import RequestLike, retry_safely
from .client import DEFAULT_MAX_LONG_POLLS, DEFAULT_WAIT_S, Progress, base_url, observer
from .errors import ExecutionFailed, TooManyRequests
from .models import TERMINAL_PHASES, ClientPhase, Execution, OfferSet
from .outputs import STREAMS, AtomicFile, Stream, has_stream, stream_location, target_file
from .waiting import OnUpdate, PhaseWait


class AsyncBrokerClient:
    """``token`` may also be an async callable. At most ``max_long_polls`` waits hold a long-poll at
    once (the broker caps them per user); the others queue for one, in order."""

    def __init__(self, url: str | None = None, token: TokenLike = None, *, timeout: float = 30.0,
                 max_long_polls: int = DEFAULT_MAX_LONG_POLLS, max_connections: int = 200,
                 http: httpx.AsyncClient | None = None, **httpx_options: Any) -> None:
        self.url = base_url(url)
        self.tokens = TokenSource(token)
        self._long_polls = asyncio.Semaphore(max_long_polls)
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self.http = http or httpx.AsyncClient(base_url=self.url, timeout=timeout, limits=limits,
                                              headers={"Accept": "application/json"}, **httpx_options)
        self.http.auth = BearerAuth(self.tokens, httpx.URL(self.url))

    async def _send(self, call: dict[str, Any]) -> httpx.Response:
        try:
            return await self.http.send(self.http.build_request(**call), follow_redirects=True)
        except httpx.RemoteProtocolError:
            if not retry_safely(call):
                raise
            return await self.http.send(self.http.build_request(**call), follow_redirects=True)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> "AsyncBrokerClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # Offers ------------------------------------------------------------------------------------

    async def request_offers(self, request: RequestLike) -> OfferSet:
        return calls.read_model(await self._send(calls.offers_call(request)), OfferSet)

    async def get_offer_set(self, uuid: str) -> OfferSet:
        return calls.read_model(await self._send(calls.offer_set_call(uuid)), OfferSet)

    async def offer(self, request: RequestLike, predicate: Callable[[Execution], bool] | None = None) -> Execution:
        return (await self.request_offers(request)).pick(predicate)

    async def set_phase(self, target: str | Execution, phase: ClientPhase, refresh_token: str | None = None) -> Execution:
        return calls.read_model(await self._send(calls.phase_call(target, phase, refresh_token)), Execution)

    async def accept(self, offer: str | Execution, refresh_token: str | None = None) -> Execution:
        return await self.set_phase(offer, "ACCEPTED", refresh_token)

    async def reject(self, offer: str | Execution) -> Execution:
        return await self.set_phase(offer, "REJECTED")

    async def cancel(self, execution: str | Execution) -> Execution:
        return await self.set_phase(execution, "CANCELLED")

    async def direct(self, request: RequestLike, refresh_token: str | None = None) -> Execution:
        return calls.read_direct(await self._send(calls.direct_call(request, refresh_token)))

    async def run(self, request: RequestLike, *, timeout: float = DEFAULT_WAIT_S, progress: Progress = None,
                  check: bool = False) -> Execution:
        accepted = await self.accept(await self.offer(request))
        return await self.wait_until_terminal(accepted, timeout=timeout, progress=progress, check=check)

    # Executions --------------------------------------------------------------------------------

    async def get(self, target: str | Execution) -> Execution:
        return calls.read_model(await self._send(calls.execution_call(target)), Execution)

    async def _get_tagged(self, target: str | Execution, previous: calls.Tagged | None = None,
                         wait_s: int | None = None) -> calls.Tagged:
        etag = previous[1] if previous else None
        call = calls.execution_call(target, wait_s, etag)
        if not wait_s:
            return calls.read_tagged_execution(await self._send(call), previous)
        # At most max_long_polls held at once from this client: the broker refuses more per user (429).
        async with self._long_polls:
            return calls.read_tagged_execution(await self._send(call), previous)

    async def wait_for_phase(self, target: str | Execution, phases: str | Iterable[str], *, timeout: float = DEFAULT_WAIT_S,
                             on_update: OnUpdate | None = None, progress: Progress = None) -> Execution:
        wait = PhaseWait(phases, timeout, observer(progress, on_update))
        tagged = await self._get_tagged(target)
        while not wait.seen(tagged[0]):
            try:
                tagged = await self._get_tagged(target, tagged, wait.next_wait())
            except TooManyRequests as busy:
                # The broker caps the long-polls one user holds open; its Retry-After says when to go on.
                await asyncio.sleep(wait.backoff(busy.retry_after))
        return tagged[0]

    async def wait_until_terminal(self, target: str | Execution, *, timeout: float = DEFAULT_WAIT_S,
                                  on_update: OnUpdate | None = None, progress: Progress = None, check: bool = False) -> Execution:
        done = await self.wait_for_phase(target, TERMINAL_PHASES, timeout=timeout, on_update=on_update, progress=progress)
        if check and done.phase != "COMPLETED":
            raise ExecutionFailed(done)
        return done

    # Output and results ------------------------------------------------------------------------

    async def read_stream(self, target: str | Execution, stream: Stream) -> str:
        location = stream_location(await self.get(target), stream)
        return calls.read_text(await self._send({"method": "GET", "url": location, "headers": {"Accept": "text/plain"}}))

    async def stdout(self, target: str | Execution) -> str:
        return await self.read_stream(target, "stdout")

    async def stderr(self, target: str | Execution) -> str:
        return await self.read_stream(target, "stderr")

    async def download(self, url: str, path: str | os.PathLike[str]) -> Path:
        target = target_file(url, path)
        request = self.http.build_request("GET", url, headers={"Accept": "*/*"})
        response = await self.http.send(request, stream=True, follow_redirects=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                calls.checked(response)
            with AtomicFile(target) as out:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
        finally:
            await response.aclose()
        return target

    async def save_outputs(self, target: str | Execution, directory: str | os.PathLike[str]) -> dict[str, Path]:
        execution = await self.get(target)
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        written = {"execution": folder / "execution.json"}
        with AtomicFile(written["execution"]) as out:
            out.write(execution.model_dump_json(by_alias=True, exclude_none=True, indent=2).encode())
        for stream in STREAMS:
            if has_stream(execution, stream):
                written[stream] = await self.download(stream_location(execution, stream), folder / f"{stream}.txt")
        return written
