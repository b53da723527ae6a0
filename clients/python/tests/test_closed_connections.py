"""A kept-alive connection closed by the other end just as a request goes out on it (a load balancer
or a server timing it out): reads are sent once more on a new connection, changes never are."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest

from execution_broker import AsyncBrokerClient, BrokerClient, NotFound

PROBLEM = json.dumps({"type": "urn:eb:problem:not-found", "title": "Not Found", "status": 404}).encode()


class ClosingServer:
    """Answers the first request of each connection (404, kept alive); closes at the second, unanswered."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.seen: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _request(self, reader) -> str | None:
        line = reader.readline().decode()
        if not line:
            return None
        length = 0
        while (header := reader.readline().decode()) not in ("\r\n", ""):
            if header.lower().startswith("content-length:"):
                length = int(header.split(":", 1)[1])
        reader.read(length)
        self.seen.append(" ".join(line.split()[:2]))
        return line

    def _connection(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as reader:
            if self._request(reader) is None:
                return
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/problem+json\r\n"
                         + f"Content-Length: {len(PROBLEM)}\r\n\r\n".encode() + PROBLEM)
            self._request(reader)  # read, then close without a word

    def close(self) -> None:
        self.sock.close()


@pytest.fixture()
def server() -> Iterator[ClosingServer]:
    s = ClosingServer()
    yield s
    s.close()


def test_a_read_is_sent_again_on_a_new_connection(server: ClosingServer) -> None:
    missing = str(uuid.uuid4())
    with BrokerClient(server.url, "a-token") as client:
        with pytest.raises(NotFound):
            client.get(missing)
        # The kept connection is closed at this request: the client asks again, and gets the answer.
        with pytest.raises(NotFound):
            client.get(missing)
    assert server.seen == [f"GET /executions/{missing}"] * 3


def test_a_change_is_never_sent_twice(server: ClosingServer) -> None:
    missing = str(uuid.uuid4())
    with BrokerClient(server.url, "a-token") as client:
        with pytest.raises(NotFound):
            client.get(missing)
        with pytest.raises(httpx.RemoteProtocolError):
            client.cancel(missing)
    assert server.seen == [f"GET /executions/{missing}", f"POST /executions/{missing}"]


def test_the_async_client_does_the_same(server: ClosingServer) -> None:
    missing = str(uuid.uuid4())

    async def go() -> None:
        async with AsyncBrokerClient(server.url, "a-token") as client:
            for _ in range(2):
                with pytest.raises(NotFound):
                    await client.get(missing)
            with pytest.raises(httpx.RemoteProtocolError):
                await client.cancel(missing)

    asyncio.run(go())
    assert server.seen == [f"GET /executions/{missing}"] * 3 + [f"POST /executions/{missing}"]
