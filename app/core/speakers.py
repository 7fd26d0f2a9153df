"""Two voices in one transcript: the microphone ("You") and what the computer plays ("Others").

Each stream is transcribed by its own engine session into its own :class:`TranscriptModel`, on
its own audio clock; both clocks start with the recording, so their word times are comparable.
:class:`TwoVoices` folds the two streams' changes into the one model the window, the autosave and
the exports read:

* Every finished turn is labelled with its stream's name and placed by audio time: its key is
  ``(segment, start_ms * 2 + stream)`` (You 0, Others 1), so the model's key order is the order
  in which the turns began, whichever stream's final arrived first.
* The words in progress are those of the stream that changed last (one live line).
* Echo: without a headset the microphone also hears the speakers, so Others' words come back
  on You's stream, quieter and a little later. A You turn and an Others turn that overlap in
  audio time are one turn heard twice when their words are alike or when You's level during
  it was far below Others' (:func:`is_echo`); it is kept once, as Others' (the louder, system
  channel, which heard it first-hand). If You's copy was placed first, it is revised into
  Others' turn in place, so nothing is doubled and nothing moves.

Limits (the README says them too): echo that is not heard as a turn of its own but mixed into the
person's own words stays in You's text; two people really saying the same words at the same
time are kept once.

Pure: changes in, changes out; the caller supplies each stream's loudness with its audio time.
"""

from __future__ import annotations

import string
from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Final, Literal, Protocol

from app.core.mixing import MixReason, mixed_notice
from app.core.mixing import two_offline_streams as two_offline_streams
from app.core.recording import SourceFactory
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.transcript import (
    TranscriptChange,
    TranscriptModel,
    TranscriptTurn,
    TurnKey,
)

Stream = Literal["you", "others"]
YOU: Final[Stream] = "you"
OTHERS: Final[Stream] = "others"
_STREAM_BIT: Final = {YOU: 0, OTHERS: 1}

MAX_NAME_CHARS: Final = 24
_ECHO_WINDOW_MS: Final = 60_000  # how far back a turn's twin is looked for


@dataclass(frozen=True)
class SpeakerNames:
    you: str = "You"
    others: str = "Others"

    def of(self, stream: Stream) -> str:
        return self.you if stream == YOU else self.others


def check_speaker_name(text: str, which: str) -> str:
    """``text`` cleaned up as a speaker's name; ValueError with a plain sentence if unusable.

    Names go before paragraphs, into subtitle voice tags and file names' neighbours, so they
    are one short line of printable text.
    """
    name = " ".join(text.split())
    if not name:
        raise ValueError(f"The name for {which} is empty.")
    if len(name) > MAX_NAME_CHARS:
        raise ValueError(f"The name for {which} is longer than {MAX_NAME_CHARS} characters.")
    if not name.isprintable() or any(c in name for c in "<>&:"):
        raise ValueError(f"The name for {which} may not contain < > & : or control characters.")
    return name


def check_speaker_names(you: str, others: str) -> SpeakerNames:
    names = SpeakerNames(check_speaker_name(you, "your microphone"),
                         check_speaker_name(others, "system audio"))
    if names.you.casefold() == names.others.casefold():
        raise ValueError("The two speaker names must differ.")
    return names


class VoiceSwitch(Protocol):
    """The two streams' sources of one recording, switchable to one mixed stream while it runs
    (app/io/audio/voice_taps.py): ``tap(stream)`` is each stream's source; ``mix()`` sends
    both devices' sound summed into You's stream from now on and ends Others' (returns You's
    audio time at the switch, or None when it cannot)."""

    @property
    def mixed(self) -> bool: ...

    def tap(self, stream: Stream) -> SourceFactory: ...

    def mix(self) -> int | None: ...


@dataclass(frozen=True)
class SourcePair:
    """The two sources of "Microphone + system audio". A recorder that knows it records them
    as two streams (through ``switchable()`` when given, so they can become one mixed stream
    mid-recording); called as a plain source factory, it is the one mixed stream of both
    (where two streams cannot run from the start)."""

    you: SourceFactory
    others: SourceFactory
    mixed: SourceFactory
    names: SpeakerNames = SpeakerNames()
    switchable: Callable[[], VoiceSwitch] | None = None

    def __call__(self, on_frame: FrameSink, on_level: LevelSink,
                 on_error: ErrorSink) -> AudioSource:
        return self.mixed(on_frame, on_level, on_error)


MIXED_NOTICE: Final = mixed_notice(MixReason.FEW_CORES)


