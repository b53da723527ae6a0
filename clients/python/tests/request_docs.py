"""Request documents for the tests, as a notebook user would write them."""

from __future__ import annotations

import json

from execution_broker import DockerContainer, DockerImage, ExecutionRequest, MinMax, SimpleComputeResource


def simulated(env: dict[str, str] | None = None, name: str = "py-test", cores: tuple[int, int] = (1, 2)) -> ExecutionRequest:
    """A container for the simulated platform; its environment steers the simulation (SIMULATED_*)."""
    return ExecutionRequest(
        executable=DockerContainer(meta={"name": name}, image=DockerImage(locations=["example.org/app:1"], digest="sha256:0123012301230123012301230123012301230123012301230123012301230123"),
                                   environment=env or {}),
        compute=SimpleComputeResource(cores=MinMax(min=cores[0], max=cores[1])),
    ).with_duration("PT5M")


def yaml_text(env: dict[str, str] | None = None, digest: bool = True) -> str:
    """The same as YAML text, the way a request file is sent."""
    return f"""
executable:
  kind: https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/executable/docker-container.yaml
  meta: {{ name: py-yaml }}
  image:
    locations: [ "example.org/app:1" ]
{'    digest: "sha256:0123012301230123012301230123012301230123012301230123012301230123"' if digest else ''}
  environment: {json.dumps(env or {})}
compute:
  kind: https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds/compute/simple-compute-resource.yaml
  cores: {{ min: 1, max: 2 }}
schedule:
  requested: {{ duration: PT5M }}
"""


def without_digest() -> dict:
    """A request the broker understands but refuses up front (urn:missing-value)."""
    doc = simulated().to_json()
    del doc["executable"]["image"]["digest"]
    return doc
