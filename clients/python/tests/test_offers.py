"""Offers, acceptance, rejection, cancellation and direct execution against the running broker."""

from __future__ import annotations

import pytest

from execution_broker import BrokerClient, ExecutionFailed, NoOffersError, OfferSet, SimpleComputeResource
from request_docs import simulated, without_digest, yaml_text


def cores_min(offer) -> int | None:
    assert isinstance(offer.compute, SimpleComputeResource)
    return offer.compute.cores.min if offer.compute.cores else None


def test_request_offers_follows_the_303_to_the_offer_set(client: BrokerClient, recorder) -> None:
    offers = client.request_offers(yaml_text())
    assert isinstance(offers, OfferSet)
    assert offers.result == "YES" and offers.offers
    # The POST answered 303 and the client read the offer set it pointed at.
    (post_method, _, post_headers, post_status), (get_method, get_url, _, get_status) = recorder.exchanges
    assert (post_method, post_status, post_headers["content-type"]) == ("POST", 303, "application/yaml")
    assert (get_method, get_status) == ("GET", 200)
    assert get_url.endswith(f"/offersets/{offers.uuid}")
    assert client.get_offer_set(offers.uuid).offers[0].uuid == offers.offers[0].uuid
    assert all(o.phase == "OFFERED" and o.expires is not None for o in offers.offers)


def test_accept_an_offer_rejects_its_siblings_and_runs_to_completed(client: BrokerClient) -> None:
    offers = client.request_offers(simulated())
    assert len(offers.offers) >= 2, "the simulated platform offers the most and the least cores"
    chosen = offers.pick(lambda o: cores_min(o) == 2)
    accepted = client.accept(chosen)
    assert accepted.uuid == chosen.uuid and accepted.phase == "ACCEPTED"
    siblings = [o for o in client.get_offer_set(offers.uuid).offers if o.uuid != chosen.uuid]
    assert siblings and {o.phase for o in siblings} == {"REJECTED"}
    done = client.wait_until_terminal(accepted, timeout=30)
    assert done.phase == "COMPLETED"
    assert [c.phase for c in done.history()][-1] == "COMPLETED"


def test_reject_an_offer(client: BrokerClient) -> None:
    offer = client.offer(simulated())
    assert client.reject(offer.uuid).phase == "REJECTED"
    assert client.get(offer.uuid).phase == "REJECTED"


def test_cancel_while_preparing(client: BrokerClient) -> None:
    accepted = client.accept(client.offer(simulated({"SIMULATED_PREPARE_MS": "60000"})))
    client.wait_for_phase(accepted, "PREPARING", timeout=15)
    assert client.cancel(accepted).phase == "CANCELLED"
    assert client.wait_until_terminal(accepted, timeout=10).phase == "CANCELLED"


def test_a_no_is_an_exception_carrying_the_messages(client: BrokerClient) -> None:
    offers = client.request_offers(without_digest())
    assert offers.result == "NO" and not offers.offers
    with pytest.raises(NoOffersError) as caught:
        offers.pick()
    assert caught.value.offer_set_uuid == offers.uuid
    assert [m.kind for m in caught.value.messages] == ["urn:missing-value"]
    assert "executable.image.digest" in str(caught.value)
    with pytest.raises(NoOffersError):
        client.offer(yaml_text(digest=False))


def test_direct_execution_follows_the_303_to_the_accepted_execution(client: BrokerClient, recorder) -> None:
    execution = client.direct(simulated(name="py-direct"))
    assert execution.phase not in ("OFFERED", "INITIAL")
    assert execution.executable.meta.name == "py-direct"
    assert recorder.statuses() == [303, 200]
    assert client.wait_until_terminal(execution, timeout=30).phase == "COMPLETED"


def test_direct_with_a_request_that_gets_no(client: BrokerClient) -> None:
    with pytest.raises(NoOffersError) as caught:
        client.direct(without_digest())
    assert caught.value.messages[0].kind == "urn:missing-value"
    assert caught.value.offer_set_uuid and client.get_offer_set(caught.value.offer_set_uuid).result == "NO"
    assert caught.value.problem is not None and caught.value.problem.status == 400


def test_run_is_request_accept_wait_and_check_raises_on_failure(client: BrokerClient) -> None:
    assert client.run(simulated(), timeout=30).phase == "COMPLETED"
    with pytest.raises(ExecutionFailed) as caught:
        client.run(simulated({"SIMULATED_EXIT_CODE": "3"}), timeout=30, check=True)
    assert caught.value.execution.phase == "FAILED"
    assert "3" in str(caught.value)