def sources_for(source: SourceFactory, names: SpeakerNames, *, offline: bool,
                cpu_count: int | None) -> tuple[SourceFactory, str | None]:
    """What to record for the chosen input, and a notice to show: a :class:`SourcePair` as two
    named streams, or — offline without the cores for two — its mixed stream, said. (Cloud
    with an offline fallback records two streams; they become one mixed stream if the
    fallback happens on such a machine: :class:`app.io.recording.two_streams.VoicesRecorder`.)
    """
    if not isinstance(source, SourcePair):
        return source, None
    if offline and not two_offline_streams(cpu_count):
        return source.mixed, MIXED_NOTICE
    return replace(source, names=names), None


@dataclass(frozen=True)
class EchoRule:
    min_overlap: float = 0.5  # of the shorter turn's time span
    min_similarity: float = 0.6  # of the words, 0..1 (difflib ratio on folded words)
    level_gap_db: float = 12.0  # You this much quieter than Others: the mic heard the speakers


def _folded_words(text: str) -> list[str]:
    words = (w.strip(string.punctuation).casefold() for w in text.split())
    return [w for w in words if w]


def words_similarity(a: str, b: str) -> float:
    """How alike two texts' words are, 0 (nothing shared) to 1 (the same words)."""
    left, right = _folded_words(a), _folded_words(b)
    if not left or not right:
        return 0.0
    return SequenceMatcher(None, left, right, autojunk=False).ratio()


def overlap_fraction(a: TranscriptTurn, b: TranscriptTurn) -> float:
    """The part of the shorter turn's span that the other turn's span covers (0 if untimed)."""
    if a.start_ms is None or a.end_ms is None or b.start_ms is None or b.end_ms is None:
        return 0.0
    shared = min(a.end_ms, b.end_ms) - max(a.start_ms, b.start_ms)
    if shared <= 0:
        return 0.0
    shorter = max(1, min(a.end_ms - a.start_ms, b.end_ms - b.start_ms))
    return min(1.0, shared / shorter)


def is_echo(you: TranscriptTurn, others: TranscriptTurn, *, you_db: float | None,
            others_db: float | None, rule: EchoRule = EchoRule()) -> bool:
    """Whether ``you`` is ``others`` heard again by the microphone (see the module docstring)."""
    if overlap_fraction(you, others) < rule.min_overlap:
        return False
    if words_similarity(you.text, others.text) >= rule.min_similarity:
        return True
    return you_db is not None and others_db is not None and others_db - you_db >= rule.level_gap_db


class LevelTrack:
    """One stream's loudness on the recording's timeline, kept for the last ``keep_ms``."""

    def __init__(self, keep_ms: int = 600_000) -> None:
        self._keep_ms = keep_ms
        self._times: deque[int] = deque()
        self._dbs: deque[float] = deque()

    def add(self, at_ms: int, rms_dbfs: float) -> None:
        self._times.append(at_ms)
        self._dbs.append(rms_dbfs)
        while self._times and self._times[0] < at_ms - self._keep_ms:
            self._times.popleft()
            self._dbs.popleft()

    def mean_db(self, start_ms: int | None, end_ms: int | None) -> float | None:
        """The mean level over ``[start_ms, end_ms]``; None when nothing was measured there."""
        if start_ms is None or end_ms is None:
            return None
        times = self._times
        first = bisect_left(times, start_ms)
        picked = [self._dbs[i] for i in range(first, len(times)) if times[i] <= end_ms]
        return sum(picked) / len(picked) if picked else None


