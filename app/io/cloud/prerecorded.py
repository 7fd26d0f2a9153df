"""A file transcribed by AssemblyAI's pre-recorded API: upload, create the transcript, poll.

Far faster than streaming a long file at real-time pace: the service reads the whole file at
once. The wire facts are in ``docs/PRERECORDED.md``; what the answers mean is decided in
:mod:`app.core.prerecorded` (pure). HTTP is the standard library's ``urllib`` run in worker
threads (``asyncio.to_thread``), so no dependency is added and the event loop never blocks.

The upload streams the file from disk in 256 KiB reads (a one-hour MP3 is never held in
memory) and reports how much has gone; cancelling the coroutine stops the upload at the next
read and stops polling at once.

Errors: every failure is a typed error — an HTTP refusal through
:func:`app.core.errors.error_for_http_status` (401 → :class:`AuthError` …), no answer at all
→ :class:`ConnectionFailedError`, ``status: error`` → :class:`ServiceError` with the
service's reason, and polling past ``timeout_s`` → :class:`TranscriptionTimeoutError`. The key
goes only into the ``authorization`` header and is redacted from every text kept.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, Final

from app.core import prerecorded
from app.core.errors import (
    AudioError,
    LiveTranscriberError,
    error_for_http_status,
)
from app.core.messages import Turn
from app.core.prerecorded import JobStatus, TranscriptJob
from app.io.cloud.reach import host_of, unreachable

log = logging.getLogger(__name__)

_READ_BYTES: Final = 256 * 1024
_REQUEST_TIMEOUT_S: Final = 60.0
DEFAULT_TIMEOUT_S: Final = 3 * 60 * 60.0  # the service's own limit for a long file is hours

StageSink = Callable[[str, int | None], None]  # a sentence, and a percentage when there is one



class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect with the same ``authorization`` header, to any host:
    the key must only ever reach the address the person configured, so a redirect is an
    answer (an error), never followed."""

    def redirect_request(self, req: urllib.request.Request, fp: object, code: int, msg: str,
                         headers: object, newurl: str) -> None:
        return None


_OPENER: Final = urllib.request.build_opener(_NoRedirects)

class _Cancelled(Exception):
    pass


class _CountingReader:
    """The file as urllib reads it for the request body, counting bytes and honouring a
    cancel between reads (called in the worker thread)."""

    def __init__(self, file: BinaryIO, size: int, sent: Callable[[int], None],
                 cancelled: threading.Event) -> None:
        self._file, self._size, self._sent, self._cancelled = file, size, sent, cancelled
        self._done = 0

    def read(self, size: int = -1) -> bytes:
        if self._cancelled.is_set():
            raise _Cancelled
        data = self._file.read(_READ_BYTES if size is None or size < 0 else size)
        self._done += len(data)
        self._sent(self._done)
        return data


def _open(path: Path) -> tuple[int, BinaryIO]:
    file = open(path, "rb")  # noqa: SIM115 - the upload closes it once the worker is done
    return os.fstat(file.fileno()).st_size, file


