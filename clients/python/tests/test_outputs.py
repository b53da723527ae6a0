"""Results as files: the execution document, output streams where the platform serves them, downloads."""

from __future__ import annotations

import json
import os

import pytest

from execution_broker import BrokerClient, Execution, NotFound, OutputNotAvailable
from file_server import serving
from request_docs import simulated


def test_save_outputs_writes_the_final_execution(client: BrokerClient, tmp_path) -> None:
    done = client.run(simulated(), timeout=30)
    written = client.save_outputs(done.uuid, tmp_path / "results")
    # The simulated platform has no output connectors: only the document is written.
    assert set(written) == {"execution"}
    saved = Execution.model_validate(json.loads(written["execution"].read_text()))
    assert saved.uuid == done.uuid and saved.phase == "COMPLETED"
    assert saved.history() == done.history()
    assert os.listdir(tmp_path / "results") == ["execution.json"]


def test_stdout_without_a_connector_says_so(client: BrokerClient) -> None:
    done = client.run(simulated(), timeout=30)
    with pytest.raises(OutputNotAvailable) as caught:
        client.stdout(done)
    assert "stdout" in str(caught.value) and done.uuid in str(caught.value)


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
