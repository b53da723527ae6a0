"""Bearer tokens: from the environment, a fixed string, or a callable that fetches a fresh one.

A token goes only to the broker's own origin: a download from another host (a data service, a
container's published port elsewhere) is made without it.
"""

from __future__ import annotations

import inspect
import os
import threading
from typing import Any, AsyncGenerator, Awaitable, Callable, Generator, Union

import httpx

#: What the clients take as ``token``: a string, a callable returning one (called again after a 401,
#: so it can refresh), or ``None`` for the ``EB_TOKEN`` environment variable.
TokenLike = Union[str, Callable[[], Union[str, Awaitable[str]]], None]

TOKEN_ENV = "EB_TOKEN"


class TokenSource:
    """Holds the current token and knows how to get another after the broker refused it."""

    def __init__(self, token: TokenLike = None, env: str = TOKEN_ENV) -> None:
        self._fetch = token if callable(token) else None
        self._fixed = token if isinstance(token, str) else None
        self._env = env if token is None else None
        self._current: str | None = None
        self._lock = threading.Lock()

    def current(self) -> str | None:
        """The token to send now (fetched once, on first use, from a callable)."""
        if self._fixed is not None:
            return self._fixed
        if self._env is not None:
            return os.environ.get(self._env) or None
        with self._lock:
            if self._current is None:
                self._current = self._call()
            return self._current

    def refresh(self, refused: str | None) -> bool:
        """After a 401 for ``refused``: True when there is now another token worth a retry."""
        if self._fetch is None:
            # The environment may have been updated since (e.g. a notebook cell set a new token).
            return self._env is not None and (os.environ.get(self._env) or None) != refused
        with self._lock:
            if self._current == refused:
                self._current = self._call()
            return self._current != refused

    def _call(self) -> str:
        value = self._fetch()  # type: ignore[misc]
        if inspect.isawaitable(value):
            raise TypeError("an async token callable needs AsyncBrokerClient")
        return str(value)

    # The async client awaits a coroutine callable; the lock is only held around the swap.
    async def current_async(self) -> str | None:
        if self._fetch is None:
            return self.current()
        if self._current is None:
            fresh = await self._acall()
            with self._lock:
                self._current = self._current or fresh
        return self._current

    async def refresh_async(self, refused: str | None) -> bool:
        if self._fetch is None:
            return self.refresh(refused)
        if self._current == refused:
            fresh = await self._acall()
            with self._lock:
                if self._current == refused:
                    self._current = fresh
        return self._current != refused

    async def _acall(self) -> str:
        value: Any = self._fetch()  # type: ignore[misc]
        if inspect.isawaitable(value):
            value = await value
        return str(value)


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


class BearerAuth(httpx.Auth):
    """Adds the token to requests for the broker, and after a 401 refreshes it and retries once."""

    def __init__(self, source: TokenSource, broker: httpx.URL) -> None:
        self.source = source
        self.broker = broker

    def _applies(self, request: httpx.Request) -> bool:
        return _same_origin(request.url, self.broker)

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if not self._applies(request):
            yield request
            return
        token = self._set(request, self.source.current())
        response = yield request
        if response.status_code == 401 and self.source.refresh(token):
            self._set(request, self.source.current())
            yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self._applies(request):
            yield request
            return
        token = self._set(request, await self.source.current_async())
        response = yield request
        if response.status_code == 401 and await self.source.refresh_async(token):
            self._set(request, await self.source.current_async())
            yield request

    @staticmethod
    def _set(request: httpx.Request, token: str | None) -> str | None:
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        else:
            request.headers.pop("Authorization", None)
        return token
