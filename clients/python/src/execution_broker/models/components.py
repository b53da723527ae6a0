"""The components of a request or an execution: executable, compute, volumes, storage, data.

Each polymorphic place takes the class its ``kind`` names and falls back to the abstract class for a
kind this client does not know (its fields are kept), so a newer broker's answers still parse.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, Tag

from .. import kinds
from .base import ApiModel
from .common import ComponentMetadata, Cost, Metric, MinMax, Schedule
from .phases import LifecyclePhase


def _by_kind(mapping: dict[str, str]):
    """A discriminator choosing the tag of a value's kind; ``other`` for kinds not in the mapping."""

    def choose(value: Any) -> str:
        kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
        return mapping.get(kind, "other") if isinstance(kind, str) else "other"

    return Discriminator(choose)


class Component(ApiModel):
    openapi_schema = "AbstractComponent"
    kind: str
    meta: ComponentMetadata | None = None
    costs: list[Cost] | None = None
    metrics: list[Metric] | None = None


class LifecycleComponent(Component):
    # AbstractComponent with the document's LifecycleComponent mixed in: no one schema of its own.
    openapi_schema = None
    phase: LifecyclePhase | None = None
    schedule: Schedule | None = None


# Executables -----------------------------------------------------------------------------------

class Executable(LifecycleComponent):
    openapi_schema = "AbstractExecutable"


class DockerPlatform(ApiModel):
    openapi_schema = "DockerPlatformSpec"
    architecture: str | None = None
    os: str | None = None


class DockerImage(ApiModel):
    """Where to find the image, and its digest (the broker needs the digest to make an offer)."""

    openapi_schema = "DockerImageSpec"
    locations: list[str] | None = None
    digest: str | None = None
    platform: DockerPlatform | None = None


class DockerInternalPort(ApiModel):
    openapi_schema = "DockerInternalPort"
    port: int | None = None


class DockerExternalPort(ApiModel):
    openapi_schema = "DockerExternalPort"
    port: int | None = None
    addresses: list[str] | None = None


class DockerPort(ApiModel):
    openapi_schema = "DockerNetworkPort"
    access: bool | None = None
    internal: DockerInternalPort | None = None
    external: DockerExternalPort | None = None
    protocol: str | None = None
    path: str | None = None


class DockerNetwork(ApiModel):
    openapi_schema = "DockerNetworkSpec"
    ports: list[DockerPort] | None = None


class DockerContainer(Executable):
    openapi_schema = "DockerContainer"
    kind: str = kinds.DOCKER_CONTAINER
    image: DockerImage | None = None
    privileged: bool | None = None
    command: list[str] | None = None
    entrypoint: str | None = None
    environment: dict[str, str] | None = None
    network: DockerNetwork | None = None
    #: Labels for the container (schema 1.0.8); names beginning ``calycopis-broker-`` are the broker's.
    labels: dict[str, str] | None = None


class JupyterNotebook(Executable):
    openapi_schema = "JupyterNotebook"
    kind: str = kinds.JUPYTER_NOTEBOOK
    location: str | None = None


class SingularityContainer(Executable):
    openapi_schema = "SingularityContainer"
    kind: str = kinds.SINGULARITY_CONTAINER
    location: str | None = None


AnyExecutable = Annotated[
    Union[
        Annotated[DockerContainer, Tag("docker")],
        Annotated[JupyterNotebook, Tag("notebook")],
        Annotated[SingularityContainer, Tag("singularity")],
        Annotated[Executable, Tag("other")],
    ],
    _by_kind({kinds.DOCKER_CONTAINER: "docker", kinds.JUPYTER_NOTEBOOK: "notebook", kinds.SINGULARITY_CONTAINER: "singularity"}),
]

# Volumes and compute ---------------------------------------------------------------------------

class VolumeMount(Component):
    openapi_schema = "AbstractVolumeMount"


class SimpleVolumeMount(VolumeMount):
    """Mounts a storage or data resource (by name) at a path in the container."""

    openapi_schema = "SimpleVolumeMount"
    kind: str = kinds.SIMPLE_VOLUME_MOUNT
    path: str | None = None
    mode: Literal["READONLY", "READWRITE"] | None = None
    resource: str | None = None


AnyVolumeMount = Annotated[
    Union[Annotated[SimpleVolumeMount, Tag("simple")], Annotated[VolumeMount, Tag("other")]],
    _by_kind({kinds.SIMPLE_VOLUME_MOUNT: "simple"}),
]


class ComputeResource(LifecycleComponent):
    openapi_schema = "AbstractComputeResource"
    volumes: list[AnyVolumeMount] | None = None


class SimpleComputeResource(ComputeResource):
    openapi_schema = "SimpleComputeResource"
    kind: str = kinds.SIMPLE_COMPUTE
    cores: MinMax | None = None
    memory: MinMax | None = None


AnyCompute = Annotated[
    Union[Annotated[SimpleComputeResource, Tag("simple")], Annotated[ComputeResource, Tag("other")]],
    _by_kind({kinds.SIMPLE_COMPUTE: "simple"}),
]

# Storage and data ------------------------------------------------------------------------------

class StorageResource(LifecycleComponent):
    openapi_schema = "AbstractStorageResource"
    data: list[str] | None = None


class SimpleStorageResource(StorageResource):
    openapi_schema = "SimpleStorageResource"
    kind: str = kinds.SIMPLE_STORAGE
    size: MinMax | None = None


AnyStorage = Annotated[
    Union[Annotated[SimpleStorageResource, Tag("simple")], Annotated[StorageResource, Tag("other")]],
    _by_kind({kinds.SIMPLE_STORAGE: "simple"}),
]


class DataResource(LifecycleComponent):
    openapi_schema = "AbstractDataResource"
    storage: str | None = None


class SimpleDataResource(DataResource):
    """A file fetched by URL into the execution's storage before the work starts."""

    openapi_schema = "SimpleDataResource"
    kind: str = kinds.SIMPLE_DATA
    location: str | None = None


AnyData = Annotated[
    Union[Annotated[SimpleDataResource, Tag("simple")], Annotated[DataResource, Tag("other")]],
    _by_kind({kinds.SIMPLE_DATA: "simple"}),
]
