"""HTTP errors become exceptions carrying the broker's RFC 9457 problem document."""

from __future__ import annotations

import uuid

import pytest

from execution_broker import BadRequest, BrokerClient, Conflict, NotFound, ProblemError, Unprocessable
from request_docs import simulated


def test_unknown_execution_is_not_found_with_the_problem(client: BrokerClient) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(NotFound) as caught:
        client.get(missing)
    e = caught.value
    assert e.status == 404 and e.problem.status == 404 and e.problem.title == "Not Found"
    assert missing in (e.problem.detail or "")
    assert str(e).startswith("404 Not Found")
    assert isinstance(e, ProblemError)


def test_schema_invalid_request_names_the_field(client: BrokerClient) -> None:
    with pytest.raises(BadRequest) as caught:
        client.request_offers({"compute": {"kind": "nonsense"}})
    assert caught.value.problem.errors and caught.value.problem.errors[0].pointer == "/compute/kind"
    assert "/compute/kind" in str(caught.value)


def test_a_phase_change_the_state_machine_forbids_is_a_conflict(client: BrokerClient) -> None:
    offer = client.offer(simulated())
    client.reject(offer)
    with pytest.raises(Conflict) as caught:
        client.accept(offer)
    assert caught.value.problem.status == 409


def test_a_phase_a_client_may_not_set_is_unprocessable(client: BrokerClient) -> None:
    offer = client.offer(simulated())
    with pytest.raises((Unprocessable, BadRequest)) as caught:
        client.set_phase(offer, "COMPLETED")  # type: ignore[arg-type]
    assert caught.value.problem.title
    client.reject(offer)


def test_someone_elses_execution_does_not_exist_for_the_caller(broker, client: BrokerClient) -> None:
    offer = client.offer(simulated())
    with BrokerClient(broker.url, broker.other_token) as other:
        with pytest.raises(NotFound):
            other.get(offer)
        with pytest.raises(NotFound):
            other.cancel(offer)
    client.reject(offer)


def test_hostile_identifiers_stay_one_path_segment(client: BrokerClient, recorder) -> None:
    with pytest.raises(NotFound):
        client.get("../offersets/../../healthz")
    (_, url, _, status), = recorder.exchanges
    assert "/executions/..%2Foffersets" in url and status == 404


def test_retry_after_as_seconds_or_an_http_date() -> None:
    from datetime import datetime, timedelta, timezone
    from email.utils import format_datetime

    from execution_broker.calls import retry_after_s

    assert retry_after_s("5") == 5.0
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 25 <= retry_after_s(later) <= 30
    assert retry_after_s("soon") is None and retry_after_s(None) is None