class PrerecordedClient:
    """Transcribes one file at a time with the pre-recorded API at ``base`` (see
    :func:`app.core.prerecorded.api_base`)."""

    def __init__(self, base: str, key: str, *, timeout_s: float = DEFAULT_TIMEOUT_S,
                 first_poll_s: float = 1.0, longest_poll_s: float = 5.0,
                 language_code: str | None = None) -> None:
        self._base = base
        self._key = key
        self._timeout_s = timeout_s
        self._first_poll_s = first_poll_s
        self._longest_poll_s = longest_poll_s
        self._language_code = language_code

    async def transcribe(self, path: Path, on_stage: StageSink) -> list[Turn]:
        """The file's paragraphs as finished turns, times from the file's own timeline."""
        cancelled = threading.Event()
        try:
            upload_url = await self._upload(path, on_stage, cancelled)
            on_stage("Waiting for AssemblyAI to start…", None)
            job = prerecorded.parse_transcript(await self._request(
                f"{self._base}{prerecorded.TRANSCRIPT_PATH}", "POST",
                prerecorded.create_body(upload_url, language_code=self._language_code),
                "application/json"))
            job = await self._poll(job, path.name, on_stage)
        finally:
            cancelled.set()  # a cancelled upload stops at its next read
        return prerecorded.paragraphs(job.words)

    async def _upload(self, path: Path, on_stage: StageSink, cancelled: threading.Event
                      ) -> str:
        loop = asyncio.get_running_loop()
        try:
            size, file = await asyncio.to_thread(_open, path)
        except OSError as exc:
            raise AudioError(f"{path.name} could not be read ({exc.strerror}).",
                             remedy="Check that the file is still there.") from None
        last = [-1]

        def sent(done: int) -> None:  # worker thread: hop to the loop, at most once a percent
            percent = done * 100 // size if size else 100
            if percent != last[0]:
                last[0] = percent
                loop.call_soon_threadsafe(on_stage, f"Uploading {path.name}…", percent)

        on_stage(f"Uploading {path.name}…", 0)
        try:
            body = _CountingReader(file, size, sent, cancelled)
            answer = await self._request(f"{self._base}{prerecorded.UPLOAD_PATH}", "POST", body,
                                         "application/octet-stream", length=size)
        finally:
            await asyncio.to_thread(file.close)
        return prerecorded.parse_upload(answer)

    async def _poll(self, job: TranscriptJob, name: str, on_stage: StageSink) -> TranscriptJob:
        began = time.monotonic()
        delays = prerecorded.poll_delays(self._first_poll_s, self._longest_poll_s)
        while True:
            if job.status is JobStatus.COMPLETED:
                return job
            if job.status is JobStatus.ERROR:
                raise prerecorded.job_failed(job, name)
            waited = time.monotonic() - began
            if waited >= self._timeout_s:
                raise prerecorded.timed_out(name, waited)
            what = "queued" if job.status is JobStatus.QUEUED else "transcribing"
            on_stage(f"AssemblyAI is {what} {name}…", None)
            await asyncio.sleep(min(next(delays), max(0.0, self._timeout_s - waited)))
            job = prerecorded.parse_transcript(await self._request(
                prerecorded.transcript_url(self._base, job.id), "GET", None, None))

    async def _request(self, url: str, method: str, body: bytes | _CountingReader | None,
                       content_type: str | None, *, length: int | None = None) -> bytes:
        headers = {"authorization": self._key, "accept": "application/json"}
        if content_type is not None:
            headers["content-type"] = content_type
        if length is not None:
            headers["content-length"] = str(length)
        request = urllib.request.Request(url, data=body, method=method,
                                         headers=headers)
        return await asyncio.to_thread(self._send, request)

    def _send(self, request: urllib.request.Request) -> bytes:
        try:
            with _OPENER.open(request, timeout=_REQUEST_TIMEOUT_S) as response:
                data: bytes = response.read()
                return data
        except urllib.error.HTTPError as exc:
            raise self._refused(exc) from None
        except _Cancelled:
            raise
        except http.client.HTTPException as exc:  # reached, but no HTTP answer came back
            raise prerecorded.not_the_api(
                self._base, closed=isinstance(exc, http.client.RemoteDisconnected)) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise unreachable(exc, host_of(self._base), (self._key,)) from None

    def _refused(self, exc: urllib.error.HTTPError) -> LiveTranscriberError:
        try:
            raw = exc.read()
        except OSError:
            raw = b""
        text = ""
        try:
            value = json.loads(raw)
            if isinstance(value, dict) and isinstance(value.get("error"), str):
                text = value["error"][:200]
        except (ValueError, UnicodeDecodeError):
            text = ""
        return error_for_http_status(exc.code, text, secrets=[self._key])
