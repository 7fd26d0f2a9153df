"""Real human speech (tests/fixtures/austen.wav, a LibriVox reading) through the streaming
logic with the real bundled model: turns are cut only where a sentence ends, and no word is
lost where one turn hands over to the next.

The audio arrives a quarter second at a time with no clock, so the decodes fall at the same
places on every run; what the cuts must get right does not depend on that schedule.
"""

from __future__ import annotations

import pytest

from app.core.agreement import normalise
from app.core.messages import Turn
from app.io.offline.model import WhisperRecogniser
from app.io.offline.transcriber import OfflineTranscriber
from tests.support.speech import load_fixture, word_error_rate

PIECE = 8000  # 250 ms of 16 kHz s16le


@pytest.fixture(scope="module")
def finals(recogniser: WhisperRecogniser) -> list[Turn]:
    fixture = load_fixture("austen")
    pcm = bytes(16_000) + fixture.pcm + bytes(48_000)
    transcriber = OfflineTranscriber(recogniser)
    turns: list[Turn] = []
    for offset in range(0, len(pcm), PIECE):
        turns += transcriber.push(pcm[offset:offset + PIECE])
    return [t for t in turns + transcriber.finish() if t.end_of_turn and t.transcript]


def test_turns_end_at_sentence_ends_not_at_a_title_or_a_guessed_full_stop(
        finals: list[Turn]) -> None:
    # "Mr." is a title; a full stop Whisper wrote at the end of a shorter buffer ("might.")
    # is gone once the words after it arrive.
    assert all(t.transcript.rstrip().endswith((".", "?", "!", ";")) for t in finals), \
        [t.transcript for t in finals]
    assert not any(t.transcript.endswith("Mr.") for t in finals)
    first = normalise(finals[0].words[0].text), normalise(finals[0].words[1].text)
    assert first == ("and", "mr")
    assert "John Dashwood" in finals[0].transcript


def test_no_word_is_lost_where_a_turn_hands_over(finals: list[Turn]) -> None:
    said = " ".join(normalise(w) for w in " ".join(t.transcript for t in finals).split())
    # Each sentence's first words: Whisper stretches the first new word over the audio it
    # hears again before a cut, and that word once went missing ("Had", "He").
    for opening in ("and mr john dashwood", "he was not", "had he married",
                    "he might even have been made amiable himself"):
        assert opening in said, said
    fixture = load_fixture("austen")
    assert word_error_rate([fixture.reference], [" ".join(t.transcript for t in finals)]) <= 0.1


def test_a_turn_after_a_pause_hears_the_speech_before_it(finals: list[Turn]) -> None:
    """"He was not an ill-disposed young man." begins half a second after the sentence before
    it ended, so without context its decodes hear it alone, and tiny.en wrote "old-sposed"
    (and again in "... is to be ill-disposed.") in every fixed-piece replay (250, 400 and
    500 ms pieces). With the last 3 s of final speech before the turn heard again, its words
    as the decoder's prefix (``TurnRules.context_ms``), as a one-shot decode hears them, both
    read right."""
    said = [normalise(w) for t in finals for w in t.transcript.split()]
    assert said.count("illdisposed") == 2, [t.transcript for t in finals]
    assert "oldsposed" not in said


def test_no_turn_is_made_of_the_lead_alone(finals: list[Turn]) -> None:
    """After "... is to be ill-disposed." (a turn cut at its sentence end) the reader pauses:
    the next turn's buffer held only the lead, the end of that sentence heard again, and
    Whisper wrote "Just." for the end of "-disposed", a turn of its own (measured with 250 ms
    pieces). Every word of the finals is one the reader said."""
    said = {normalise(w) for w in load_fixture("austen").reference.split()}
    written = [normalise(w) for t in finals for w in t.transcript.split()]
    assert [w for w in written if w not in said] == [], [t.transcript for t in finals]
