"""An execution's output streams and result files: where to read them, where to write them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from . import kinds
from .errors import OutputNotAvailable
from .models import Execution

Stream = Literal["stdout", "stderr"]
STREAMS: tuple[Stream, ...] = ("stdout", "stderr")
_SUFFIX = {"stdout": kinds.STDOUT_CONNECTOR_SUFFIX, "stderr": kinds.STDERR_CONNECTOR_SUFFIX}


def stream_location(execution: Execution, stream: Stream) -> str:
    """The URL of the connector serving ``stream`` (the platform's session connector for it)."""
    connector = execution.connector(_SUFFIX[stream])
    if connector is None:
        raise OutputNotAvailable(f"execution {execution.uuid} ({execution.phase}) has no {stream} connector")
    if not connector.location:
        raise OutputNotAvailable(f"the {stream} of execution {execution.uuid} is not available yet ({connector.status})")
    return connector.location


def has_stream(execution: Execution, stream: Stream) -> bool:
    connector = execution.connector(_SUFFIX[stream])
    return connector is not None and bool(connector.location)


def target_file(url: str, path: str | os.PathLike[str]) -> Path:
    """``path`` itself, or inside it (named after the URL's last segment) when it is a directory."""
    target = Path(path)
    if target.is_dir():
        name = Path(unquote(urlsplit(url).path)).name
        # A name from the server must not climb out of the directory the caller chose.
        target = target / (name if name not in ("", ".", "..") else "download")
    return target


class AtomicFile:
    """A file written beside ``target`` and moved into place only when complete (``with`` block)."""

    def __init__(self, target: Path) -> None:
        self.target = target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        self._tmp = Path(name)
        self._file = os.fdopen(fd, "wb")

    def __enter__(self) -> "AtomicFile":
        return self

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._file.close()
        if exc_type is None:
            os.replace(self._tmp, self.target)
        else:
            self._tmp.unlink(missing_ok=True)
