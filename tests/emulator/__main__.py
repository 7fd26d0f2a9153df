"""Run the emulator stand-alone: `python -m tests.emulator --port 8765 --api-key KEY`.

Prints one line with its URLs, then serves until SIGINT/SIGTERM (exit status 0).  Every fault
knob of `EmulatorConfig` has an option; `--help` says what each one reproduces.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sys
from collections.abc import Callable, Sequence

from .coded import CodedRecognizer
from .config import DEFAULT_CLOSE_REASONS, EmulatorConfig, SessionParams
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
        choices=("scripted", "offline", "coded"),
        default="scripted",
        help="scripted: script words by audio time; offline: real recognition with the app's "
        "offline engine (Whisper tiny.en); coded: reads word numbers from coded speech "
        "(tests/support/coded_speech.py), so lost or doubled words can be counted",
    )
    parser.add_argument("--script-text", help="sentences for the scripted recogniser")
    parser.add_argument("--ms-per-word", type=int, default=200)
    parser.add_argument(
        "--legacy-codes", action="store_true", help="2025 behaviour: 3005 for every error"
    )
    _add_fault_options(parser)
    return parser


def _add_fault_options(parser: argparse.ArgumentParser) -> None:
    faults = parser.add_argument_group(
        "fault knobs",
        "S is seconds after Begin (after session start when Begin is withheld). Each knob "
        "applies to every accepted session unless --fault-sessions limits it.",
    )
    faults.add_argument(
        "--fault-sessions", type=int, metavar="N",
        help="faults hit only the first N accepted sessions, later ones are healthy "
        "(reproduces a transient failure that a reconnect gets past; default: all)",
    )
    faults.add_argument(
        "--begin-delay", default=0.0, type=float, metavar="S",
        help="send Begin S late (reproduces a slow or overloaded service start)",
    )
    faults.add_argument(
        "--withhold-begin", action="store_true",
        help="never send Begin, the upgrade succeeded (reproduces a service hung at start)",
    )
    faults.add_argument(
        "--close-after", type=float, metavar="S",
        help="close the session with --close-code/--close-reason (reproduces the service "
        "ending a session: errors, restarts, overload)",
    )
    faults.add_argument(
        "--close-code", type=int, default=3005, metavar="CODE",
        help="code for --close-after: 1000 normal, 1008 unauthorized, 1011 internal error, "
        "1012 service restart, 1013 try again later, 3005 server error (default), 3006 invalid "
        "input, 3007 audio rate/duration, 3008 session expired, 3009 too many sessions, "
        "4xxx the SDK table; 1011-1013 come without an Error frame, as from a proxy",
    )
    faults.add_argument(
        "--close-reason", metavar="TEXT",
        help="reason for --close-after (default: the documented text for the code)",
    )
    faults.add_argument(
        "--no-error-frame", action="store_true",
        help="close without the Error frame before the close (reproduces older servers)",
    )
    faults.add_argument(
        "--drop-after", type=float, metavar="S",
        help="abort the TCP connection without a close frame, client sees 1006 (reproduces a "
        "network drop, Wi-Fi switch, NAT timeout, laptop sleep)",
    )
    faults.add_argument(
        "--stall-after", type=float, metavar="S",
        help="stop reading and answering (not even pings), socket kept open (reproduces a hung "
        "server or a black-holed route: only the client's own timeout notices)",
    )
    faults.add_argument(
        "--malformed-after", type=float, metavar="S",
        help="send a non-JSON text frame (reproduces a truncated message from a broken proxy)",
    )
    faults.add_argument(
        "--oversized-after", type=float, metavar="S",
        help="send one huge text frame, a JSON Warning of --oversized-bytes (reproduces a "
        "runaway message; websockets' default client limit of 1 MiB closes 1009)",
    )
    faults.add_argument(
        "--oversized-bytes", type=int, default=6 * 2**20, metavar="N",
        help="size of the --oversized-after frame (default 6 MiB)",
    )
    faults.add_argument(
        "--repeat-begin-after", type=float, metavar="S",
        help="send a second Begin with a new id (reproduces a session restarted behind a proxy)",
    )
    faults.add_argument(
        "--termination-after", type=float, metavar="S",
        help="send an unrequested Termination, then close 1000 (reproduces the service ending "
        "a session the client did not terminate)",
    )
    faults.add_argument(
        "--key-echo-after", type=float, metavar="S",
        help="fail 3005 with the client's API key or token in the Error text and close reason "
        "(reproduces a server message quoting credentials: tests redaction)",
    )
    faults.add_argument(
        "--surrogate-after", type=float, metavar="S",
        help="the next Turn's last word ends in a lone surrogate, JSON escape \\ud800 "
        "(reproduces invalid Unicode in a transcript)",
    )
    faults.add_argument(
        "--expire-after", type=float, metavar="S",
        help="close 3008 Session Expired after S, Begin's expires_at agrees (reproduces the "
        "3-hour cap or a token's max_session_duration_seconds, early)",
    )
    faults.add_argument(
        "--drop-on-terminate", choices=("before-finals", "after-finals"),
        help="when the client sends Terminate, drop the TCP connection before or after the final "
        "Turns, never sending Termination (reproduces a network drop while the client stops)",
    )


def _apply_faults(config: EmulatorConfig, args: argparse.Namespace) -> None:
    if args.close_after is not None:
        reason = args.close_reason
        if reason is None:
            reason = DEFAULT_CLOSE_REASONS.get(args.close_code, f"Closed ({args.close_code})")
        config.close_after = (args.close_code, args.close_after, reason)
    config.fault_sessions = args.fault_sessions
    config.begin_delay = args.begin_delay
    config.withhold_begin = args.withhold_begin
    config.send_error_frame = not args.no_error_frame
    config.drop_after = args.drop_after
    config.stall_after = args.stall_after
    config.malformed_after = args.malformed_after
    config.oversized_after = args.oversized_after
    config.oversized_bytes = args.oversized_bytes
    config.repeat_begin_after = args.repeat_begin_after
    config.termination_after = args.termination_after
    config.key_echo_after = args.key_echo_after
    config.surrogate_after = args.surrogate_after
    config.expire_after = args.expire_after
    config.drop_on_terminate = args.drop_on_terminate


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
    elif args.recognizer == "coded":

        def factory(params: SessionParams) -> Recognizer:
            if params.encoding != "pcm_s16le":  # the session reports it as a server error
                raise ValueError("the coded recogniser reads pcm_s16le only")
            return CodedRecognizer(params.sample_rate)
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
    _apply_faults(config, args)
    asyncio.run(_serve(config, args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
