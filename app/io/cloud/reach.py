"""Why AssemblyAI could not be reached, in words a person can act on.

The streaming socket, the token request and the file API all fail the same few ways beneath
the app: no network or no name lookup, nothing answering, no answer in time, or a secure
connection that cannot be trusted — a computer whose clock is wrong, or a network that
inspects secure traffic (a company proxy) and signs it with its own certificate. Each gets
its own sentence and fix instead of one "could not be reached". The address is named; the
key never is (it is never part of one).
"""

from __future__ import annotations

import errno
import socket
import ssl
import urllib.error
import urllib.parse

from app.core.errors import ConnectionFailedError, redact

_OFFLINE = "Check your internet connection, or use the Offline engine."


def host_of(url: str) -> str:
    """The host a person recognises in an address ("streaming.assemblyai.com"), its port only
    when one is given; the address itself when it has none."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        return url
    return parts.hostname + (f":{parts.port}" if parts.port else "")


def unreachable(exc: BaseException, host: str, secrets: tuple[str, ...] = ()
                ) -> ConnectionFailedError:
    """The error for a connection to ``host`` that failed with ``exc`` (an ``OSError``, a
    timeout, or urllib's ``URLError`` around one)."""
    cause: BaseException = exc
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        cause = exc.reason
    detail = redact(f"{type(cause).__name__}: {cause}", list(secrets))
    if isinstance(cause, ssl.SSLCertVerificationError):
        why = cause.verify_message or cause.reason or "the certificate was not accepted"
        return ConnectionFailedError(
            f"The secure connection to {host} could not be verified ({why}).",
            remedy="Check that this computer's date and time are right. On a network that "
            "inspects secure traffic (a company proxy), ask its administrator to let "
            "AssemblyAI through, or use the Offline engine.",
            detail=detail)
    if isinstance(cause, ssl.SSLError):
        return ConnectionFailedError(
            f"A secure connection to {host} could not be made.",
            remedy="Something on this network interferes with secure connections; try "
            "another network, or use the Offline engine.",
            detail=detail)
    if isinstance(cause, socket.gaierror):
        return ConnectionFailedError(
            f"The address {host} could not be looked up: this computer seems to be offline, "
            "or its name service (DNS) is not answering.",
            remedy=_OFFLINE, detail=detail)
    if isinstance(cause, TimeoutError):  # socket.timeout is the same class
        return ConnectionFailedError(
            f"{host} did not answer in time.", remedy=_OFFLINE, detail=detail)
    if _refused(cause):
        return ConnectionFailedError(
            f"Nothing accepted the connection at {host}.",
            remedy="A firewall may block it, or the address in the settings is wrong; check "
            "your connection, or use the Offline engine.",
            detail=detail)
    return ConnectionFailedError(f"Could not reach {host}.", remedy=_OFFLINE, detail=detail)


def _refused(cause: BaseException) -> bool:
    if isinstance(cause, ConnectionRefusedError):
        return True
    # asyncio joins the errors of every address it tried (IPv6, IPv4) into one OSError.
    text = str(cause)
    return (isinstance(cause, OSError) and cause.errno is None
            and text.startswith("Multiple exceptions:")
            and text.count("[Errno ") == text.count(f"[Errno {errno.ECONNREFUSED}]"))
