"""Configuration of the AssemblyAI streaming emulator and of one emulated session.

`EmulatorConfig` holds the server-wide switches: accepted API keys, the recogniser, the
2025-vs-2026 behaviour switches (PROTOCOL.md §4.1 formatted turns, §5.1 close codes) and the
fault knobs used to reproduce network and server failures.  `SessionParams` is the parsed form
of the v3 connection query (PROTOCOL.md §2.2, §10).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .recognizers import Recognizer

# v3 close codes (PROTOCOL.md §5.1).
CLOSE_NORMAL = 1000
CLOSE_UNAUTHORIZED = 1008
CLOSE_SERVER_ERROR = 3005
CLOSE_INVALID_INPUT = 3006
CLOSE_AUDIO_DURATION = 3007
CLOSE_SESSION_EXPIRED = 3008
CLOSE_TOO_MANY_SESSIONS = 3009
# Infrastructure codes (RFC 6455 §7.4.1, IANA registry): a proxy or server process says these
# without an application Error frame.  The SDK tables know 1013 only (PROTOCOL.md §5.2).
CLOSE_INTERNAL_ERROR = 1011
CLOSE_SERVICE_RESTART = 1012
CLOSE_TRY_AGAIN_LATER = 1013
INFRASTRUCTURE_CODES = frozenset({1001, CLOSE_INTERNAL_ERROR, CLOSE_SERVICE_RESTART,
                                  CLOSE_TRY_AGAIN_LATER})

# Reasons used when a fault close gives none (the documented texts where there are any,
# PROTOCOL.md §5.1/§5.2; the 1011–1013 texts are the RFC's names, UNCERTAIN for this service).
DEFAULT_CLOSE_REASONS: dict[int, str] = {
    CLOSE_NORMAL: "",
    CLOSE_UNAUTHORIZED: "Unauthorized Connection: Account disabled",
    CLOSE_INTERNAL_ERROR: "Internal Error",
    CLOSE_SERVICE_RESTART: "Service Restart",
    CLOSE_TRY_AGAIN_LATER: "Try Again Later",
    CLOSE_SERVER_ERROR: "Session Cancelled: An error occurred",
    CLOSE_SESSION_EXPIRED: "Session Expired: Maximum session duration exceeded",
    CLOSE_TOO_MANY_SESSIONS: "Unauthorized Connection: Too many concurrent sessions",
}

# The 2025 service folded every one of these into 3005 (PROTOCOL.md §5.1 "History").
_LEGACY_FOLDED = frozenset(
    {CLOSE_INVALID_INPUT, CLOSE_AUDIO_DURATION, CLOSE_SESSION_EXPIRED, CLOSE_TOO_MANY_SESSIONS}
)

# PROTOCOL.md §1.3: v3 token limits.
TOKEN_MIN_EXPIRES_IN = 1
SESSION_MIN_SECONDS = 60
SESSION_MAX_SECONDS = 10800


@dataclass(frozen=True)
class SessionParams:
    """The v3 connection parameters the emulator understands (PROTOCOL.md §2.2).

    `None` means "not given by the client"; the emulator then behaves as the documented
    default.  `speech_model` stays `None` when omitted (2025 default
    `universal-streaming-english`; the 2026 docs make it required, see
    `EmulatorConfig.require_speech_model`).
    """

    sample_rate: int = 16000
    encoding: str = "pcm_s16le"
    speech_model: str | None = None
    format_turns: bool = False
    keyterms_prompt: tuple[str, ...] | None = None
    end_of_turn_confidence_threshold: float | None = None
    min_turn_silence: int | None = None
    max_turn_silence: int | None = None
    vad_threshold: float | None = None
    inactivity_timeout: float | None = None
    language_detection: bool = False
    speaker_labels: bool = False
    filter_profanity: bool = False
    prompt: str | None = None

    @property
    def bytes_per_sample(self) -> int:
        return 1 if self.encoding == "pcm_mulaw" else 2


@dataclass
class EmulatorConfig:
    """Server-wide behaviour.  Every field has a default that mimics the real service."""

    api_keys: frozenset[str] = frozenset({"test-key"})
    # None → ScriptedRecognizer with DEFAULT_SCRIPT.
    recognizer_factory: Callable[[SessionParams], Recognizer] | None = None
    # 2025 behaviour: 3005 for every non-auth error (PROTOCOL.md §5.1).
    legacy_codes: bool = False
    # format_turns=true → unformatted EOT then formatted EOT with the same turn_order (2025
    # form, PROTOCOL.md §4.1); False → one formatted EOT message (2026 form).
    formatted_two_messages: bool = True
    # Fault knobs (what each reproduces: `python -m tests.emulator --help`, `faults.py`).
    # Times "after Begin" count from session start when Begin is withheld.
    begin_delay: float = 0.0
    withhold_begin: bool = False
    close_after: tuple[int, float, str] | None = None  # (code, seconds, reason)
    send_error_frame: bool = True
    malformed_after: float | None = None
    drop_after: float | None = None
    stall_after: float | None = None
    oversized_after: float | None = None
    oversized_bytes: int = 6 * 2**20
    repeat_begin_after: float | None = None
    termination_after: float | None = None
    key_echo_after: float | None = None
    surrogate_after: float | None = None
    expire_after: float | None = None
    # On Terminate: drop the TCP connection before ("before-finals") or after ("after-finals")
    # the final Turns, never sending Termination (a network drop while the client stops).
    drop_on_terminate: str | None = None
    # Faults hit only the first N accepted v3 sessions (None: every session), so that a client
    # that reconnects finds a healthy service.  Service limits (rate, session cap) always apply.
    fault_sessions: int | None = None
    # Rate rule (PROTOCOL.md §6): the server drains buffered audio at throughput_factor × real
    # time; more than max_ahead_seconds buffered → 3007.
    max_ahead_seconds: float = 300.0
    throughput_factor: float = 1.25
    terminate_flush_delay: float = 0.0
    token_max_expires_in: int = 600
    session_max_seconds: int = 10800
    # Extension (not in the original brief): 2026 docs say speech_model is required.
    require_speech_model: bool = False

    def faults_apply(self, session_index: int) -> bool:
        """Whether the fault knobs hit the accepted session number `session_index` (0-based)."""
        return self.fault_sessions is None or session_index < self.fault_sessions

    def error_code(self, code: int) -> int:
        """The close code actually used for `code` under the configured behaviour era."""
        if self.legacy_codes and code in _LEGACY_FOLDED:
            return CLOSE_SERVER_ERROR
        return code
