"""Coded speech: the generator and the recogniser that reads words from the audio (no server)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from tests.emulator import CodedRecognizer, TurnUpdate
from tests.emulator.coded import MAX_WORD, WORD_MS, decode_word, word_frequency, word_text
from tests.support.coded_speech import (
    coded_words,
    main,
    make_coded_speech,
    word_spans,
    write_coded_speech_wav,
)

SENTENCES = [[3, 14, 15, 92], [65, 35], [89, 79, 32, 38, 46]]
FRAME = 1600  # 50 ms of 16 kHz s16le, as the app sends it


def recognise(pcm: bytes, frame: int = FRAME) -> list[TurnUpdate]:
    """One session: feed `pcm` frame by frame, then Terminate."""
    recognizer = CodedRecognizer(16000)
    updates: list[TurnUpdate] = []
    for offset in range(0, len(pcm), frame):
        updates += recognizer.feed(pcm[offset : offset + frame], 0)
    return updates + recognizer.finish()


def final_turns(updates: list[TurnUpdate]) -> list[list[str]]:
    return [[w.text for w in u.words] for u in updates if u.end_of_turn]


def spoken(updates: list[TurnUpdate]) -> list[str]:
    return [text for turn in final_turns(updates) for text in turn]


def test_generator_then_recogniser_gives_exactly_the_words_in_sentence_turns() -> None:
    updates = recognise(make_coded_speech(SENTENCES))
    assert final_turns(updates) == [[word_text(n) for n in s] for s in SENTENCES]
    assert coded_words(SENTENCES) == spoken(updates)
    assert coded_words([[7, 123]]) == ["n007", "n123"]


def test_partials_grow_word_by_word_with_only_the_newest_word_open() -> None:
    updates = recognise(make_coded_speech([[10, 11, 12]]))
    partials = [u for u in updates if not u.end_of_turn]
    assert [[w.text for w in u.words] for u in partials] == [
        ["n010"],
        ["n010", "n011"],
        ["n010", "n011", "n012"],
    ]
    for update in partials:
        assert [w.is_final for w in update.words] == [True] * (len(update.words) - 1) + [False]
    [end] = [u for u in updates if u.end_of_turn]
    assert all(w.is_final for w in end.words)


def test_word_times_are_ms_of_the_sessions_audio() -> None:
    updates = recognise(make_coded_speech([[1, 2]]))
    [end] = [u for u in updates if u.end_of_turn]
    for word, (first, last) in zip(end.words, word_spans([[1, 2]]), strict=True):
        assert abs(word.start_ms - first // 16) <= 10
        assert abs(word.end_ms - last // 16) <= 10
        assert isinstance(word.start_ms, int) and isinstance(word.end_ms, int)


@pytest.mark.parametrize("frame", [1, 333, 640, 3200, 32000])
def test_any_chunking_gives_the_same_words(frame: int) -> None:
    assert spoken(recognise(make_coded_speech(SENTENCES), frame)) == coded_words(SENTENCES)


def test_every_word_number_of_the_code_is_recognised() -> None:
    every = [list(range(0, MAX_WORD + 1))]
    assert spoken(recognise(make_coded_speech(every))) == coded_words(every)


def _split(pcm: bytes, at_sample: int, replay_from: int | None = None) -> list[list[str]]:
    """Two sessions: the first gets audio up to `at_sample`, the second from `replay_from`."""
    start = at_sample if replay_from is None else replay_from
    return [spoken(recognise(pcm[: at_sample * 2])), spoken(recognise(pcm[start * 2 :]))]


@pytest.mark.parametrize("cut", [0.3, 0.5, 0.7])
def test_a_word_cut_between_two_sessions_is_never_another_word_nor_doubled(cut: float) -> None:
    sentences = [[20, 21, 22, 23]]
    pcm = make_coded_speech(sentences)
    first, last = word_spans(sentences)[2]  # cut inside "n022"
    before, after = _split(pcm, first + int((last - first) * cut))
    assert before[:2] == ["n020", "n021"] and after[-1:] == ["n023"]
    cut_word = before[2:] + after[:-1]
    # >= 60 % of the word on one side: recognised there, once; else lost, never misread.
    expected = {0.3: ["n022"], 0.5: [], 0.7: ["n022"]}[cut]
    assert cut_word == expected
    assert ("n022" in before) == (cut == 0.7)


def test_replay_from_before_the_cut_gives_each_word_exactly_once() -> None:
    sentences = [[40, 41, 42], [43, 44]]
    pcm = make_coded_speech(sentences)
    spans = word_spans(sentences)
    first, last = spans[1]
    # Session 1 dies in the middle of "n041"; the client replays from that word's start.
    before, after = _split(pcm, (first + last) // 2, replay_from=first - 1600)
    assert before + after == coded_words(sentences)


def test_audio_spliced_without_its_gap_is_no_word() -> None:
    """Half of "n061" followed at once by the whole of it again (a replay spliced into the same
    session): dropped, so the test sees a lost word rather than a silently merged one."""
    sentences = [[60, 61, 62]]
    pcm = make_coded_speech(sentences)
    first, last = word_spans(sentences)[1]
    spliced = pcm[: (first + last) // 2 * 2] + pcm[first * 2 :]
    assert spoken(recognise(spliced)) == ["n060", "n062"]


def test_force_endpoint_ends_the_turn_and_the_sentence_goes_on_in_the_next() -> None:
    pcm = make_coded_speech([[50, 51, 52]])
    _, end_of_second = word_spans([[50, 51, 52]])[1]
    recognizer = CodedRecognizer()
    cut = (end_of_second + 800) * 2
    updates = recognizer.feed(pcm[:cut], 0) + recognizer.force_endpoint()
    updates += recognizer.feed(pcm[cut:], 0) + recognizer.finish()
    assert final_turns(updates) == [["n050", "n051"], ["n052"]]
    assert recognizer.force_endpoint() == []  # no words: no empty turn


def test_a_burst_that_is_no_word_of_the_code_is_dropped() -> None:
    t = np.arange(int(16000 * WORD_MS / 1000)) / 16000
    between = 0.4 * 32767 * np.sin(2 * np.pi * (word_frequency(7) + 10.0) * t)  # half a step
    assert decode_word(between, 16000) is None
    silence = np.zeros(16000)
    pcm = np.concatenate([silence, between, silence]).astype("<i2").tobytes()
    assert recognise(pcm) == []
    assert recognise(b"\x00\x00" * 16000) == []


def test_generator_refuses_numbers_outside_the_code() -> None:
    with pytest.raises(ValueError, match="0..299"):
        make_coded_speech([[MAX_WORD + 1]])
    with pytest.raises(ValueError):
        word_frequency(-1)


def test_wav_writer_and_its_command_line(tmp_path: Path) -> None:
    path = write_coded_speech_wav(tmp_path / "a.wav", [[1, 2]])
    assert main([str(tmp_path / "b.wav"), "1,2"]) == 0
    for wav in (path, tmp_path / "b.wav"):
        with wave.open(str(wav), "rb") as audio:
            assert (audio.getnchannels(), audio.getsampwidth(), audio.getframerate()) == (
                1,
                2,
                16000,
            )
            pcm = audio.readframes(audio.getnframes())
        assert pcm == make_coded_speech([[1, 2]])
    assert main([]) == 2
