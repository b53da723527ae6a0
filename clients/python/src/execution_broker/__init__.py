"""Python client for the IVOA Execution Broker (Calycopis 1.0.7 API).

>>> from execution_broker import BrokerClient
>>> broker = BrokerClient()                          # $EB_URL and $EB_TOKEN    # doctest: +SKIP
>>> done = broker.run(open("request.yaml").read(), progress=True)                # doctest: +SKIP
"""

from . import kinds
from .aio import AsyncBrokerClient
from .auth import TokenSource
from .client import BrokerClient
from .errors import (
    BadRequest, BrokerError, Conflict, ExecutionFailed, Forbidden, NoOffersError, NotFound, OutputNotAvailable,
    PhaseNotReached, ProblemError, TooManyRequests, Unauthorized, Unprocessable, WaitTimeout,
)
from .models import *  # noqa: F403
from .models import __all__ as _models
from .progress import PhaseDisplay, render_html, render_text

__all__ = [
    "AsyncBrokerClient", "BadRequest", "BrokerClient", "BrokerError", "Conflict", "ExecutionFailed", "Forbidden",
    "NoOffersError", "NotFound", "OutputNotAvailable", "PhaseDisplay", "PhaseNotReached", "ProblemError",
    "TokenSource", "TooManyRequests", "Unauthorized", "Unprocessable", "WaitTimeout", "kinds", "render_html", "render_text", *_models,
]
