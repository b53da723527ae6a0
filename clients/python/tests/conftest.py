"""Fixtures: one real broker on the simulated platform for the whole session, and clients for it."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from broker_processes import Broker, start_broker
from execution_broker import BrokerClient

# Short simulated phases, and a worker that looks often: a whole lifecycle takes about a second.
SIMULATED = {
    "EB_PLATFORM": "simulated", "EB_CAPACITY_CORES": "512", "EB_CAPACITY_MEMORY_GIB": "1024",
    "EB_SIM_PREPARE": "300", "EB_SIM_RUN": "300", "EB_SIM_RELEASE": "100", "EB_POLL_MIN": "50", "EB_POLL_MAX": "200",
    "EB_PREPARE_ESTIMATE": "PT1S", "EB_RELEASE_ESTIMATE": "PT1S",
}


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    running = start_broker(tmp_path_factory.mktemp("broker"), SIMULATED)
    yield running
    running.stop()


class Recorder:
    """Every exchange a client had: (method, url, request headers, status), for asserting on the wire."""

    def __init__(self) -> None:
        self.exchanges: list[tuple[str, str, httpx.Headers, int]] = []

    def hook(self, response: httpx.Response) -> None:
        r = response.request
        # A copy: a retried request is the same object with its headers changed.
        self.exchanges.append((r.method, str(r.url), httpx.Headers(r.headers), response.status_code))

    async def ahook(self, response: httpx.Response) -> None:
        self.hook(response)

    def statuses(self) -> list[int]:
        return [e[3] for e in self.exchanges]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(broker: Broker, recorder: Recorder) -> Iterator[BrokerClient]:
    with BrokerClient(broker.url, broker.token) as c:
        c.http.event_hooks["response"].append(recorder.hook)
        yield c
