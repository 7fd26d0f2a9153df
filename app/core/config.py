"""Typed settings, service endpoints and the connection query — all pure.

Environment variables are read by the composition root and passed in as a mapping:

* ``ASSEMBLYAI_API_KEY`` overrides the key stored in the keyring (same name as the official SDK).
* ``LIVE_TRANSCRIBER_STREAMING_URL`` overrides the service address, e.g. ``ws://127.0.0.1:8765``
  for the local emulator or a proxy. The token endpoint is derived from it.

The API key is never part of any URL built here: no function in this module takes it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final
from urllib.parse import urlencode, urlsplit, urlunsplit

from app.core.audio import SAMPLE_RATE
from app.core.errors import LiveTranscriberError
from app.core.languages import ENGLISH, WHISPER_LANGUAGES

ENV_API_KEY: Final = "ASSEMBLYAI_API_KEY"
ENV_STREAMING_URL: Final = "LIVE_TRANSCRIBER_STREAMING_URL"

STREAMING_PATH: Final = "/v3/ws"
TOKEN_PATH: Final = "/v3/token"
MAX_KEYTERMS: Final = 100
MAX_KEYTERM_CHARS: Final = 50


class SettingsError(LiveTranscriberError):
    """A setting or environment variable holds a value the app cannot use."""


class Region(enum.Enum):
    US = "us"
    EU = "eu"


REGION_HOSTS: Final = {
    Region.US: "streaming.assemblyai.com",
    Region.EU: "streaming.eu.assemblyai.com",
}


class AuthMode(enum.Enum):
    HEADER = "header"  # the raw key in the Authorization header of the upgrade request
    TOKEN = "token"  # the key buys a short-lived token first; the token goes in ?token=


BUNDLED_OFFLINE_MODEL: Final = "tiny.en"  # ships with the app; the default and the fallback
# How "detect the spoken language per turn" is kept in the settings file.
AUTOMATIC_LANGUAGE: Final = "auto"


class EngineChoice(enum.Enum):
    AUTO = "auto"  # the cloud when a key is configured, else offline
    CLOUD = "cloud"  # AssemblyAI Universal Streaming
    OFFLINE = "offline"  # Whisper tiny.en on this computer


@dataclass(frozen=True)
class Endpoints:
    websocket_url: str  # e.g. wss://streaming.assemblyai.com/v3/ws
    token_url: str  # e.g. https://streaming.assemblyai.com/v3/token


def endpoints_for(region: Region = Region.US, override: str | None = None) -> Endpoints:
    """The streaming and token URLs for a region, or for an override URL.

    The override may be a bare base (``ws://host:port``) or the full WebSocket URL; ``http``
    and ``https`` are accepted as spellings of ``ws`` and ``wss``.
    """
    if not override:
        host = REGION_HOSTS[region]
        return Endpoints(f"wss://{host}{STREAMING_PATH}", f"https://{host}{TOKEN_PATH}")
    parts = urlsplit(override.strip())
    ws_scheme = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}.get(parts.scheme)
    if ws_scheme is None or not parts.netloc:
        raise SettingsError(
            f"{ENV_STREAMING_URL} must be a ws://, wss://, http:// or https:// address.",
            remedy="For the local emulator use for example ws://127.0.0.1:8765.",
        )
    if parts.query or "@" in parts.netloc:
        raise SettingsError(
            f"{ENV_STREAMING_URL} must not carry a query or credentials.",
            remedy="Give only the address; the key is sent in a header, never in a URL.",
        )
    path = parts.path.rstrip("/")
    if path.endswith(STREAMING_PATH):
        path = path[: -len(STREAMING_PATH)]
    http_scheme = "https" if ws_scheme == "wss" else "http"
    return Endpoints(
        urlunsplit((ws_scheme, parts.netloc, path + STREAMING_PATH, "", "")),
        urlunsplit((http_scheme, parts.netloc, path + TOKEN_PATH, "", "")),
    )


@dataclass(frozen=True)
class StreamingParams:
    """Connection parameters sent in the query string (PROTOCOL.md §2.2)."""

    sample_rate: int = SAMPLE_RATE
    encoding: str = "pcm_s16le"
    speech_model: str = "universal-streaming-english"
    format_turns: bool = True
    keyterms_prompt: tuple[str, ...] = ()
    end_of_turn_confidence_threshold: float | None = None
    min_turn_silence: int | None = None
    max_turn_silence: int | None = None
    inactivity_timeout: int | None = None

    def __post_init__(self) -> None:
        if len(self.keyterms_prompt) > MAX_KEYTERMS:
            raise SettingsError(f"At most {MAX_KEYTERMS} key terms can be boosted.",
                                remedy="Remove some key terms in Settings.")
        for term in self.keyterms_prompt:
            if not term.strip() or len(term) > MAX_KEYTERM_CHARS:
                raise SettingsError(
                    f"Each key term must be 1 to {MAX_KEYTERM_CHARS} characters long.",
                    remedy="Edit the key terms in Settings.",
                )


def build_query(params: StreamingParams, token: str | None = None) -> str:
    """The query string for the WebSocket URL. Booleans as ``true``/``false``, lists as JSON."""
    pairs: list[tuple[str, str]] = [
        ("sample_rate", str(params.sample_rate)),
        ("encoding", params.encoding),
        ("speech_model", params.speech_model),
        ("format_turns", "true" if params.format_turns else "false"),
    ]
    if params.keyterms_prompt:
        pairs.append(("keyterms_prompt", json.dumps(list(params.keyterms_prompt))))
    for name in ("end_of_turn_confidence_threshold", "min_turn_silence", "max_turn_silence",
                 "inactivity_timeout"):
        value = getattr(params, name)
        if value is not None:
            pairs.append((name, str(value)))
    if token is not None:
        pairs.append(("token", token))
    return urlencode(pairs)


@dataclass(frozen=True)
class Settings:
    """What the person chose, as one typed object. Never holds the API key."""

    region: Region = Region.US
    auth_mode: AuthMode = AuthMode.HEADER
    engine: EngineChoice = EngineChoice.AUTO
    offline_model: str = BUNDLED_OFFLINE_MODEL
    format_turns: bool = True
    keyterms: tuple[str, ...] = ()
    device_id: str | None = None
    # The labels of "Microphone + system audio" (app/core/speakers.py checks them).
    speaker_you: str = "You"
    speaker_others: str = "Others"
    streaming_url_override: str | None = None
    # What a multilingual offline model listens for: an ISO code of WHISPER_LANGUAGES, or
    # None to detect the language of every turn. English-only models ignore both.
    spoken_language: str | None = ENGLISH
    translate_to_english: bool = False

    def __post_init__(self) -> None:
        if self.spoken_language is not None and self.spoken_language not in WHISPER_LANGUAGES:
            raise SettingsError("The spoken language is not one Whisper knows.",
                                remedy="Choose it again in Settings.")

    def endpoints(self) -> Endpoints:
        return endpoints_for(self.region, self.streaming_url_override)

    def streaming_params(self) -> StreamingParams:
        return StreamingParams(format_turns=self.format_turns, keyterms_prompt=self.keyterms)


def spoken_language_from(stored: object) -> str | None:
    """The spoken-language setting as stored (:func:`spoken_language_value`) read back:
    None for automatic; English for anything missing or unknown (a hand-edited file)."""
    value = str(stored or "").strip()
    if value == AUTOMATIC_LANGUAGE:
        return None
    return value if value in WHISPER_LANGUAGES else ENGLISH


def spoken_language_value(language: str | None) -> str:
    """How ``Settings.spoken_language`` is kept in the settings file."""
    return AUTOMATIC_LANGUAGE if language is None else language


def with_environment(settings: Settings, env: Mapping[str, str]) -> Settings:
    """Apply ``LIVE_TRANSCRIBER_STREAMING_URL`` from the environment, when set."""
    override = env.get(ENV_STREAMING_URL, "").strip()
    if not override:
        return settings
    endpoints_for(settings.region, override)  # validate now, not at the first recording
    return replace(settings, streaming_url_override=override)


MAX_KEY_CHARS: Final = 512


def key_format_problem(key: str) -> str | None:
    """Why ``key`` cannot be an API key (a sentence that never quotes it), or None.

    Checked before the key goes anywhere: a header with a line break or non-ASCII text is
    refused by HTTP libraries with an exception that would quote the key.
    """
    if not key:
        return "The API key is empty."
    if any(ch.isspace() for ch in key):
        return "The API key contains spaces or line breaks."
    if not (key.isascii() and key.isprintable()):
        return "The API key contains characters an AssemblyAI key never has."
    if len(key) > MAX_KEY_CHARS:
        return "The API key is far longer than an AssemblyAI key."
    return None
