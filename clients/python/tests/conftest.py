"""Fixtures: one real broker on the simulated platform for the whole session, and clients for it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from broker_processes import Broker, docker_answers, ensure_test_image, start_broker
from execution_broker import BrokerClient

# Short simulated phases, and a worker that looks often: a whole lifecycle takes about a second.
SIMULATED = {
    "EB_PLATFORM": "simulated", "EB_CAPACITY_CORES": "512", "EB_CAPACITY_MEMORY_GIB": "1024",
    "EB_SIM_PREPARE": "300", "EB_SIM_RUN": "300", "EB_SIM_RELEASE": "100", "EB_POLL_MIN": "50", "EB_POLL_MAX": "200",
    "EB_PREPARE_ESTIMATE": "PT1S", "EB_RELEASE_ESTIMATE": "PT1S",
}


DOCKER = {"EB_PLATFORM": "docker", "EB_DOCKER_PULL": "false", "EB_PREPARE_ESTIMATE": "PT5S", "EB_RELEASE_ESTIMATE": "PT5S",
          "EB_POLL_MIN": "100", "EB_POLL_MAX": "500"}


class DockerBrokerStart:
    """The Docker platform's broker, started in the background while the simulated tests run."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.outcome: tuple[Broker, str, Path] | BaseException | None = None
        self.thread = threading.Thread(target=self._start, daemon=True)
        self.thread.start()

    def _start(self) -> None:
        try:
            image_id = ensure_test_image()
            data = self.work / "data"
            data.mkdir()
            self.outcome = (start_broker(self.work, {**DOCKER, "EB_DOCKER_DATA_DIR": str(data)}), image_id, data)
        except BaseException as err:  # handed to the tests that need it
            self.outcome = err

    def result(self) -> tuple[Broker, str, Path]:
        self.thread.join()
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        assert self.outcome is not None
        return self.outcome


@pytest.fixture(scope="session")
def docker_start(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerBrokerStart | None]:
    wanted = any("docker_broker" in item.fixturenames for item in request.session.items)
    start = DockerBrokerStart(tmp_path_factory.mktemp("docker-broker")) if wanted and docker_answers() else None
    yield start
    if start is not None:
        start.thread.join()
        if isinstance(start.outcome, tuple):
            start.outcome[0].stop()


_broker_failure: list[BaseException] = []


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory, docker_start: DockerBrokerStart | None) -> Iterator[Broker]:
    # pytest sets up a failed session fixture again for every test: fail the others at once instead.
    if _broker_failure:
        raise RuntimeError("the broker did not start (see the first error)") from _broker_failure[0]
    try:
        running = start_broker(tmp_path_factory.mktemp("broker"), SIMULATED)
    except BaseException as err:
        _broker_failure.append(err)
        raise
    yield running
    running.stop()


@pytest.fixture(scope="session")
def docker_broker(docker_start: DockerBrokerStart | None) -> tuple[Broker, str, Path]:
    """(broker, test image id, its data directory) on the Docker platform."""
    if docker_start is None:
        pytest.skip("no Docker engine answers")
    return docker_start.result()


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
