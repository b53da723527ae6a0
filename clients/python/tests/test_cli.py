"""``ebpy``, the command line of the Python client, as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

from request_docs import yaml_text

EBPY = Path(sys.executable).parent / "ebpy"


def ebpy(broker, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EB_URL": broker.url, "EB_TOKEN": broker.token}
    return subprocess.run([str(EBPY), *args], capture_output=True, text=True, env=env, timeout=90)


def test_run_watches_to_completed(broker, tmp_path) -> None:
    request = tmp_path / "request.yaml"
    request.write_text(yaml_text({"SIMULATED_PREPARE_MS": "30"}))
    r = ebpy(broker, "run", str(request), "--timeout", "60")
    assert (r.returncode, r.stderr) == (0, "")
    uuid_ = re.search(r"accepting ([0-9a-f-]{36})", r.stdout).group(1)
    shown = re.findall(r"\[\d\d:\d\d\.\d\] ([A-Z]+)", r.stdout)
    assert shown[-4:] == ["PREPARING", "AVAILABLE", "RELEASING", "COMPLETED"]
    assert f"execution {uuid_}: COMPLETED" in r.stdout
    saved = ebpy(broker, "save", uuid_, str(tmp_path / "out"))
    assert saved.returncode == 0 and (tmp_path / "out" / "execution.json").exists()


def test_offers_accept_watch_and_a_failing_run(broker, tmp_path) -> None:
    request = tmp_path / "request.yaml"
    request.write_text(yaml_text({"SIMULATED_EXIT_CODE": "4"}))
    offers = ebpy(broker, "offers", str(request))
    assert offers.returncode == 0 and "YES" in offers.stdout
    first = re.search(r"^  ([0-9a-f-]{36}) ", offers.stdout, re.M).group(1)
    # A fast worker may have moved it on before the answer was rendered.
    accepted = ebpy(broker, "accept", first).stdout
    assert re.search(rf"execution {first}: (ACCEPTED|WAITING|PREPARING|AVAILABLE)", accepted), accepted
    watched = ebpy(broker, "watch", first, "--timeout", "60")
    assert watched.returncode == 1 and f"execution {first}: FAILED" in watched.stdout
    assert '"phase": "FAILED"' in ebpy(broker, "get", first, "--json").stdout


def test_a_no_prints_the_messages_and_errors_exit_non_zero(broker, tmp_path) -> None:
    request = tmp_path / "bad.yaml"
    request.write_text(yaml_text(digest=False))
    r = ebpy(broker, "offers", str(request))
    assert r.returncode == 1 and "Missing value [executable.image.digest]" in r.stdout
    missing = ebpy(broker, "get", str(uuid.uuid4()))
    assert missing.returncode == 1 and "404 Not Found" in missing.stderr
    assert ebpy(broker, "frobnicate").returncode == 2
    # The module runs the same command line.
    module = subprocess.run([sys.executable, "-m", "execution_broker", "--help"], capture_output=True, text=True)
    assert module.returncode == 0 and "stdout" in module.stdout
