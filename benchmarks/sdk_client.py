"""The official ``assemblyai`` SDK's ``StreamingClient`` streaming a WAV file or a microphone,
as the SDK's own README shows it: the comparison subject of ``bench_cpu``.

Run: ``python -m benchmarks.sdk_client --url ws://127.0.0.1:PORT --key KEY (--file X.wav |
--mic)``; the key may also come from ``ASSEMBLYAI_API_KEY``. Prints ``session <id>`` on
stderr at ``Begin`` (the benchmark starts counting CPU from it), each finished turn on stdout,
and stops on SIGTERM/SIGINT with ``disconnect(terminate=True)``.

What it does, and nothing more, so that the SDK's own cost is what is measured:

* ``StreamingClient(StreamingClientOptions(api_host="ws://…", api_key=…))`` (PROTOCOL.md §10:
  the ``ws://`` form reaches a local server), handlers for Begin/Turn/Termination/Error,
  ``connect(StreamingParameters(sample_rate=16000, format_turns=True))``;
* audio in 50 ms chunks, the wire frame the app sends: from a file, ``client.stream(chunk)``
  paced by ``time.sleep`` against a monotonic schedule (the SDK has no file helper in 1.8.2);
  from the microphone, PyAudio blocking ``stream.read(800)`` on the main thread, the pattern of
  the SDK's former ``extras.MicrophoneStream`` (which read 100 ms), since 1.8.2 has no
  microphone helper either;
* the SDK's threads (a writer draining a ``queue.Queue``, a reader on ``recv(timeout=1)``) and
  its websocket options as they are: it offers permessage-deflate, the emulator accepts it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import wave
from pathlib import Path
from typing import Any

CHUNK_SAMPLES = 800  # 50 ms at 16 kHz


def main(argv: list[str] | None = None) -> int:
    from assemblyai.streaming.v3 import (
        BeginEvent,
        StreamingClient,
        StreamingClientOptions,
        StreamingError,
        StreamingEvents,
        StreamingParameters,
        TerminationEvent,
        TurnEvent,
    )

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--url", required=True, help="ws://host:port of the emulator")
    parser.add_argument("--key", default=os.environ.get("ASSEMBLYAI_API_KEY", ""))
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path)
    source.add_argument("--mic", action="store_true")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    def on_begin(client: Any, event: BeginEvent) -> None:
        print(f"session {event.id}", file=sys.stderr, flush=True)

    def on_turn(client: Any, event: TurnEvent) -> None:
        if event.end_of_turn and event.turn_is_formatted:
            print(event.transcript, flush=True)

    def on_terminated(client: Any, event: TerminationEvent) -> None:
        print("terminated", file=sys.stderr, flush=True)

    def on_error(client: Any, error: StreamingError) -> None:
        print(f"error: {error}", file=sys.stderr, flush=True)
        stop.set()

    client = StreamingClient(StreamingClientOptions(api_host=args.url, api_key=args.key))
    client.on(StreamingEvents.Begin, on_begin)
    client.on(StreamingEvents.Turn, on_turn)
    client.on(StreamingEvents.Termination, on_terminated)
    client.on(StreamingEvents.Error, on_error)
    # pydantic model: mypy sees every optional field as required
    client.connect(StreamingParameters(  # type: ignore[call-arg]
        sample_rate=16_000, format_turns=True))
    try:
        if args.mic:
            _stream_microphone(client.stream, stop)
        else:
            _stream_file(args.file, client.stream, stop)
    finally:
        client.disconnect(terminate=True)
    return 0


def _stream_file(path: Path, send: Any, stop: threading.Event) -> None:
    with wave.open(str(path), "rb") as wav:
        began = time.monotonic()
        sent = 0
        while not stop.is_set():
            chunk = wav.readframes(CHUNK_SAMPLES)
            if not chunk:
                return
            send(chunk)
            sent += 1
            delay = began + sent * CHUNK_SAMPLES / 16_000 - time.monotonic()
            if delay > 0:
                stop.wait(delay)


def _stream_microphone(send: Any, stop: threading.Event) -> None:
    import pyaudio

    audio = pyaudio.PyAudio()
    stream = audio.open(format=pyaudio.paInt16, channels=1, rate=16_000, input=True,
                        frames_per_buffer=CHUNK_SAMPLES)
    try:
        while not stop.is_set():
            send(stream.read(CHUNK_SAMPLES, exception_on_overflow=False))
    finally:
        stream.stop_stream()
        stream.close()
        audio.terminate()


if __name__ == "__main__":
    sys.exit(main())
