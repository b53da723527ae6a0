"""Many executions at once: the async client with asyncio.gather, the sync client from many threads."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx

from execution_broker import AsyncBrokerClient, BrokerClient
from request_docs import simulated

COUNT = 24


class InFlight:
    """Counts the long-polls under way at once, from the client's own request and response hooks."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0

    async def sent(self, request: httpx.Request) -> None:
        if request.headers.get("prefer"):
            self.now += 1
            self.peak = max(self.peak, self.now)

    async def answered(self, response: httpx.Response) -> None:
        if response.request.headers.get("prefer"):
            self.now -= 1


def run_many(broker, count: int, run_ms: str, **options) -> tuple[list, InFlight, list[int]]:
    """``count`` executions at once on one async client: offer, accept, wait until the end."""
    flight, statuses = InFlight(), []

    async def record(response: httpx.Response) -> None:
        statuses.append(response.status_code)

    async def one(client: AsyncBrokerClient, i: int):
        offer = await client.offer(simulated({"SIMULATED_RUN_MS": run_ms}, name=f"py-many-{i}"))
        return await client.wait_until_terminal(await client.accept(offer), timeout=90)

    async def go():
        async with AsyncBrokerClient(broker.url, broker.token, **options) as client:
            client.http.event_hooks["request"].append(flight.sent)
            client.http.event_hooks["response"] += [flight.answered, record]
            return await asyncio.gather(*(one(client, i) for i in range(count)))

    return asyncio.run(go()), flight, statuses


def test_many_executions_at_once_with_the_async_client(broker) -> None:
    done, flight, statuses = run_many(broker, COUNT, "1500")
    assert [e.phase for e in done] == ["COMPLETED"] * COUNT
    assert len({e.uuid for e in done}) == COUNT
    assert sorted(e.executable.meta.name for e in done) == sorted(f"py-many-{i}" for i in range(COUNT))
    # The waits overlapped on the one client, up to its cap of long-polls (the broker's per-user cap),
    # so the broker never had to refuse one.
    assert 8 <= flight.peak <= 16
    assert 429 not in statuses


def test_long_polls_past_the_brokers_cap_wait_as_told_and_go_on(broker) -> None:
    done, flight, statuses = run_many(broker, COUNT, "3000", max_long_polls=100)
    assert [e.phase for e in done] == ["COMPLETED"] * COUNT
    # More long-polls than the broker holds for one user: it answered 429, the waits paused and went on.
    assert flight.peak > 16 and 429 in statuses


def test_one_sync_client_shared_by_threads(broker) -> None:
    with BrokerClient(broker.url, broker.token) as client:
        def one(i: int):
            return client.run(simulated(name=f"py-thread-{i}"), timeout=60)

        with ThreadPoolExecutor(max_workers=6) as pool:
            done = list(pool.map(one, range(6)))
    assert [e.phase for e in done] == ["COMPLETED"] * 6
    assert len({e.uuid for e in done}) == 6
