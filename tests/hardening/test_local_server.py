"""The local HTTP server: unknown routes as problem+json, a backlog for parallel clients, and a
port probe that lets `make run` restart at once on the port it just left."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from chalice import Chalice
from chalice.config import Config

from embedded.server import create_server
from embedded.stack import port_is_free


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    app = Chalice(app_name="probe")

    @app.route("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    local = create_server(app, Config(), "127.0.0.1", 0)
    thread = threading.Thread(target=local.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", int(local.server.server_address[1])
    finally:
        local.server.shutdown()
        local.server.server_close()


def _get(address: tuple[str, int], path: str) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection(*address, timeout=10)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    finally:
        connection.close()


def test_unknown_route_is_404_problem_json(server: tuple[str, int]) -> None:
    status, content_type, body = _get(server, "/v1/nothing/here?x=1")
    assert status == 404 and content_type == "application/problem+json"
    assert json.loads(body)["status"] == 404


def test_forty_parallel_clients_are_all_answered(server: tuple[str, int]) -> None:
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(lambda _: _get(server, "/hello")[0], range(200)))
    assert answers == [200] * 200


def test_a_port_in_time_wait_counts_as_free() -> None:
    """The server closes first, so its side of the connection sits in TIME-WAIT for ~60 s."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    accepted.close()  # active close on the server side: TIME-WAIT on 127.0.0.1:port
    client.recv(1)
    client.close()
    listener.close()
    with socket.socket() as naive, pytest.raises(OSError):  # the old probe: refused while TIME-WAIT lasts
        naive.bind(("127.0.0.1", port))
    assert port_is_free("127.0.0.1", port)


def test_a_port_someone_listens_on_is_not_free(server: tuple[str, int]) -> None:
    assert not port_is_free(*server)
