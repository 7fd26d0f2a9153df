"""Suite-wide guards.

* No network except loopback: any attempt to resolve or connect to another host fails the
  test at once, so nothing can ever reach AssemblyAI from the suite.
* The environment variables that point the app at a service or carry a key are removed, so a
  developer's own key or proxy never leaks into a test.
* Qt runs offscreen unless a test sets up a real X server.
* Hypothesis never judges by the clock: its deadline and "too slow" health checks are timing
  assertions, which this suite does not make (a fresh machine builds Hypothesis' Unicode tables
  on first use, ~3 s, and a loaded 2-core machine is slow at random).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")

pytest_plugins = ["tests.support.pulse", "tests.support.secret_service"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
for _name in ("ASSEMBLYAI_API_KEY", "LIVE_TRANSCRIBER_STREAMING_URL"):
    os.environ.pop(_name, None)

_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class ExternalNetworkBlocked(RuntimeError):
    pass


def _is_local(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]")
    if host in _LOCAL_NAMES or host == "":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _is_local(host):
        raise ExternalNetworkBlocked(f"test tried to resolve a non-loopback host: {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
        raise ExternalNetworkBlocked(f"test tried to connect to {address[0]!r}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _loopback_only() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
        patch.setattr(socket.socket, "connect", _guarded_connect)
        patch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
        yield
