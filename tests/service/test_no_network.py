"""The service tier's guard: a test here that reaches for the network fails instead of talking to it."""

from __future__ import annotations

import socket

import pytest
import pytest_socket


def test_a_socket_cannot_be_opened_here() -> None:
    with pytest.raises(pytest_socket.SocketBlockedError):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


def test_an_http_client_fails_before_it_sends() -> None:
    import urllib.request

    with pytest.raises((pytest_socket.SocketBlockedError, OSError)):
        urllib.request.urlopen("http://127.0.0.1:9/", timeout=1)
