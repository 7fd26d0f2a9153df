"""Run the emulator stand-alone: `python -m tests.emulator --port 8765 --api-key KEY`.

Prints one line with its URLs, then serves until SIGINT/SIGTERM (exit status 0).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys
from collections.abc import Callable, Sequence

from .config import EmulatorConfig, SessionParams
from .recognizers import DEFAULT_SCRIPT, OfflineRecognizer, Recognizer, ScriptedRecognizer
from .server import run_emulator


def _sentences(text: str) -> tuple[str, ...]:
    """Script text → lower-case sentences without punctuation; split on . ! ? | or newlines."""
    parts = re.split(r"[.!?|\n]+", text)
    cleaned = (re.sub(r"[^\w\s']", " ", part).lower().split() for part in parts)
    return tuple(" ".join(words) for words in cleaned if words)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tests.emulator", description="Local AssemblyAI streaming emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accepted API key (repeatable; default: test-key)",
    )
    parser.add_argument(
        "--recognizer",
        choices=("scripted", "offline"),
        default="scripted",
        help="offline: real recognition with the app's offline engine (Whisper tiny.en)",
    )
    parser.add_argument("--script-text", help="sentences for the scripted recogniser")
    parser.add_argument("--ms-per-word", type=int, default=200)
    parser.add_argument(
        "--legacy-codes", action="store_true", help="2025 behaviour: 3005 for every error"
    )
    return parser


async def _serve(config: EmulatorConfig, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with run_emulator(config, host=host, port=port) as emulator:
        print(
            f"Emulator listening on {emulator.url} (v3: /v3/ws, token: "
            f"{emulator.http_url}/v3/token)",
            flush=True,
        )
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    factory: Callable[[SessionParams], Recognizer]
    if args.recognizer == "offline":
        from app.core.errors import OfflineModelError
        from app.io.offline.model import WhisperModelLoader

        try:
            recogniser = WhisperModelLoader().load_blocking()  # once, shared by all sessions
        except OfflineModelError as exc:
            print(f"offline recogniser unavailable: {exc}", file=sys.stderr, flush=True)
            return 2

        def factory(params: SessionParams) -> Recognizer:
            return OfflineRecognizer(recogniser)
    else:
        sentences = _sentences(args.script_text) if args.script_text else DEFAULT_SCRIPT
        ms_per_word: int = args.ms_per_word

        def factory(params: SessionParams) -> Recognizer:
            return ScriptedRecognizer(sentences, ms_per_word=ms_per_word)

    config = EmulatorConfig(
        api_keys=frozenset(args.api_keys or ["test-key"]),
        recognizer_factory=factory,
        legacy_codes=args.legacy_codes,
    )
    asyncio.run(_serve(config, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
