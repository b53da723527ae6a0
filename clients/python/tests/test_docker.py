"""A real container on the Docker platform: a batch run, and an interactive one whose results are
downloaded as files from its published port. Skipped when no Docker engine answers."""

from __future__ import annotations

import uuid

import pytest

from broker_processes import docker_answers
from execution_broker import (
    BrokerClient, DockerContainer, DockerImage, DockerInternalPort, DockerNetwork, DockerPort, ExecutionRequest,
    MinMax, SimpleComputeResource,
)

pytestmark = pytest.mark.skipif(not docker_answers(), reason="no Docker engine answers")
TEST_IMAGE = "eb-test/busybox:1"


def container(image_id: str, command: list[str], ports: list[DockerPort] | None = None, name: str = "py-docker") -> ExecutionRequest:
    return ExecutionRequest(
        executable=DockerContainer(meta={"name": name}, image=DockerImage(locations=[TEST_IMAGE], digest=image_id),
                                   command=command, network=DockerNetwork(ports=ports) if ports else None),
        compute=SimpleComputeResource(cores=MinMax(min=1, max=1), memory=MinMax(min=1, max=1)),
    ).with_duration("PT2M")


def test_a_batch_container_runs_to_completed(docker_broker) -> None:
    broker, image_id, data = docker_broker
    with BrokerClient(broker.url, broker.token) as client:
        done = client.run(container(image_id, ["sh", "-c", "echo to-out; echo to-err >&2"]), timeout=90, check=True)
    exit_message = next(m for m in done.component_messages() if m.kind == "urn:exit-code")
    assert "to-out" in str(exit_message.values)
    assert list(data.iterdir()) == []


def test_an_interactive_containers_results_download_as_files(docker_broker, tmp_path) -> None:
    broker, image_id, _ = docker_broker
    marker = f"result {uuid.uuid4()}"
    serve = ["sh", "-c", f"mkdir -p /tmp/www && echo '{marker}' > /tmp/www/result.txt && exec httpd -f -p 8000 -h /tmp/www"]
    port = DockerPort(access=True, internal=DockerInternalPort(port=8000), protocol="HTTP")
    with BrokerClient(broker.url, broker.token) as client:
        running = client.accept(client.offer(container(image_id, serve, [port], name="py-httpd")))
        try:
            available = client.wait_for_phase(running, "AVAILABLE", timeout=90)
            (url,) = available.access_urls
            assert url.startswith("http://127.0.0.1:")
            saved = client.download(url + "result.txt", tmp_path)
            assert saved == tmp_path / "result.txt" and saved.read_text() == marker + "\n"
        finally:
            client.cancel(running)
        assert client.wait_until_terminal(running, timeout=60).phase == "CANCELLED"


def test_stdout_and_stderr_of_a_container(docker_broker, tmp_path) -> None:
    broker, image_id, _ = docker_broker
    with BrokerClient(broker.url, broker.token) as client:
        done = client.run(container(image_id, ["sh", "-c", "echo to-out; echo to-err >&2"]), timeout=90, check=True)
        assert client.stdout(done) == "to-out\n"
        assert client.stderr(done) == "to-err\n"
        written = client.save_outputs(done, tmp_path)
    assert written["stdout"].read_text() == "to-out\n" and written["stderr"].read_text() == "to-err\n"


def test_stdout_with_the_async_client(docker_broker) -> None:
    import asyncio

    from execution_broker import AsyncBrokerClient

    broker, image_id, _ = docker_broker

    async def go() -> tuple[str, str]:
        async with AsyncBrokerClient(broker.url, broker.token) as client:
            done = await client.run(container(image_id, ["sh", "-c", "echo out-async; echo err-async >&2"]), timeout=90)
            return await client.stdout(done), await client.stderr(done)

    assert asyncio.run(go()) == ("out-async\n", "err-async\n")
