"""Typed models of the broker's documents, following ``packages/schema/openapi/execution-broker.yaml``."""

from .base import ApiModel
from .common import (
    ComponentMetadata, Cost, MessageItem, MessageLevel, Metric, MinMax, RequestedSchedule, RequestedScheduleItem,
    Schedule, StartDuration,
)
from .components import (
    Component, ComputeResource, DataResource, DockerContainer, DockerExternalPort, DockerImage, DockerInternalPort,
    DockerNetwork, DockerPlatform, DockerPort, Executable, JupyterNotebook, SimpleComputeResource, SimpleDataResource,
    SimpleStorageResource, SimpleVolumeMount, SingularityContainer, StorageResource, VolumeMount,
)
from .execution import Connector, Execution, PhaseChange
from .offerset import OfferSet
from .phases import EXECUTION_PHASES, TERMINAL_PHASES, ClientPhase, ExecutionPhase, LifecyclePhase
from .problem import Problem, ProblemField
from .request import ExecutionRequest
from .update import EnumValueUpdate

__all__ = [
    "ApiModel", "ClientPhase", "Component", "ComponentMetadata", "ComputeResource", "Connector", "Cost", "DataResource",
    "DockerContainer", "DockerExternalPort", "DockerImage", "DockerInternalPort", "DockerNetwork", "DockerPlatform",
    "DockerPort", "EXECUTION_PHASES", "EnumValueUpdate", "Executable", "Execution", "ExecutionPhase",
    "ExecutionRequest", "JupyterNotebook", "LifecyclePhase", "MessageItem", "MessageLevel", "Metric", "MinMax",
    "OfferSet", "PhaseChange", "Problem", "ProblemField", "RequestedSchedule", "RequestedScheduleItem", "Schedule",
    "SimpleComputeResource", "SimpleDataResource", "SimpleStorageResource", "SimpleVolumeMount",
    "SingularityContainer", "StartDuration", "StorageResource", "TERMINAL_PHASES", "VolumeMount",
]
