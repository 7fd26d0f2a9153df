"""Composition root: parse arguments, build settings from the environment, wire io, run.

The only module that knows every concrete class. The desktop window is wired here by the
window issue; today the app runs headless: ``--headless --wav FILE`` streams a WAV file to the
configured service and prints each finished turn (partials go to stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from app import __version__
from app.core.config import Settings, api_key_from, with_environment
from app.core.errors import LiveTranscriberError
from app.core.messages import Turn
from app.core.ports import EngineEvent, SessionFailed
from app.io.streaming import StreamingSession
from app.io.wavfile import paced_frames, read_wav_pcm


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="live-transcriber", description="Live speech-to-text on the desktop."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--headless", action="store_true",
                        help="run without a window and print the transcript to stdout")
    parser.add_argument("--wav", type=Path, help="with --headless: stream this 16 kHz mono WAV")
    parser.add_argument("--fast", action="store_true",
                        help="with --wav: send the file as fast as allowed, not in real time")
    return parser


class _TurnPrinter:
    """Finished turns to stdout, partials to stderr. With formatted turns the service sends
    the unformatted final first (2025 form); only the formatted one is printed."""

    def __init__(self, format_turns: bool) -> None:
        self._format_turns = format_turns

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, Turn):
            if not event.end_of_turn:
                print(f"… {event.text}", file=sys.stderr, flush=True)
            elif event.turn_is_formatted or not self._format_turns:
                print(event.transcript, flush=True)
        elif isinstance(event, SessionFailed):
            print(f"error: {event.error}", file=sys.stderr, flush=True)


async def _headless_wav(path: Path, realtime: bool) -> int:
    settings = with_environment(Settings(), os.environ)
    key = api_key_from(os.environ, None)
    if key is None:
        print("error: no API key. Set ASSEMBLYAI_API_KEY (the keyring arrives with the window).",
              file=sys.stderr)
        return 2
    pcm = read_wav_pcm(path)
    session = StreamingSession(settings.endpoints(), key, settings.streaming_params(),
                               _TurnPrinter(settings.format_turns))
    await session.start()
    async for frame in paced_frames(pcm, realtime=realtime):
        session.send_audio(frame)
    await session.stop()
    await session.wait_closed()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.headless or args.wav is None:
        _parser().print_usage(sys.stderr)
        print("live-transcriber: the desktop window is not built yet; use --headless --wav FILE.",
              file=sys.stderr)
        return 2
    try:
        return asyncio.run(_headless_wav(args.wav, realtime=not args.fast))
    except LiveTranscriberError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
