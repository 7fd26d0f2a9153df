"""AssemblyAI's pre-recorded REST API on loopback (facts in docs/PRERECORDED.md).

* ``POST /v2/upload`` — the raw file bytes → 200 ``{"upload_url": "<base>/cdn/<id>"}``
* ``POST /v2/transcript`` — JSON with ``audio_url`` (one of this server's uploads) → 200
  transcript object, ``status: "queued"``
* ``GET /v2/transcript/{id}`` — ``queued`` → ``processing`` → ``completed`` (with ``text``,
  ``words`` [{text, start, end, confidence, speaker}] in ms, ``audio_duration`` in s) or
  ``error`` (with ``error``: the reason)

Auth as on the streaming emulator: the ``authorization`` header must be one of
``api_keys`` (the raw key, no ``Bearer``), else 401 ``{"error": "Invalid API key"}`` (or
``"Missing Authorization header"``). Error bodies are ``{"error": str}``. The body is read to
its end before any answer, so a refusal is never a connection reset.

Recognition: the upload is decoded with PyAV (a file that is not audio ends in
``status: error`` as on the real service); the words are the script's, spread over the
audio's length, each sentence capitalised with a full stop and a pause before the next
one — or what ``transcribe(pcm16k)`` returns when given.

Fault knobs (:class:`PrerecordedConfig`): ``refuse_upload`` (an HTTP status for every
upload), ``fail_with`` (every transcript ends in ``status: error`` with that reason),
``never_complete`` (polling stays ``processing`` for ever), ``polls_before_done``.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import av
import numpy as np

from .auth import INVALID_KEY, MISSING
from .recognizers import DEFAULT_SCRIPT

WordDict = dict[str, Any]
Transcriber = Callable[[np.ndarray], list[WordDict]]


@dataclass
class PrerecordedConfig:
    api_keys: frozenset[str] = frozenset({"test-key"})
    script: tuple[str, ...] = DEFAULT_SCRIPT
    ms_per_word: int = 300
    transcribe: Transcriber | None = None
    refuse_upload: int | None = None
    fail_with: str | None = None
    never_complete: bool = False
    polls_before_done: int = 1


@dataclass
class _Job:
    id: str
    audio_url: str
    polls: int = 0
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedCall:
    method: str
    path: str
    authorization: str
    body_bytes: int


def decode_16k(data: bytes) -> np.ndarray:
    """The file's first audio track as 16 kHz mono s16 samples (raises on non-audio)."""
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=16_000)
        chunks = [f.to_ndarray().reshape(-1)
                  for frame in container.decode(stream) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


def scripted_words(script: tuple[str, ...], ms_per_word: int, duration_ms: int
                   ) -> list[WordDict]:
    """The script's sentences, word after word, a 1 s pause between sentences, within the
    audio's length."""
    words: list[WordDict] = []
    at = 200
    for sentence in script:
        parts = sentence.split()
        for index, text in enumerate(parts):
            if at + ms_per_word > duration_ms:
                return words
            if index == 0:
                text = text.capitalize()
            if index == len(parts) - 1:
                text += "."
            words.append({"text": text, "start": at, "end": at + ms_per_word - 40,
                          "confidence": 0.98, "speaker": None})
            at += ms_per_word
        at += 1000
    return words


class PrerecordedEmulator:
    """Serves the pre-recorded API on ``127.0.0.1:<free port>`` in a thread::

        with PrerecordedEmulator(PrerecordedConfig()) as api:
            env["LIVE_TRANSCRIBER_API_URL"] = api.url
    """

    def __init__(self, config: PrerecordedConfig | None = None, *, port: int = 0) -> None:
        self.config = config or PrerecordedConfig()
        self.calls: list[RecordedCall] = []
        self.called = threading.Event()  # set by every request; a test clears it to watch
        self.uploads: dict[str, bytes] = {}
        self.jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="prerecorded-emulator", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the API, called from the handler's threads ----------------------------------------

    def answer(self, method: str, path: str, auth: str, body: bytes) -> tuple[int, Any]:
        with self._lock:
            self.calls.append(RecordedCall(method, path, auth, len(body)))
        self.called.set()
        if not auth:
            return 401, {"error": MISSING}
        if auth not in self.config.api_keys:
            return 401, {"error": INVALID_KEY}
        if path == "/v2/upload" and method == "POST":
            if self.config.refuse_upload is not None:
                return self.config.refuse_upload, {"error": "Upload refused"}
            upload_id = uuid.uuid4().hex
            with self._lock:
                self.uploads[upload_id] = body
            return 200, {"upload_url": f"{self.url}/cdn/{upload_id}"}
        if path == "/v2/transcript" and method == "POST":
            return self._create(body)
        if path.startswith("/v2/transcript/") and method == "GET":
            return self._poll(path.rsplit("/", 1)[1])
        return 404, {"error": "Not found"}

    def _create(self, body: bytes) -> tuple[int, Any]:
        try:
            request = json.loads(body)
            audio_url = request["audio_url"]
            assert isinstance(audio_url, str)
        except (ValueError, KeyError, TypeError, AssertionError):
            return 400, {"error": "audio_url is required"}
        job = _Job(uuid.uuid4().hex, audio_url)
        with self._lock:
            self.jobs[job.id] = job
        return 200, self._object(job, "queued")

    def _poll(self, job_id: str) -> tuple[int, Any]:
        with self._lock:
            job = self.jobs.get(job_id)
            if job is None:
                return 404, {"error": "Transcript not found"}
            job.polls += 1
            polls = job.polls
        if self.config.never_complete or polls < self.config.polls_before_done:
            return 200, self._object(job, "processing")
        if not job.result:
            job.result = self._transcribe(job)
        return 200, job.result

    def _transcribe(self, job: _Job) -> dict[str, Any]:
        if self.config.fail_with is not None:
            return self._object(job, "error", error=self.config.fail_with)
        upload = self.uploads.get(job.audio_url.rsplit("/", 1)[-1])
        if upload is None:
            return self._object(job, "error", error="Download error, unable to download "
                                                    f"{job.audio_url}")
        try:
            pcm = decode_16k(upload)
        except (av.error.FFmpegError, IndexError, ValueError, OSError):
            return self._object(job, "error", error="File does not appear to contain audio. "
                                "File type is text/plain (ASCII text).")
        duration_ms = len(pcm) * 1000 // 16_000
        if self.config.transcribe is not None:
            words = self.config.transcribe(pcm)
        else:
            words = scripted_words(self.config.script, self.config.ms_per_word, duration_ms)
        return self._object(job, "completed", words=words, text=" ".join(w["text"] for w in words),
                            audio_duration=round(duration_ms / 1000))

    @staticmethod
    def _object(job: _Job, status: str, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"id": job.id, "status": status, "audio_url": job.audio_url,
                                "text": None, "words": None, "error": None}
        body.update(extra)
        return body


def _handler_for(api: PrerecordedEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload = api.answer(method, self.path.split("?")[0],
                                         self.headers.get("authorization", "").strip(), body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the calls are recorded on the emulator

    return Handler


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.emulator.prerecorded --port 8766 --api-key KEY [faults]``: serve
    until Ctrl+C, printing the address for ``LIVE_TRANSCRIBER_API_URL`` first."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(prog="python -m tests.emulator.prerecorded",
                                     description="Local AssemblyAI pre-recorded API emulator.")
    parser.add_argument("--port", type=int, default=8766, help="0 picks a free port")
    parser.add_argument("--api-key", action="append", dest="api_keys", metavar="KEY")
    parser.add_argument("--refuse-upload", type=int, metavar="STATUS",
                        help="answer every upload with this HTTP status")
    parser.add_argument("--fail-with", metavar="REASON",
                        help="every transcript ends in status error with this reason")
    parser.add_argument("--never-complete", action="store_true",
                        help="polling stays 'processing' for ever")
    args = parser.parse_args(argv)
    config = PrerecordedConfig(api_keys=frozenset(args.api_keys or {"test-key"}),
                               refuse_upload=args.refuse_upload, fail_with=args.fail_with,
                               never_complete=args.never_complete)
    emulator = PrerecordedEmulator(config, port=args.port)
    print(f"pre-recorded API on {emulator.url}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with emulator:
        stop.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