class TwoVoices:
    """Folds the changes of two streams' models into one model (see the module docstring)."""

    def __init__(self, model: TranscriptModel, names: SpeakerNames = SpeakerNames(),
                 rule: EchoRule = EchoRule()) -> None:
        self._model = model
        self._names = names
        self._rule = rule
        self.levels: dict[Stream, LevelTrack] = {YOU: LevelTrack(), OTHERS: LevelTrack()}
        # A stream's turn → its key in the model, or None when it was kept as the other's.
        self._placed: dict[tuple[Stream, TurnKey], TurnKey | None] = {}
        self._recent: dict[Stream, deque[tuple[TurnKey, TranscriptTurn, TurnKey]]] = {
            YOU: deque(), OTHERS: deque()}
        self._live: Stream | None = None
        self._last_ms = 0
        self.echoes = 0  # turns kept once because both streams heard them
        self.mixed_from_ms: int | None = None  # You's stream carries both voices mixed from here

    def mix_from(self, at_ms: int) -> None:
        """From ``at_ms`` of You's audio on, You's stream is both voices mixed (two streams could
        not go on): its turns that begin there are shown without a speaker, and are nobody's
        echo."""
        self.mixed_from_ms = at_ms

    def apply(self, stream: Stream, change: TranscriptChange) -> list[TranscriptChange]:
        """The model's changes for one change of ``stream``'s own model, oldest first."""
        out: list[TranscriptChange] = []
        for step in change.steps():
            if step.kind == "partial":
                if step.partial is not None:
                    self._live = stream
                    shown = self._model.show_partial(self._labelled(stream, step.partial))
                elif self._live == stream:
                    self._live = None
                    shown = self._model.show_partial(None)
                else:
                    shown = None
                out.extend([shown] if shown is not None else [])
                continue
            if self._live == stream:
                self._live = None
                withdrawn = self._model.show_partial(None)
                out.extend([withdrawn] if withdrawn is not None else [])
            placed = self._final(stream, step.turn)
            out.extend([placed] if placed is not None else [])
        return out

    # --- internals --------------------------------------------------------------------------

    def _labelled(self, stream: Stream, turn: TranscriptTurn) -> TranscriptTurn:
        return replace(turn, speaker=None if self._mixed(stream, turn) else self._names.of(stream))

    def _mixed(self, stream: Stream, turn: TranscriptTurn) -> bool:
        if stream != YOU or self.mixed_from_ms is None:
            return False
        start = turn.start_ms if turn.start_ms is not None else self._last_ms
        end = turn.end_ms if turn.end_ms is not None else start
        # Word times are approximate (the offline engine's first word may start tens of ms
        # before the sound), and a turn can straddle the switch: it is the mix's when most of
        # it lies after the switch.
        return (start + end) / 2 >= self.mixed_from_ms

    def _final(self, stream: Stream, turn: TranscriptTurn) -> TranscriptChange | None:
        own = (stream, turn.key)
        if turn.end_ms is not None:
            self._last_ms = max(self._last_ms, turn.end_ms)
        if own in self._placed:  # a revision (the formatted final) of a turn already placed
            key = self._placed[own]
            return None if key is None else self._revise(key, self._labelled(stream, turn))
        if not turn.text.strip():
            return None  # nothing to read, nothing to place
        twin = None if self._mixed(stream, turn) else self._twin(stream, turn)
        if twin is not None and stream == YOU:
            self._placed[own] = None  # heard on the system channel already: keep Others'
            self.echoes += 1
            return None
        if twin is not None:
            you_own, key = twin
            self._placed[you_own] = None
            self._placed[own] = key
            self._remember(stream, own[1], turn, key)
            self.echoes += 1
            return self._revise(key, self._labelled(stream, turn))
        labelled = replace(self._labelled(stream, turn), segment=self._model.segment,
                           order=self._order(stream, turn))
        self._placed[own] = labelled.key
        self._remember(stream, own[1], turn, labelled.key)
        return self._model.place_final(labelled)

    def _order(self, stream: Stream, turn: TranscriptTurn) -> int:
        start = turn.start_ms if turn.start_ms is not None else self._last_ms
        order = max(0, start) * 2 + _STREAM_BIT[stream]
        taken = {t.key for t in self._model.finals[-64:]}
        while (self._model.segment, order) in taken:
            order += 2  # two untimed turns at one place: the later one goes just after
        return order

    def _remember(self, stream: Stream, own: TurnKey, turn: TranscriptTurn, key: TurnKey) -> None:
        recent = self._recent[stream]
        recent.append((own, turn, key))
        while recent and (turn.end_ms or 0) - (recent[0][1].end_ms or 0) > _ECHO_WINDOW_MS:
            recent.popleft()

    def _twin(self, stream: Stream, turn: TranscriptTurn) -> tuple[tuple[Stream, TurnKey],
                                                                   TurnKey] | None:
        """The other stream's recent turn that is the same speech as ``turn``, if any."""
        other: Stream = OTHERS if stream == YOU else YOU
        for own, candidate, key in reversed(self._recent[other]):
            if self._placed.get((other, own)) != key:
                continue  # already folded into a twin of its own
            if self._mixed(other, candidate):
                continue  # the mixed stream holds both voices: nobody's echo
            you, others = (turn, candidate) if stream == YOU else (candidate, turn)
            if is_echo(you, others, rule=self._rule,
                       you_db=self.levels[YOU].mean_db(you.start_ms, you.end_ms),
                       others_db=self.levels[OTHERS].mean_db(others.start_ms, others.end_ms)):
                return (other, own), key
        return None

    def _revise(self, key: TurnKey, turn: TranscriptTurn) -> TranscriptChange | None:
        finals = self._model.finals
        index = bisect_left(finals, key, key=lambda t: t.key)
        if index >= len(finals) or finals[index].key != key:
            return None  # cleared meanwhile (File > New during the recording)
        return self._model.revise_final(index, turn)
