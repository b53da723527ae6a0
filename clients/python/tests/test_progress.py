"""The notebook progress display: text lines outside a notebook, HTML inside (rendering tested here)."""

from __future__ import annotations

import io
import re

from execution_broker import BrokerClient, PhaseDisplay, render_html, render_text
from execution_broker.progress import in_notebook
from request_docs import simulated, without_digest

LINE = re.compile(r"^\[(\d\d):(\d\d\.\d)\] ([A-Z]+)")


def test_text_display_shows_each_phase_once_in_order(client: BrokerClient) -> None:
    # Preparation shorter than a long-poll round trip: the display still shows it, from the history.
    accepted = client.accept(client.offer(simulated({"SIMULATED_PREPARE_MS": "30"})))
    out = io.StringIO()
    display = PhaseDisplay(out, notebook=False)
    done = client.wait_until_terminal(accepted, timeout=30, progress=display)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"execution {done.uuid}"
    phases = [LINE.match(l).group(3) for l in lines[1:]]
    assert phases == [c.phase for c in done.history()]
    assert phases[-4:] == ["PREPARING", "AVAILABLE", "RELEASING", "COMPLETED"]
    times = [int(LINE.match(l).group(1)) * 60 + float(LINE.match(l).group(2)) for l in lines[1:]]
    assert times == sorted(times)
    assert display.last is not None and display.last.phase == "COMPLETED"


def test_render_text_of_a_failed_execution_carries_the_reason(client: BrokerClient) -> None:
    done = client.run(simulated({"SIMULATED_EXIT_CODE": "7"}), timeout=30)
    lines = render_text(done)
    assert LINE.match(lines[-1]).group(3) == "FAILED"
    assert lines[0].startswith("[00:00.0] ")


def test_html_rendering_escapes_what_the_request_said(client: BrokerClient) -> None:
    hostile = '<script>alert("x")</script>'
    done = client.run(simulated(name=hostile), timeout=30)
    html = done._repr_html_()
    assert html == render_html(done)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert done.uuid in html and ">COMPLETED<" in html
    assert html.count("<tr>") == len(done.history()) + 1


def test_offer_set_html_lists_offers_or_the_messages_of_a_no(client: BrokerClient) -> None:
    yes = client.request_offers(simulated())
    html = yes._repr_html_()
    assert all(o.uuid in html for o in yes.offers)
    assert html.count("<tr>") == len(yes.offers) + 1
    no = client.request_offers(without_digest())
    assert "urn:missing-value" in no._repr_html_() and "<table>" not in no._repr_html_()


def test_outside_a_kernel_the_display_is_text() -> None:
    assert in_notebook() is False
    assert PhaseDisplay().notebook is False


# Runs in its own process: an IPython shell takes over the interpreter's display hooks.
NOTEBOOK_SCRIPT = r'''
import json, sys
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from execution_broker import BrokerClient, PhaseDisplay
sys.path.insert(0, sys.argv[1])
from request_docs import simulated


class Recorded(DisplayPublisher):
    """What the notebook front end would receive: each display's data, its display id, and whether it updates."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.sent = []

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw):
        self.sent.append({"html": data.get("text/html"), "id": (transient or {}).get("display_id"), "update": update})


shell = InteractiveShell.instance()
shell.display_pub = Recorded(shell=shell)
with BrokerClient() as broker:
    done = broker.run(simulated(), timeout=30, progress=PhaseDisplay(notebook=True))
print(json.dumps({"uuid": done.uuid, "sent": shell.display_pub.sent}))
'''


def test_in_a_notebook_one_display_is_updated_in_place(broker, tmp_path) -> None:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "notebook.py"
    script.write_text(NOTEBOOK_SCRIPT)
    env = {**os.environ, "EB_URL": broker.url, "EB_TOKEN": broker.token}
    r = subprocess.run([sys.executable, str(script), str(Path(__file__).parent)], env=env, capture_output=True, text=True, timeout=90)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    sent = out["sent"]
    assert len(sent) >= 2 and len({s["id"] for s in sent}) == 1 and sent[0]["id"]
    assert [s["update"] for s in sent] == [False] + [True] * (len(sent) - 1)
    assert out["uuid"] in sent[-1]["html"] and ">COMPLETED<" in sent[-1]["html"]
