"""The broker's calls as request descriptions and answer readers, shared by the sync and async clients.

Each ``*_call`` function returns the keyword arguments of ``httpx.Client.build_request`` (the same for
``httpx.AsyncClient``); each ``read_*`` function turns an answer into models or raises the error it carries.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Mapping, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from .errors import NoOffersError, problem_error
from .models import EnumValueUpdate, Execution, ExecutionRequest, Problem

#: The broker holds a long-poll at most this long.
MAX_WAIT_S = 60
# Added to a long-poll's wait for the read timeout: the answer comes at the end of the wait at the latest.
_LONG_POLL_SLACK_S = 15.0

RequestLike = ExecutionRequest | Mapping[str, Any] | str


def retry_safely(call: Mapping[str, Any]) -> bool:
    """Whether a call whose connection closed before any answer may be sent once more.

    A kept-alive connection can be closed by the other end just as a request goes out on it; HTTP lets a
    client send an idempotent request again then (RFC 9110, 9.2.2). Reads are; offers and updates are
    not, so they are never sent twice.
    """
    return str(call.get("method", "GET")).upper() in ("GET", "HEAD")
M = TypeVar("M", bound=BaseModel)


def _body(request: RequestLike) -> tuple[bytes, str]:
    """JSON for models and mappings; text as YAML (which also covers JSON text)."""
    if isinstance(request, str):
        return request.encode(), "application/yaml"
    if isinstance(request, BaseModel):
        doc = request.model_dump(mode="json", by_alias=True, exclude_none=True)
    else:
        doc = dict(request)
    return json.dumps(doc).encode(), "application/json"


def uuid_of(target: str | Execution) -> str:
    """An execution's UUID, from the model or as given; quoted so it stays one path segment."""
    raw = target.uuid if isinstance(target, Execution) else str(target)
    return quote(raw, safe="")


def offers_call(request: RequestLike) -> dict[str, Any]:
    content, content_type = _body(request)
    return {"method": "POST", "url": "/offersets", "content": content, "headers": {"Content-Type": content_type}}


def direct_call(request: RequestLike, refresh_token: str | None = None) -> dict[str, Any]:
    content, content_type = _body(request)
    headers = {"Content-Type": content_type}
    if refresh_token:
        headers["X-Refresh-Token"] = refresh_token
    return {"method": "POST", "url": "/direct", "content": content, "headers": headers}


def offer_set_call(uuid: str) -> dict[str, Any]:
    return {"method": "GET", "url": f"/offersets/{quote(uuid, safe='')}"}


def long_poll_seconds(left_s: float) -> int:
    """The ``Prefer: wait`` to send with ``left_s`` seconds left: whole seconds, 1 to 60."""
    return max(1, min(MAX_WAIT_S, math.ceil(left_s)))


def execution_call(target: str | Execution, wait_s: int | None = None, etag: str | None = None) -> dict[str, Any]:
    """GET an execution; with ``wait_s`` a long-poll that answers as soon as the phase moves on from ``etag``."""
    call: dict[str, Any] = {"method": "GET", "url": f"/executions/{uuid_of(target)}"}
    if wait_s:
        headers = {"Prefer": f"wait={wait_s}"}
        if etag:
            headers["If-None-Match"] = etag
        call["headers"] = headers
        call["timeout"] = httpx.Timeout(10.0, read=wait_s + _LONG_POLL_SLACK_S, pool=None)
    return call


def phase_call(target: str | Execution, phase: str, refresh_token: str | None = None) -> dict[str, Any]:
    update = EnumValueUpdate(value=phase)
    headers = {"Content-Type": "application/json"}
    if refresh_token:
        headers["X-Refresh-Token"] = refresh_token
    return {"method": "POST", "url": f"/executions/{uuid_of(target)}", "content": json.dumps(update.to_json()).encode(), "headers": headers}


def _problem(response: httpx.Response) -> Problem:
    try:
        return Problem.model_validate(response.json())
    except (ValueError, ValidationError):
        return Problem(title=response.reason_phrase or "error", status=response.status_code, detail=response.text[:500])


def retry_after_s(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def checked(response: httpx.Response) -> httpx.Response:
    """The response, or the :class:`ProblemError` its 4xx/5xx status and problem document make."""
    if response.status_code >= 400:
        raise problem_error(response.status_code, _problem(response), str(response.request.url),
                            retry_after_s(response.headers.get("retry-after")))
    return response


def read_model(response: httpx.Response, model: type[M]) -> M:
    return model.model_validate(checked(response).json())


Tagged = tuple[Execution, str | None]


def read_tagged_execution(response: httpx.Response, previous: Tagged | None = None) -> Tagged:
    """The execution and its ETag (changes with every phase change; for the next long-poll).

    A long-poll that ends with no change answers 304 Not Modified to ``If-None-Match``: the
    execution is then still the ``previous`` one.
    """
    if response.status_code == 304 and previous is not None:
        return previous
    return read_model(response, Execution), response.headers.get("etag")


def read_direct(response: httpx.Response) -> Execution:
    """``POST /direct`` answers 400 with the offer set's messages when no offer could be made."""
    if response.status_code == 400:
        problem = _problem(response)
        if problem.messages is not None:
            offer_set = getattr(problem, "offerset", None)
            uuid = str(offer_set).rstrip("/").rsplit("/", 1)[-1] if offer_set else None
            raise NoOffersError(uuid, problem.messages, problem)
    return read_model(response, Execution)


def read_text(response: httpx.Response) -> str:
    return checked(response).text
