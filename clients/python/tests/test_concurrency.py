"""Many executions at once: the async client with asyncio.gather, the sync client from many threads."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx

from execution_broker import AsyncBrokerClient, BrokerClient
from request_docs import simulated

COUNT = 16


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


def test_many_executions_at_once_with_the_async_client(broker) -> None:
    flight = InFlight()

    async def one(client: AsyncBrokerClient, i: int):
        offer = await client.offer(simulated(name=f"py-many-{i}"))
        return await client.wait_until_terminal(await client.accept(offer), timeout=60)

    async def go():
        async with AsyncBrokerClient(broker.url, broker.token) as client:
            client.http.event_hooks["request"].append(flight.sent)
            client.http.event_hooks["response"].append(flight.answered)
            return await asyncio.gather(*(one(client, i) for i in range(COUNT)))

    done = asyncio.run(go())
    assert [e.phase for e in done] == ["COMPLETED"] * COUNT
    assert len({e.uuid for e in done}) == COUNT
    assert sorted(e.executable.meta.name for e in done) == sorted(f"py-many-{i}" for i in range(COUNT))
    # The waits overlapped: many long-polls were held at the same time on the one client.
    assert flight.peak >= COUNT // 2


def test_one_sync_client_shared_by_threads(broker) -> None:
    with BrokerClient(broker.url, broker.token) as client:
        def one(i: int):
            return client.run(simulated(name=f"py-thread-{i}"), timeout=60)

        with ThreadPoolExecutor(max_workers=6) as pool:
            done = list(pool.map(one, range(6)))
    assert [e.phase for e in done] == ["COMPLETED"] * 6
    assert len({e.uuid for e in done}) == 6
