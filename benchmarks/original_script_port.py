"""A faithful minimal port of the script this project began from, adapted to the v3 API: the
"original design" subject of ``bench_cpu`` and ``bench_audio_latency``.

Run: ``python -m benchmarks.original_script_port --url ws://127.0.0.1:PORT --key KEY
[--file X.wav] [--stamps OUT.json]``. Prints ``session <id>`` on stderr at ``Begin``, each
finished turn on stdout; SIGTERM/SIGINT ends it (Terminate, then close).

The design kept as it was (AssemblyAI's 2022 real-time Python example, the script's origin):

* one asyncio loop, two coroutines under ``asyncio.gather``: ``send`` and ``receive``;
* ``send`` calls PyAudio's **blocking** ``stream.read(3200)`` (200 ms at 16 kHz) inside the
  event loop, sends it, then ``await asyncio.sleep(0.01)``; the loop is blocked while it reads;
* ``websockets.connect`` with its defaults (permessage-deflate offered, as the original), plus
  the original's ``ping_interval=5, ping_timeout=20``;
* ``receive`` awaits ``ws.recv()``, ``json.loads`` each message and prints the text.

Adapted, because v3 requires it (PROTOCOL.md): the URL is ``/v3/ws?sample_rate=16000&
encoding=pcm_s16le&format_turns=true``; audio goes as **binary frames** of raw PCM, not
``{"audio_data": base64}`` JSON text (v3 rejects text audio with 3006), so the base64 encoding
and JSON dump per chunk are gone; messages are read as v3 ``Turn`` (the finished, formatted
turn's ``transcript`` is printed) rather than v2 ``FinalTranscript``; the script never ended a
session, the port sends ``{"type": "Terminate"}`` on SIGTERM so the emulator ends cleanly; the
key goes in the ``Authorization`` header (as the original did). ``--file`` replaces the
microphone by a WAV read with the same blocking 200 ms ``read`` (it sleeps until the chunk's
real-time deadline, as a device read blocks), so the design can be compared on both sources.

``--stamps PATH`` (for ``bench_audio_latency``) writes, per chunk: ``read`` (monotonic ns when
``stream.read`` returned), ``backlog`` (sample frames PortAudio already held beyond the chunk,
``get_read_available()`` right after the read) and ``sent`` (when ``ws.send`` returned).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
import wave
from pathlib import Path
from typing import Any

import websockets

FRAMES_PER_BUFFER = 3200  # the original's: 200 ms at 16 kHz
RATE = 16_000


class BlockingWav:
    """A WAV file read like a capture device in blocking mode: ``read(n)`` returns ``n`` frames
    once they would have been recorded."""

    def __init__(self, path: Path) -> None:
        self._wav = wave.open(str(path), "rb")
        self._began = time.monotonic()
        self._frames = 0

    def read(self, frames: int, exception_on_overflow: bool = True) -> bytes:
        data = self._wav.readframes(frames)
        if not data:
            raise EOFError
        self._frames += len(data) // 2
        delay = self._began + self._frames / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return data

    def get_read_available(self) -> int:
        return 0

    def close(self) -> None:
        self._wav.close()


def open_microphone() -> tuple[Any, Any]:
    import pyaudio

    audio = pyaudio.PyAudio()
    stream = audio.open(format=pyaudio.paInt16, channels=1, rate=RATE, input=True,
                        frames_per_buffer=FRAMES_PER_BUFFER)
    return audio, stream


async def send_receive(url: str, key: str, stream: Any, stop: asyncio.Event,
                       stamps: list[tuple[int, int, int]] | None) -> None:
    async with websockets.connect(url, additional_headers={"Authorization": key},
                                  ping_interval=5, ping_timeout=20) as ws:
        begin = json.loads(await ws.recv())
        print(f"session {begin.get('id')}", file=sys.stderr, flush=True)

        async def send() -> None:
            while not stop.is_set():
                try:
                    data = stream.read(FRAMES_PER_BUFFER, exception_on_overflow=False)
                except EOFError:
                    break
                read = time.monotonic_ns()
                backlog = stream.get_read_available()
                await ws.send(data)
                if stamps is not None:
                    stamps.append((read, backlog, time.monotonic_ns()))
                await asyncio.sleep(0.01)
            await ws.send(json.dumps({"type": "Terminate"}))

        async def receive() -> None:
            async for message in ws:
                result = json.loads(message)
                if result.get("type") == "Turn":
                    if result.get("end_of_turn") and result.get("turn_is_formatted"):
                        print(result.get("transcript", ""), flush=True)
                elif result.get("type") == "Termination":
                    return

        await asyncio.gather(send(), receive())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--url", required=True, help="ws://host:port of the emulator")
    parser.add_argument("--key", default=os.environ.get("ASSEMBLYAI_API_KEY", ""))
    parser.add_argument("--file", type=Path, help="a 16 kHz mono WAV instead of the microphone")
    parser.add_argument("--stamps", type=Path, help="write per-chunk clock stamps here")
    args = parser.parse_args(argv)
    url = f"{args.url}/v3/ws?sample_rate={RATE}&encoding=pcm_s16le&format_turns=true"
    audio = None
    if args.file is not None:
        stream: Any = BlockingWav(args.file)
    else:
        audio, stream = open_microphone()
    stamps: list[tuple[int, int, int]] | None = [] if args.stamps else None

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await send_receive(url, args.key, stream, stop, stamps)

    try:
        asyncio.run(run())
    finally:
        stream.close()
        if audio is not None:
            audio.terminate()
        if args.stamps and stamps is not None:
            args.stamps.write_text(json.dumps(
                {"rate": RATE, "chunk_frames": FRAMES_PER_BUFFER,
                 "stamps": [list(s) for s in stamps]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
