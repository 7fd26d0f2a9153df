"""The suite's loopback-only guard really refuses the outside world."""

from __future__ import annotations

import socket

import pytest

from tests.conftest import ExternalNetworkBlocked


def test_resolving_the_real_service_is_refused() -> None:
    with pytest.raises(ExternalNetworkBlocked):
        socket.getaddrinfo("streaming.assemblyai.com", 443)


def test_connecting_outside_is_refused() -> None:
    with socket.socket() as sock, pytest.raises(ExternalNetworkBlocked):
        sock.connect(("192.0.2.1", 443))


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
