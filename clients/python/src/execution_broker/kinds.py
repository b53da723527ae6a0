"""The ``kind`` URIs of the Calycopis 1.0.7 API.

The broker answers with these; it also accepts the older ``.../EB/schema/v1.0/types/...-1.0`` URIs in
requests, so either may be sent.
"""

KINDS_BASE = "https://www.purl.org/ivoa.net/Calycopis-openapi/schema/v1.0/kinds"


def _kind(path: str) -> str:
    return f"{KINDS_BASE}/{path}.yaml"


DOCKER_CONTAINER = _kind("executable/docker-container")
SINGULARITY_CONTAINER = _kind("executable/singularity-container")
JUPYTER_NOTEBOOK = _kind("executable/jupyter-notebook")
SIMPLE_COMPUTE = _kind("compute/simple-compute-resource")
SIMPLE_STORAGE = _kind("storage/simple-storage-resource")
SIMPLE_VOLUME_MOUNT = _kind("volume/simple-volume-mount")
SIMPLE_DATA = _kind("data/simple-data-resource")
SIMPLE_SESSION = _kind("session/simple-execution-session")
SCHEDULED_SESSION = _kind("session/scheduled-execution-session")

# Session connectors for an executable's output end with these (upstream names them by kind path).
STDOUT_CONNECTOR_SUFFIX = "docker-container-stdout-get.yaml"
STDERR_CONNECTOR_SUFFIX = "docker-container-stderr-get.yaml"
