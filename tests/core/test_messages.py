"""Every parser path of app.core.messages, and the client message serialiser."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core import messages as m
from app.core.errors import ProtocolError

WORD = {"start": 1920, "end": 2000, "text": "hi", "confidence": 0.87, "word_is_final": True}
TURN: dict[str, Any] = {
    "turn_order": 0, "turn_is_formatted": False, "end_of_turn": False, "transcript": "hi",
    "end_of_turn_confidence": 1.4e-05,
    "words": [WORD, {"start": 2800, "end": 2880, "text": "my", "confidence": 0.81,
                     "word_is_final": False}],
    "utterance": "", "type": "Turn",
}


def dumps(obj: Any) -> str:
    return json.dumps(obj)


def test_begin_from_documented_example() -> None:
    msg = m.parse('{"type": "Begin", "id": "de5d9927-73a6-4be8-b52d-b4c07be37e6b", '
                  '"expires_at": 1759796682}')
    assert msg == m.Begin(id="de5d9927-73a6-4be8-b52d-b4c07be37e6b", expires_at=1759796682)


def test_begin_with_configuration_and_iso_time() -> None:
    msg = m.parse(dumps({"type": "Begin", "id": "x", "expires_at": "2025-10-07T00:24:42",
                         "configuration": {"model": "u3-rt-pro"}}))
    assert isinstance(msg, m.Begin)
    assert msg.expires_at == 1759796682
    assert msg.configuration == {"model": "u3-rt-pro"}


def test_turn_partial_from_documented_example() -> None:
    msg = m.parse(dumps(TURN))
    assert isinstance(msg, m.Turn)
    assert msg.turn_order == 0 and not msg.end_of_turn and not msg.turn_is_formatted
    assert msg.transcript == "hi"
    assert msg.words[0] == m.Word("hi", 1920, 2000, 0.87, True)
    assert msg.words[1].word_is_final is False
    # A partial shows the finalised words plus the non-final tail.
    assert msg.text == "hi my"


def test_turn_final_text_is_transcript() -> None:
    final = dict(TURN, end_of_turn=True, turn_is_formatted=True, transcript="Hi, my.",
                 utterance="Hi, my.", language_code="en", language_confidence=0.9,
                 speaker_label="A")
    msg = m.parse(dumps(final))
    assert isinstance(msg, m.Turn)
    assert msg.text == "Hi, my."
    assert (msg.utterance, msg.language_code, msg.speaker_label) == ("Hi, my.", "en", "A")
    assert msg.language_confidence == 0.9


def test_turn_integral_float_times_are_accepted_but_fractions_are_not() -> None:
    ok = dict(TURN, words=[dict(WORD, start=10.0)])
    assert m.parse(dumps(ok)).words[0].start == 10  # type: ignore[union-attr]
    with pytest.raises(ProtocolError, match="start is not an integer"):
        m.parse(dumps(dict(TURN, words=[dict(WORD, start=10.5)])))


def test_turn_without_end_of_turn_confidence_defaults_to_zero() -> None:
    partial = {k: v for k, v in TURN.items() if k != "end_of_turn_confidence"}
    msg = m.parse(dumps(partial))
    assert isinstance(msg, m.Turn) and msg.end_of_turn_confidence == 0.0


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"turn_order": "0"}, "turn_order is not an integer"),
        ({"turn_order": -1}, "turn_order is negative"),
        ({"end_of_turn": "false"}, "end_of_turn is not a boolean"),
        ({"transcript": None}, "transcript is not a string"),
        ({"words": {}}, "words is not a list"),
        ({"words": [1]}, "non-object"),
        ({"words": [{"text": "a"}]}, "without 'start'"),
        ({"end_of_turn_confidence": None}, "end_of_turn_confidence is not a number"),
        ({"end_of_turn_confidence": True}, "is not a number"),
    ],
)
def test_turn_field_errors_name_the_field(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem):
        m.parse(dumps(dict(TURN, **change)))


def test_turn_missing_required_field() -> None:
    broken = {k: v for k, v in TURN.items() if k != "turn_is_formatted"}
    with pytest.raises(ProtocolError, match="without 'turn_is_formatted'"):
        m.parse(dumps(broken))


def test_termination() -> None:
    assert m.parse('{"type":"Termination","audio_duration_seconds":7,'
                   '"session_duration_seconds":8}') == m.Termination(7, 8)
    assert m.parse('{"type":"Termination"}') == m.Termination(None, None)


def test_error_frame_both_forms() -> None:
    assert m.parse('{"type":"Error","error_code":3008,"error":"Session Expired"}') == \
        m.ErrorMessage("Session Expired", 3008)
    assert m.parse('{"error":"Not authorized"}') == m.ErrorMessage("Not authorized", None)


def test_speech_started_and_warning() -> None:
    assert m.parse('{"type":"SpeechStarted","timestamp":1216,"confidence":0.98}') == \
        m.SpeechStarted(1216, 0.98)
    assert m.parse('{"type":"Warning","warning_code":1,"warning":"slow"}') == \
        m.WarningMessage("slow", 1)


def test_unknown_type_is_surfaced_not_an_error() -> None:
    assert m.parse('{"type":"Heartbeat","total_audio_received_ms":5}') == \
        m.UnknownMessage("Heartbeat")


def test_unknown_fields_are_ignored() -> None:
    assert isinstance(m.parse(dumps(dict(TURN, brand_new_field=[1, 2]))), m.Turn)


def test_bytes_frames_are_decoded() -> None:
    assert isinstance(m.parse(dumps(TURN).encode()), m.Turn)
    with pytest.raises(ProtocolError, match="not UTF-8"):
        m.parse(b"\xff\xfe{")


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        ("", "not JSON"),
        ('{"type": "Turn", "turn_order": ', "not JSON"),
        ("[]", "not an object"),
        ("42", "not an object"),
        ("{}", "without a type"),
        ('{"type": 5}', "type is not a string"),
        ('{"type":"Begin","id":"x"}', "without 'expires_at'"),
        ('{"type":"Begin","id":"x","expires_at":"tomorrow"}', "not a time"),
        ('{"type":"Begin","id":"x","expires_at":NaN}', "not a finite number"),
    ],
)
def test_malformed_frames(frame: str, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem):
        m.parse(frame)


def test_protocol_error_never_quotes_the_payload() -> None:
    secret = "sk-live-0123456789abcdef"
    for frame in (f'{{"type":"Turn","turn_order":"{secret}"}}', f"not json {secret}",
                  f'{{"type":"Begin","id":"x","expires_at":"{secret}"}}'):
        with pytest.raises(ProtocolError) as info:
            m.parse(frame)
        assert secret not in str(info.value)
        assert secret not in repr(info.value)
        assert secret not in info.value.detail


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
word_like = st.fixed_dictionaries(
    {}, optional={k: scalars for k in ("text", "start", "end", "confidence", "word_is_final")}
)
# Shaped like real messages, so most examples get past the type check into the field readers.
message_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["Begin", "Turn", "Termination", "Error", "SpeechStarted",
                              "Warning", "Other"])},
    optional={
        **{k: scalars for k in ("id", "expires_at", "turn_order", "turn_is_formatted",
                                "end_of_turn", "transcript", "error", "error_code",
                                "timestamp", "end_of_turn_confidence", "utterance",
                                "audio_duration_seconds", "language_confidence")},
        "words": st.lists(word_like | scalars, max_size=3),
        "configuration": json_values,
    },
)


@settings(max_examples=2500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(st.text(max_size=200), st.binary(max_size=200), message_like.map(json.dumps),
                 json_values.map(json.dumps)))
def test_parser_only_returns_messages_or_raises_protocol_error(frame: str | bytes) -> None:
    try:
        result = m.parse(frame)
    except ProtocolError:
        return
    assert isinstance(result, m.Begin | m.Turn | m.Termination | m.SpeechStarted |
                      m.ErrorMessage | m.WarningMessage | m.UnknownMessage)


def test_serialize_client_messages() -> None:
    assert m.serialize(m.Terminate()) == '{"type":"Terminate"}'
    assert m.serialize(m.ForceEndpoint()) == '{"type":"ForceEndpoint"}'
    assert m.serialize(m.KeepAlive()) == '{"type":"KeepAlive"}'
    update = m.UpdateConfiguration(max_turn_silence=800, keyterms_prompt=("Qt", "qasync"))
    assert json.loads(m.serialize(update)) == {
        "type": "UpdateConfiguration", "max_turn_silence": 800,
        "keyterms_prompt": ["Qt", "qasync"],
    }
    assert m.serialize(m.UpdateConfiguration()) == '{"type":"UpdateConfiguration"}'
