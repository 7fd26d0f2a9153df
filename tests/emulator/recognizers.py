"""Recogniser interface, the deterministic scripted recogniser and the real offline one.

The real service emits, for Universal-Streaming, a Turn each time a word is added or
finalised, then an end-of-turn Turn (PROTOCOL.md §4.1 "Sequencing facts").  A recogniser here
only decides *which words* exist at each moment; the session (`v3.py` / `turns.py`) assigns
`turn_order`, builds the JSON and does formatting, so every recogniser produces wire-faithful
messages.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.core.agreement import TurnRules
    from app.core.messages import Turn
    from app.io.offline.model import WhisperRecogniser

DEFAULT_SCRIPT: tuple[str, ...] = (
    "hello world this is a test",
    "the quick brown fox jumps over the lazy dog",
    "live transcription works",
)


@dataclass(frozen=True)
class EmuWord:
    text: str
    start_ms: int
    end_ms: int
    confidence: float
    is_final: bool


@dataclass(frozen=True)
class TurnUpdate:
    """The current state of one turn: all its words so far, and whether it ended."""

    words: tuple[EmuWord, ...]
    end_of_turn: bool


class Recognizer(Protocol):
    def feed(self, pcm: bytes, audio_ms_total: int) -> list[TurnUpdate]:
        """One binary audio frame; `audio_ms_total` is the stream time after this frame."""
        ...

    def force_endpoint(self) -> list[TurnUpdate]:
        """ForceEndpoint: end the current turn if it has words."""
        ...

    def finish(self) -> list[TurnUpdate]:
        """Terminate: flush everything still pending."""
        ...


class ScriptedRecognizer:
    """Reveals a fixed script word by word as audio time advances; ignores the audio itself.

    Word *k* of a turn spans `[t, t + 3/4·ms_per_word]` where `t` is the audio time the word
    "starts"; it is revealed once `ms_per_word` ms of audio have passed since `t`.  The
    end-of-turn update follows one `ms_per_word` after the last word.  A forced endpoint ends
    the turn early and the rest of the sentence becomes the next turn, so the concatenation
    of all final turns always reproduces the script's words.
    """

    def __init__(self, sentences: Sequence[str] = DEFAULT_SCRIPT, ms_per_word: int = 200) -> None:
        if ms_per_word <= 0:
            raise ValueError("ms_per_word must be positive")
        self._ms = ms_per_word
        self._pending: deque[list[str]] = deque(s.split() for s in sentences if s.split())
        self._unrevealed: deque[str] = deque()
        self._revealed: list[EmuWord] = []
        # Audio time of the last event; the next one happens at _clock + ms_per_word.
        self._clock = 0
        self._audio_ms = 0
        self._word_count = 0
        self._load_next_sentence()

    def feed(self, pcm: bytes, audio_ms_total: int) -> list[TurnUpdate]:
        self._audio_ms = max(self._audio_ms, audio_ms_total)
        updates: list[TurnUpdate] = []
        while (self._unrevealed or self._revealed) and self._clock + self._ms <= self._audio_ms:
            updates.append(self._step())
        return updates

    def force_endpoint(self) -> list[TurnUpdate]:
        if not self._revealed:
            return []
        update = self._end_turn()
        # The speaker goes on from "now": no word may start before audio already received.
        self._clock = max(self._clock, self._audio_ms)
        if not self._unrevealed:
            self._load_next_sentence()
        return [update]

    def finish(self) -> list[TurnUpdate]:
        return self.force_endpoint()

    def _step(self) -> TurnUpdate:
        if self._unrevealed:
            start = self._clock
            self._clock += self._ms
            word = EmuWord(
                text=self._unrevealed.popleft(),
                start_ms=start,
                end_ms=start + (self._ms * 3) // 4,
                confidence=round(0.95 - 0.03 * (self._word_count % 4), 6),
                is_final=False,
            )
            self._word_count += 1
            finals = [finalised(w) for w in self._revealed]
            self._revealed = [*finals, word]
            return TurnUpdate(words=tuple(self._revealed), end_of_turn=False)
        self._clock += self._ms
        update = self._end_turn()
        self._load_next_sentence()
        return update

    def _end_turn(self) -> TurnUpdate:
        update = TurnUpdate(words=tuple(finalised(w) for w in self._revealed), end_of_turn=True)
        self._revealed = []
        return update

    def _load_next_sentence(self) -> None:
        if self._pending:
            self._unrevealed = deque(self._pending.popleft())


def finalised(word: EmuWord) -> EmuWord:
    if word.is_final:
        return word
    return EmuWord(word.text, word.start_ms, word.end_ms, word.confidence, True)


class OfflineRecognizer:
    """Real recognition for end-to-end tests: the app's own offline transcriber (Whisper
    ``tiny.en``, VAD, LocalAgreement-2) behind this protocol, so the cloud path can be tested
    with words that were really heard. The emulator calls it from a worker thread, one call at
    a time, as the offline engine's decoder thread does.

    Audio is handed on every ``poll_ms`` (as the engine's runner does), not per 50 ms frame:
    the transcriber runs VAD on each call.
    """

    def __init__(self, recogniser: WhisperRecogniser, rules: TurnRules | None = None,
                 poll_ms: int = 250) -> None:
        from app.io.offline.transcriber import OfflineTranscriber

        self._transcriber = OfflineTranscriber(recogniser, rules)
        self._pending = bytearray()
        self._poll_bytes = poll_ms * 32

    def feed(self, pcm: bytes, audio_ms_total: int) -> list[TurnUpdate]:
        self._pending += pcm
        if len(self._pending) < self._poll_bytes:
            return []
        return _updates(self._transcriber.push(self._take()))

    def force_endpoint(self) -> list[TurnUpdate]:
        return _updates(self._transcriber.push(self._take()) + self._transcriber.end_turn())

    def finish(self) -> list[TurnUpdate]:
        return _updates(self._transcriber.finish(self._take()))

    def _take(self) -> bytes:
        pcm = bytes(self._pending)
        self._pending.clear()
        return pcm


def _updates(turns: list[Turn]) -> list[TurnUpdate]:
    # The session assigns turn_order itself; the transcriber's order follows the same rule
    # (a new turn after every end of turn), so only the words and the end flag are needed.
    return [TurnUpdate(words=tuple(EmuWord(w.text, w.start, w.end, w.confidence, w.word_is_final)
                                   for w in turn.words),
                       end_of_turn=turn.end_of_turn)
            for turn in turns]
