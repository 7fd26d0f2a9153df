"""The floor of ``bench_cpu``: the least a Python streaming client can do on this machine.

Run: ``python -m benchmarks.bare_client --url ws://127.0.0.1:PORT --key KEY --file X.wav``.
One asyncio loop, ``websockets`` without compression, the WAV read into memory up front and
sent as 50 ms binary frames (``--frame-ms``: 50-1000) on a monotonic schedule (one loop
wake-up per frame), each message received ``json.loads``-ed and finished turns printed. No
capture, no level meter, no transcript model, no autosave: what the app costs above this is
its own work. Prints ``session <id>`` on stderr at ``Begin``; SIGTERM/SIGINT sends Terminate
and waits for the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import wave
from pathlib import Path

from websockets.asyncio.client import connect

BYTES_PER_MS = 32  # 16 kHz s16le


async def stream(url: str, key: str, path: Path, frame_ms: int = 50) -> None:
    frame_bytes = frame_ms * BYTES_PER_MS
    with wave.open(str(path), "rb") as wav:
        audio = wav.readframes(wav.getnframes())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with connect(f"{url}/v3/ws?sample_rate=16000&encoding=pcm_s16le&format_turns=true",
                       additional_headers={"Authorization": key}, compression=None) as ws:
        async def receive() -> None:
            async for message in ws:
                event = json.loads(message)
                if event.get("type") == "Begin":
                    print(f"session {event['id']}", file=sys.stderr, flush=True)
                elif event.get("type") == "Turn" and event.get("end_of_turn") \
                        and event.get("turn_is_formatted"):
                    print(event["transcript"], flush=True)
                elif event.get("type") == "Termination":
                    return

        reader = asyncio.create_task(receive())
        began = loop.time()
        for index, offset in enumerate(range(0, len(audio) - frame_bytes + 1, frame_bytes)):
            if stop.is_set():
                break
            await ws.send(audio[offset:offset + frame_bytes])
            delay = began + (index + 1) * frame_ms / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        await ws.send(json.dumps({"type": "Terminate"}))
        await reader


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", default=os.environ.get("ASSEMBLYAI_API_KEY", ""))
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--frame-ms", type=int, default=50, choices=range(50, 1001),
                        metavar="50..1000", help="audio per binary message")
    args = parser.parse_args(argv)
    asyncio.run(stream(args.url, args.key, args.file, args.frame_ms))
    return 0


if __name__ == "__main__":
    sys.exit(main())
