"""A small HTTP server on loopback standing in for a host other than the broker (a data service, a
container's published port elsewhere): serves a few files and records the headers it was sent."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from contextlib import contextmanager


class FileServer:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.seen: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                outer.seen.append({k.lower(): v for k, v in self.headers.items()})
                body = outer.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/octet-stream" if body is not None else "text/plain")
                payload = body if body is not None else b"no such file"
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def serving(files: dict[str, bytes]) -> Iterator[FileServer]:
    fs = FileServer(files)
    thread = threading.Thread(target=fs.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fs
    finally:
        fs.server.shutdown()
        fs.server.server_close()
