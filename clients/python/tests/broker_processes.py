"""Runs the real broker for the tests: the compiled services as processes, on free loopback ports.

As tests/support/processes.ts does for the TypeScript tests: offerset-api, execution-api,
platform-worker and HAProxy in front (deploy/haproxy/haproxy.cfg, as local mode runs it), against the test database and Redis of ``.local/env``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("offerset-api", "execution-api", "platform-worker")
HAPROXY_CONFIG = ROOT / "deploy" / "haproxy" / "haproxy.cfg"


def local_env() -> dict[str, str]:
    """TEST_DATABASE_URL and REDIS_URL: from the environment (scripts/test.sh exports them) or .local/env."""
    found: dict[str, str] = {}
    env_file = ROOT / ".local" / "env"
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            if line.startswith("export ") and "=" in line:
                key, value = line[len("export "):].split("=", 1)
                found[key] = value.strip().strip("'\"")
    for key in ("TEST_DATABASE_URL", "REDIS_URL"):
        if os.environ.get(key):
            found[key] = os.environ[key]
    if "TEST_DATABASE_URL" not in found:
        raise RuntimeError("TEST_DATABASE_URL is not set: run the tests through scripts/test.sh")
    found.setdefault("REDIS_URL", "redis://127.0.0.1:6379")
    return found


def node() -> str:
    path = shutil.which("node")
    if not path:
        raise RuntimeError("node is not on PATH")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def migrate(database_url: str) -> None:
    subprocess.run([node(), str(ROOT / "packages/db/dist/src/migrate-cli.js")], check=True, capture_output=True,
                   env={**os.environ, "DATABASE_URL": database_url}, timeout=60)


def write_tokens(path: Path, tokens: dict[str, dict]) -> Path:
    path.write_text(json.dumps(tokens))
    path.chmod(0o600)
    return path


@dataclass
class Broker:
    url: str
    token: str
    other_token: str
    logs: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for f in sorted(self.logs.glob("*.log")):
            out.append(f"--- {f.name}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(out)


def start_broker(workdir: Path, settings: dict[str, str]) -> Broker:
    """Starts the four services with ``settings`` (platform, timings) and waits until each is ready."""
    base = local_env()
    migrate(base["TEST_DATABASE_URL"])
    token, other = f"py-{uuid.uuid4()}", f"py-other-{uuid.uuid4()}"
    tokens = write_tokens(workdir / "tokens.json", {token: {"subject": "py-user"}, other: {"subject": "py-other"}})
    suffix = uuid.uuid4().hex[:8]
    ports = {name: free_port() for name in (*SERVICES, "load-balancer", "lb-admin")}
    env = {
        **os.environ,
        "DATABASE_URL": base["TEST_DATABASE_URL"], "REDIS_URL": base["REDIS_URL"],
        "EB_QUEUE_PREFIX": f"pytest-{suffix}", "EB_PLATFORM_NAME": f"pytest-{suffix}",
        "EB_STATIC_TOKENS_FILE": str(tokens), "HOST": "127.0.0.1", "LOG_LEVEL": "warn",
        **settings,
    }
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    broker = Broker(f"http://127.0.0.1:{ports['load-balancer']}", token, other, logs)
    for name in SERVICES:
        with open(logs / f"{name}.log", "wb") as log:
            broker.processes.append(subprocess.Popen(
                [node(), str(ROOT / f"services/{name}/dist/src/main.js")],
                env={**env, "PORT": str(ports[name])}, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            ))
    lb_env = {
        **os.environ, "PATH": f"{os.environ.get('PATH', '/usr/bin:/bin')}:/usr/sbin:/sbin",
        "EB_LB_BIND": f"127.0.0.1:{ports['load-balancer']}", "EB_LB_ADMIN_BIND": f"127.0.0.1:{ports['lb-admin']}",
        "EB_OFFERSET_API_1": f"127.0.0.1:{ports['offerset-api']}", "EB_EXECUTION_API_1": f"127.0.0.1:{ports['execution-api']}",
    }
    with open(logs / "load-balancer.log", "wb") as log:
        broker.processes.append(subprocess.Popen(
            ["haproxy", "-W", "-db", "-f", str(HAPROXY_CONFIG)], env=lb_env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        ))
    try:
        for name, process in zip((*SERVICES, "load-balancer"), broker.processes):
            _ready(name, process, f"http://127.0.0.1:{ports[name]}/readyz")
    except Exception:
        broker.stop()
        raise RuntimeError(f"the broker did not start:\n{broker.log_tail()}")
    return broker


# Generous: on a machine shared with other test runs a service can take long to start.
def _ready(name: str, process: subprocess.Popen, url: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} was not ready within {timeout_s} s")


def docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=30).returncode == 0


def ensure_test_image() -> str:
    """The test image (Debian's static busybox), built by the TypeScript tests' own helper; its id."""
    helper = (ROOT / "tests/dist/support/docker-image.js").as_uri()
    script = f"import {{ ensureTestImage }} from '{helper}'; console.log(ensureTestImage());"
    out = subprocess.run([node(), "--input-type=module", "-e", script], check=True, capture_output=True, text=True, timeout=120)
    return out.stdout.strip()
