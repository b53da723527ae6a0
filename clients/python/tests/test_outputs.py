"""Results as files: the execution document, output streams where the platform serves them, downloads."""

from __future__ import annotations

import asyncio
import json
import os

import pytest

from execution_broker import AsyncBrokerClient, BrokerClient, Execution, NotFound, OutputNotAvailable
from file_server import serving
from request_docs import simulated


OUTPUT = {"SIMULATED_STDOUT": "flux 12.5 mJy\nno such thing as 'hostile' <html>\n", "SIMULATED_STDERR": "warning: dusty\n"}


def test_save_outputs_writes_the_final_execution_and_its_output(client: BrokerClient, tmp_path) -> None:
    done = client.run(simulated(OUTPUT), timeout=30)
    written = client.save_outputs(done.uuid, tmp_path / "results")
    assert set(written) == {"execution", "stdout", "stderr"}
    saved = Execution.model_validate(json.loads(written["execution"].read_text()))
    assert saved.uuid == done.uuid and saved.phase == "COMPLETED"
    assert saved.history() == done.history()
    assert written["stdout"].read_text() == OUTPUT["SIMULATED_STDOUT"]
    assert written["stderr"].read_text() == OUTPUT["SIMULATED_STDERR"]
    assert sorted(os.listdir(tmp_path / "results")) == ["execution.json", "stderr.txt", "stdout.txt"]


def test_stdout_and_stderr_from_the_session_connectors(client: BrokerClient, recorder) -> None:
    done = client.run(simulated(OUTPUT), timeout=30)
    assert client.stdout(done) == OUTPUT["SIMULATED_STDOUT"]
    assert client.stderr(done.uuid) == OUTPUT["SIMULATED_STDERR"]
    read = [url for (m, url, _, status) in recorder.exchanges if url.endswith("-get")]
    assert read == [f"{client.url}/sessions/{done.uuid}/docker/stdout-get", f"{client.url}/sessions/{done.uuid}/docker/stderr-get"]


def test_stdout_and_stderr_with_the_async_client(broker) -> None:
    async def go() -> tuple[str, str]:
        async with AsyncBrokerClient(broker.url, broker.token) as client:
            done = await client.run(simulated(OUTPUT), timeout=30)
            return await client.stdout(done), await client.stderr(done)

    assert asyncio.run(go()) == (OUTPUT["SIMULATED_STDOUT"], OUTPUT["SIMULATED_STDERR"])


def test_stdout_before_the_work_runs_says_so(client: BrokerClient) -> None:
    offer = client.offer(simulated())
    with pytest.raises(OutputNotAvailable) as caught:
        client.stdout(offer)
    assert "stdout" in str(caught.value) and offer.uuid in str(caught.value)
    client.reject(offer)


def test_download_to_a_directory_or_a_file(client: BrokerClient, tmp_path) -> None:
    files = {"/out/table.csv": b"ra,dec\n10.1,-5.2\n", "/": b"climb"}
    with serving(files) as host:
        into_dir = client.download(f"{host.url}/out/table.csv", tmp_path)
        named = client.download(f"{host.url}/out/table.csv", tmp_path / "sub" / "mine.csv")
        # A name from the server cannot take the file out of the chosen directory.
        climbed = client.download(f"{host.url}/..", tmp_path)
    assert into_dir == tmp_path / "table.csv" and into_dir.read_bytes() == files["/out/table.csv"]
    assert named.read_bytes() == files["/out/table.csv"]
    assert climbed == tmp_path / "download" and climbed.read_bytes() == b"climb"


def test_a_failed_download_leaves_no_file(client: BrokerClient, tmp_path) -> None:
    with pytest.raises(NotFound):
        client.download(f"{client.url}/executions/00000000-0000-4000-8000-000000000000", tmp_path / "x.json")
    assert list(tmp_path.iterdir()) == []
