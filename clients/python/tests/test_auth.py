"""Bearer tokens: from the environment, from a callable that refreshes after a 401, never to other hosts."""

from __future__ import annotations

import asyncio

import pytest

from execution_broker import AsyncBrokerClient, BrokerClient, Unauthorized
from file_server import serving
from request_docs import simulated


def test_token_and_url_from_the_environment(broker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EB_URL", broker.url)
    monkeypatch.setenv("EB_TOKEN", broker.token)
    with BrokerClient() as client:
        assert client.url == broker.url
        assert client.request_offers(simulated()).result == "YES"
        # A notebook cell may set a new token: the next call uses it (a stale one is refused).
        monkeypatch.setenv("EB_TOKEN", "not-a-token")
        with pytest.raises(Unauthorized):
            client.request_offers(simulated())


def test_no_token_is_unauthorized_with_the_problem(broker, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EB_TOKEN", raising=False)
    with BrokerClient(broker.url) as client:
        with pytest.raises(Unauthorized) as caught:
            client.request_offers(simulated())
    assert caught.value.status == 401 and caught.value.problem.status == 401
    assert caught.value.problem.title == "Unauthorized"


def test_a_callable_token_is_refreshed_after_a_401_and_the_call_retried(broker, recorder) -> None:
    handed: list[str] = []

    def token() -> str:
        # The first token has expired by the time it is used; the refresh fetches a good one.
        handed.append("expired-token" if not handed else broker.token)
        return handed[-1]

    with BrokerClient(broker.url, token) as client:
        client.http.event_hooks["response"].append(recorder.hook)
        offers = client.request_offers(simulated())
        assert offers.result == "YES"
        assert handed == ["expired-token", broker.token]
        assert recorder.statuses() == [401, 303, 200]
        sent = [h["authorization"] for (_, _, h, _) in recorder.exchanges]
        assert sent == ["Bearer expired-token", f"Bearer {broker.token}", f"Bearer {broker.token}"]
        # The good token is kept: no call to the callable while the broker accepts it.
        client.get(offers.offers[0])
        assert len(handed) == 2


def test_a_callable_that_cannot_do_better_retries_once_then_raises(broker, recorder) -> None:
    calls = []

    def token() -> str:
        calls.append(1)
        return f"bad-{len(calls)}"

    with BrokerClient(broker.url, token) as client:
        client.http.event_hooks["response"].append(recorder.hook)
        with pytest.raises(Unauthorized):
            client.request_offers(simulated())
    assert recorder.statuses() == [401, 401] and len(calls) == 2


def test_the_async_client_awaits_an_async_token_callable(broker) -> None:
    handed: list[str] = []

    async def token() -> str:
        await asyncio.sleep(0)
        handed.append("stale" if not handed else broker.token)
        return handed[-1]

    async def go() -> str:
        async with AsyncBrokerClient(broker.url, token) as client:
            return (await client.request_offers(simulated())).result

    assert asyncio.run(go()) == "YES"
    assert handed == ["stale", broker.token]


def test_the_token_is_never_sent_to_another_host(client: BrokerClient, tmp_path) -> None:
    with serving({"/data/result.fits": b"SIMPLE  =                    T"}) as other_host:
        path = client.download(f"{other_host.url}/data/result.fits", tmp_path)
    assert path.read_bytes().startswith(b"SIMPLE")
    assert other_host.seen and "authorization" not in other_host.seen[0]
