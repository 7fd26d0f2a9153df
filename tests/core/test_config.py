from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest

from app.core.config import (
    AuthMode,
    Endpoints,
    Region,
    Settings,
    SettingsError,
    StreamingParams,
    build_query,
    endpoints_for,
    with_environment,
)


def test_region_endpoints() -> None:
    assert endpoints_for(Region.US) == Endpoints(
        "wss://streaming.assemblyai.com/v3/ws", "https://streaming.assemblyai.com/v3/token")
    assert endpoints_for(Region.EU) == Endpoints(
        "wss://streaming.eu.assemblyai.com/v3/ws", "https://streaming.eu.assemblyai.com/v3/token")


@pytest.mark.parametrize(
    ("override", "ws", "token"),
    [
        ("ws://127.0.0.1:8765", "ws://127.0.0.1:8765/v3/ws", "http://127.0.0.1:8765/v3/token"),
        ("ws://127.0.0.1:8765/", "ws://127.0.0.1:8765/v3/ws", "http://127.0.0.1:8765/v3/token"),
        ("ws://127.0.0.1:8765/v3/ws", "ws://127.0.0.1:8765/v3/ws",
         "http://127.0.0.1:8765/v3/token"),
        ("https://proxy.example/aai", "wss://proxy.example/aai/v3/ws",
         "https://proxy.example/aai/v3/token"),
    ],
)
def test_override_urls(override: str, ws: str, token: str) -> None:
    assert endpoints_for(Region.EU, override) == Endpoints(ws, token)


@pytest.mark.parametrize("bad", ["ftp://x", "127.0.0.1:8765", "ws://", "ws://h/?auth_key=k",
                                 "ws://user:pw@h"])
def test_bad_overrides_are_refused_plainly(bad: str) -> None:
    with pytest.raises(SettingsError, match="LIVE_TRANSCRIBER_STREAMING_URL"):
        endpoints_for(Region.US, bad)


def test_query_has_parameters_but_never_a_key() -> None:
    params = StreamingParams(keyterms_prompt=("Live Transcriber", "qasync"), max_turn_silence=900)
    query = parse_qs(build_query(params))
    assert query["sample_rate"] == ["16000"]
    assert query["encoding"] == ["pcm_s16le"]
    assert query["speech_model"] == ["universal-streaming-english"]
    assert query["format_turns"] == ["true"]
    assert json.loads(query["keyterms_prompt"][0]) == ["Live Transcriber", "qasync"]
    assert query["max_turn_silence"] == ["900"]
    assert "token" not in query
    assert parse_qs(build_query(params, token="tmp-token"))["token"] == ["tmp-token"]


@pytest.mark.parametrize("terms", [tuple(f"t{i}" for i in range(101)), ("x" * 51,), (" ",)])
def test_keyterm_limits(terms: tuple[str, ...]) -> None:
    with pytest.raises(SettingsError):
        StreamingParams(keyterms_prompt=terms)


def test_environment_override() -> None:
    base = Settings(region=Region.EU, auth_mode=AuthMode.TOKEN)
    assert with_environment(base, {}) is base
    applied = with_environment(base, {"LIVE_TRANSCRIBER_STREAMING_URL": "ws://127.0.0.1:9"})
    assert applied.endpoints().websocket_url == "ws://127.0.0.1:9/v3/ws"
    assert applied.auth_mode is AuthMode.TOKEN
    with pytest.raises(SettingsError):
        with_environment(base, {"LIVE_TRANSCRIBER_STREAMING_URL": "nonsense"})


def test_settings_never_hold_a_key() -> None:
    assert not any("key" in name and "keyterm" not in name for name in vars(Settings()))
    params = Settings(keyterms=("a",), format_turns=False).streaming_params()
    assert params.keyterms_prompt == ("a",) and params.format_turns is False


def test_engine_choice_defaults_to_automatic() -> None:
    from app.core.config import EngineChoice

    assert Settings().engine is EngineChoice.AUTO


@pytest.mark.parametrize(("key", "problem"), [
    ("", "empty"), ("a b", "spaces"), ("a\nb", "line breaks"), ("é", "characters"),
    ("\x7f", "characters"), ("k" * 513, "longer"),
])
def test_key_format_problems_are_named_without_quoting_the_key(key: str, problem: str) -> None:
    from app.core.config import key_format_problem

    sentence = key_format_problem(key)
    assert sentence is not None and problem in sentence
    assert key not in sentence or key == ""


def test_a_real_looking_key_has_no_format_problem() -> None:
    from app.core.config import key_format_problem

    assert key_format_problem("0123456789abcdef0123456789abcdef") is None
