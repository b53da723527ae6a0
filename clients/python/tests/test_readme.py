"""The README's quick start runs as written, against the running broker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_quick_start_runs(broker, tmp_path) -> None:
    first = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    script = tmp_path / "quickstart.py"
    script.write_text(first)
    env = {**os.environ, "EB_URL": broker.url, "EB_TOKEN": broker.token}
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "COMPLETED"
    assert "[" in r.stderr and "COMPLETED" in r.stderr.splitlines()[-1]
    assert (tmp_path / "results" / "execution.json").exists()
