"""The models follow the OpenAPI document: a field, a phase or a kind added or dropped there fails here."""

from __future__ import annotations

import copy
import typing
from pathlib import Path

import pytest
import yaml

import execution_broker.models as models
from broker_processes import ROOT
from execution_broker import kinds
from execution_broker.models import ApiModel

DOCUMENT = ROOT / "packages/schema/openapi/execution-broker.yaml"


@pytest.fixture(scope="module")
def doc() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


def _schema(doc: dict, node: dict) -> dict:
    while "$ref" in node:
        node = doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def properties(doc: dict, name: str) -> dict[str, dict]:
    """Every property of a schema, through its $refs and allOf parts."""
    def walk(node: dict) -> dict[str, dict]:
        node = _schema(doc, node)
        found = dict(node.get("properties", {}))
        for part in node.get("allOf", []):
            found = {**walk(part), **found}
        return found

    return walk(doc["components"]["schemas"][name])


def enum_of(doc: dict, name: str, prop: str | None = None) -> set[str]:
    node = doc["components"]["schemas"][name] if prop is None else properties(doc, name)[prop]
    return set(_schema(doc, node)["enum"])


def fields(model: type[ApiModel]) -> set[str]:
    return {f.alias or n for n, f in model.model_fields.items()}


def literal(annotation: object) -> set[str]:
    """The values of a Literal, also inside ``Literal[...] | None``."""
    if typing.get_origin(annotation) is typing.Literal:
        return set(typing.get_args(annotation))
    return set().union(*(literal(a) for a in typing.get_args(annotation))) if typing.get_args(annotation) else set()


def all_models() -> list[type[ApiModel]]:
    found, todo = [], [ApiModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return [m for m in found if m.__module__.startswith("execution_broker.")]


# A model's own schema, and the other schemas of the same shape it stands for.
ALSO = {
    models.MinMax: ["SimpleComputeMemory", "SimpleStorageSize"],
    models.Schedule: ["ScheduledExecutionSchedule"],
    models.StartDuration: ["LifecycleStartDurationInterval", "ScheduleStartDurationInstant", "ScheduleStartDurationInterval"],
}


def field_drift(doc: dict) -> list[str]:
    drift = []
    for model in all_models():
        for schema in [model.openapi_schema, *ALSO.get(model, [])]:
            if schema is None or model.openapi_schema is None:
                continue
            wanted, have = set(properties(doc, schema)), fields(model)
            if wanted != have:
                drift.append(f"{model.__name__} vs {schema}: missing {sorted(wanted - have)}, extra {sorted(have - wanted)}")
    errors_items = set(properties(doc, "Problem")["errors"]["items"]["properties"])
    if errors_items != fields(models.ProblemField):
        drift.append(f"ProblemField vs Problem.errors: {sorted(errors_items ^ fields(models.ProblemField))}")
    return drift


def enum_drift(doc: dict) -> list[str]:
    pairs = [
        (set(typing.get_args(models.ExecutionPhase)), enum_of(doc, "SimpleExecutionSessionPhase"), "ExecutionPhase"),
        (set(typing.get_args(models.LifecyclePhase)), enum_of(doc, "LifecyclePhase"), "LifecyclePhase"),
        (set(typing.get_args(models.MessageLevel)), enum_of(doc, "MessageItem", "level"), "MessageItem.level"),
        (literal(models.OfferSet.model_fields["result"].annotation), enum_of(doc, "OfferSetResponse", "result"), "OfferSet.result"),
        (literal(models.Connector.model_fields["status"].annotation), enum_of(doc, "SimpleSessionConnector", "status"), "Connector.status"),
        (literal(models.SimpleVolumeMount.model_fields["mode"].annotation), enum_of(doc, "SimpleVolumeMount", "mode"), "SimpleVolumeMount.mode"),
    ]
    return [f"{name}: {sorted(ours ^ theirs)}" for ours, theirs, name in pairs if ours != theirs]


def test_every_model_has_exactly_the_fields_of_its_schema(doc: dict) -> None:
    assert field_drift(doc) == []
    assert len([m for m in all_models() if m.openapi_schema]) >= 30


def test_phases_levels_and_statuses_match_the_enums(doc: dict) -> None:
    assert enum_drift(doc) == []


def test_default_kinds_are_the_documents_discriminator_values(doc: dict) -> None:
    mappings: dict[str, str] = {}
    for schema in doc["components"]["schemas"].values():
        mappings.update(schema.get("discriminator", {}).get("mapping", {}))
    checked = 0
    for model in all_models():
        default = model.model_fields["kind"].default if "kind" in model.model_fields else None
        if isinstance(default, str) and default.startswith("https://"):
            assert mappings.get(default, "").endswith(f"/{model.openapi_schema}"), model.__name__
            checked += 1
    assert checked >= 8
    assert mappings[kinds.SCHEDULED_SESSION].endswith("/ScheduledExecutionSession")
    assert mappings[kinds.SIMPLE_SESSION].endswith("/SimpleExecutionSession")


def test_the_checks_catch_a_change_in_the_document(doc: dict) -> None:
    changed = copy.deepcopy(doc)
    schemas = changed["components"]["schemas"]
    schemas["DockerContainer"]["allOf"][1]["properties"]["ports"] = {"type": "object"}
    schemas["SimpleSessionConnector"]["properties"].pop("protocol")
    schemas["SimpleExecutionSessionPhase"]["enum"].append("PAUSED")
    drift = field_drift(changed)
    assert any("DockerContainer" in d and "'ports'" in d for d in drift)
    assert any("Connector vs SimpleSessionConnector" in d and "'protocol'" in d for d in drift)
    assert enum_drift(changed) == ["ExecutionPhase: ['PAUSED']"]


def test_the_served_document_is_the_file(broker) -> None:
    import httpx

    served = httpx.get(f"{broker.url}/openapi.json", timeout=10).json()
    assert served["components"]["schemas"].keys() == yaml.safe_load(Path(DOCUMENT).read_text())["components"]["schemas"].keys()
