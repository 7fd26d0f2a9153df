"""The pre-recorded API as data: addresses, answers parsed, errors typed, words grouped into
paragraphs (pure: no sockets)."""

from __future__ import annotations

import itertools
import json

import pytest

from app.core import prerecorded as p
from app.core.config import Region, SettingsError
from app.core.errors import ProtocolError, ServiceError, TranscriptionTimeoutError
from app.core.messages import Word


def test_the_region_picks_the_host_and_an_override_must_be_http() -> None:
    assert p.api_base(Region.US, {}) == "https://api.assemblyai.com"
    assert p.api_base(Region.EU, {}) == "https://api.eu.assemblyai.com"
    assert p.api_base(Region.US, {p.ENV_API_URL: "http://127.0.0.1:8766/"}) == (
        "http://127.0.0.1:8766")
    for bad in ("ws://127.0.0.1:1", "http://key@host", "http://host/?k=1", "nonsense"):
        with pytest.raises(SettingsError):
            p.api_base(Region.US, {p.ENV_API_URL: bad})
    assert p.transcript_url("https://x", "abc") == "https://x/v2/transcript/abc"


def test_the_create_body_names_the_upload() -> None:
    assert json.loads(p.create_body("https://cdn/u1")) == {
        "audio_url": "https://cdn/u1", "punctuate": True, "format_text": True}


def test_answers_are_parsed_into_typed_values() -> None:
    assert p.parse_upload(b'{"upload_url": "https://cdn/u1"}') == "https://cdn/u1"
    queued = p.parse_transcript(b'{"id": "t1", "status": "queued", "words": null}')
    assert (queued.id, queued.status, queued.words) == ("t1", p.JobStatus.QUEUED, ())
    done = p.parse_transcript(json.dumps({
        "id": "t1", "status": "completed", "audio_duration": 5,
        "words": [{"text": "Hi.", "start": 10, "end": 300, "confidence": 0.9,
                   "speaker": None}]}).encode())
    assert done.words == (Word("Hi.", 10, 300, 0.9, True, None),)
    assert done.audio_duration_s == 5.0
    failed = p.parse_transcript(b'{"id": "t1", "status": "error", "error": "Bad audio"}')
    assert str(p.job_failed(failed, "a.mp3")).startswith(
        "AssemblyAI could not transcribe a.mp3 (Bad audio).")
    assert isinstance(p.job_failed(failed, "a.mp3"), ServiceError)


@pytest.mark.parametrize("body", [b"<html>", b"[]", b"{}", b'{"upload_url": 3}'])
def test_a_broken_upload_answer_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        p.parse_upload(body)


@pytest.mark.parametrize("body", [
    b'{"status": "queued"}', b'{"id": "t", "status": "paused"}',
    b'{"id": "t", "status": "completed", "words": {}}',
    b'{"id": "t", "status": "completed", "words": [{"text": "a"}]}',
])
def test_a_broken_transcript_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        p.parse_transcript(body)


def test_polling_backs_off_to_a_ceiling_and_times_out_with_a_sentence() -> None:
    assert list(itertools.islice(p.poll_delays(1.0, 5.0), 6)) == [1.0, 1.5, 2.25, 3.375, 5.0,
                                                                  5.0]
    error = p.timed_out("talk.mp3", 3 * 3600)
    assert isinstance(error, TranscriptionTimeoutError) and error.retryable
    assert error.message == "AssemblyAI had not finished transcribing talk.mp3 after 180 min."


def words(*spec: tuple[str, int]) -> list[Word]:
    return [Word(text, start, start + 200, 1.0, True) for text, start in spec]


def test_paragraphs_break_after_a_sentence_and_a_pause_or_a_long_silence() -> None:
    turns = p.paragraphs(words(("Hello", 0), ("there.", 300),  # pause 800 after "there."
                               ("New", 1300), ("part", 1600),  # pause 2200 mid-sentence
                               ("still", 4000), ("going.", 4300), ("Same", 4600)))
    assert [t.transcript for t in turns] == ["Hello there.", "New part", "still going. Same"]
    assert [t.turn_order for t in turns] == [0, 1, 2]
    assert all(t.end_of_turn and t.turn_is_formatted for t in turns)
    assert turns[1].words[0].start == 1300  # times untouched: the file's own timeline


def test_a_long_paragraph_ends_at_its_next_sentence_end() -> None:
    many = [(f"w{i}", i * 250) for i in range(70)]
    many[64] = ("end.", 64 * 250)
    turns = p.paragraphs(words(*many))
    assert len(turns[0].words) == 65 and turns[0].transcript.endswith("end.")
    assert p.paragraphs([]) == []


def test_an_address_that_answers_but_not_as_the_api_is_named_with_its_fix() -> None:
    custom = p.not_the_api("http://127.0.0.1:8765", closed=True)
    assert custom.message == ("The service at http://127.0.0.1:8765 closed the connection "
                              "without answering: it does not look like AssemblyAI's file API.")
    assert "LIVE_TRANSCRIBER_API_URL" in custom.remedy
    own = p.not_the_api("https://api.eu.assemblyai.com", closed=False)
    assert own.message == "AssemblyAI's file service did not answer in HTTP."
    assert own.remedy == "Try again in a moment."
