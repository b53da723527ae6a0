"""Waiting by long-poll: answers come when the phase changes, not after fixed sleeps."""

from __future__ import annotations

import threading
import time

import pytest

from execution_broker import BrokerClient, PhaseNotReached, WaitTimeout
from request_docs import simulated


def long_polls(recorder, uuid: str) -> list[str]:
    """The Prefer headers of the GETs of one execution that the recorder saw."""
    return [h.get("prefer", "") for (m, url, h, _) in recorder.exchanges if m == "GET" and url.endswith(f"/executions/{uuid}")]


def test_wait_for_phase_returns_as_soon_as_the_phase_changes(broker, client: BrokerClient, recorder) -> None:
    accepted = client.accept(client.offer(simulated({"SIMULATED_PREPARE_MS": "60000"})))
    client.wait_for_phase(accepted, "PREPARING", timeout=15)
    recorder.exchanges.clear()
    outcome: dict = {}

    def waiter() -> None:
        outcome["execution"] = client.wait_for_phase(accepted, "CANCELLED", timeout=50)
        outcome["returned"] = time.monotonic()

    thread = threading.Thread(target=waiter)
    thread.start()
    # Let the waiter settle into its long-poll; nothing changes meanwhile, so it must still be waiting.
    time.sleep(1.5)
    assert thread.is_alive()
    with BrokerClient(broker.url, broker.token) as other:
        other.cancel(accepted)
    cancelled_at = time.monotonic()
    thread.join(timeout=20)
    assert outcome["execution"].phase == "CANCELLED"
    # The answer followed the change, well inside the 50 s the long-poll could have been held.
    assert outcome["returned"] - cancelled_at < 5
    prefers = long_polls(recorder, accepted.uuid)
    # One plain read, then long-polls: far fewer requests than any polling loop would make.
    assert prefers[0] == "" and all(p.startswith("wait=") for p in prefers[1:])
    assert 2 <= len(prefers) <= 3
    polled = [h for (m, _, h, _) in recorder.exchanges if h.get("prefer")]
    assert all(h.get("if-none-match") for h in polled), "each long-poll is relative to the last ETag"


def test_wait_times_out_with_the_last_execution_seen(client: BrokerClient, recorder) -> None:
    accepted = client.accept(client.offer(simulated({"SIMULATED_PREPARE_MS": "60000"})))
    client.wait_for_phase(accepted, "PREPARING", timeout=15)
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        client.wait_for_phase(accepted, "AVAILABLE", timeout=2)
    # The long-poll asked for no more than the time left, not the broker's 60 s maximum.
    assert time.monotonic() - started < 10
    assert caught.value.execution.phase == "PREPARING"
    assert isinstance(caught.value, TimeoutError)
    # The held long-poll ended with no change: 304 Not Modified to If-None-Match, the last answer stands.
    assert 304 in recorder.statuses()
    client.cancel(accepted)


def test_a_phase_that_can_no_longer_come_raises_at_once(client: BrokerClient) -> None:
    done = client.run(simulated(), timeout=30)
    started = time.monotonic()
    with pytest.raises(PhaseNotReached) as caught:
        client.wait_for_phase(done, ["AVAILABLE", "RUNNING"], timeout=30)
    assert time.monotonic() - started < 5
    assert caught.value.execution.phase == "COMPLETED"
    assert caught.value.passed == ["AVAILABLE"] and "it was AVAILABLE before" in str(caught.value)


def test_wait_until_terminal_reports_each_answer(client: BrokerClient) -> None:
    accepted = client.accept(client.offer(simulated()))
    seen: list[str] = []
    done = client.wait_until_terminal(accepted, timeout=30, on_update=lambda e: seen.append(e.phase))
    assert done.phase == "COMPLETED" and seen[-1] == "COMPLETED"
    assert seen[0] in ("ACCEPTED", "WAITING", "PREPARING", "AVAILABLE")
    history = [c.phase for c in done.history()]
    assert history.index("PREPARING") < history.index("AVAILABLE") < history.index("COMPLETED")
