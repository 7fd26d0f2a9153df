"""The transcript a person sees, built incrementally from the service's ``Turn`` messages.

Pure: messages in, frozen values out; no clock, no I/O, no callbacks. The UI layer wraps a
:class:`TranscriptModel` and forwards each :class:`TranscriptChange` to its view.

Rules (``shared/PROTOCOL.md`` §4.1):

* A turn is identified by its *key* ``(segment, turn_order)``. ``turn_order`` restarts at 0 in
  every streaming session, so each session the app opens inside one recording is a *segment*
  (:meth:`TranscriptModel.begin_session`); turns are ordered by key, so a later segment always
  follows everything before it.
* At most one turn is in progress (the *partial*), and it is always the newest key. A partial
  message (``end_of_turn`` false) for it replaces it in place; a final message settles it.
* Finished turns are immutable, with two exceptions that both report ``"revised"``: an
  unformatted final is replaced by the formatted final of the same turn (the 2025 two-message
  form of ``format_turns=true``), and a turn the model settled itself (``interrupted``) is
  replaced by the service's real final if one still arrives. Anything else for a finished turn
  (a late partial, a duplicate final, an unformatted final after the formatted one) is stale:
  ignored and counted in :attr:`TranscriptModel.stale_messages`.
* A message for a newer turn while another is in progress means the service moved on: the
  earlier turn is kept as a final with ``interrupted=True``. A message for an *older* turn the
  model never saw (out-of-order arrival) is inserted at its place; if it is a partial it is
  settled as interrupted at once, since only the newest turn can still be in progress.
* Nothing is ever lost: :meth:`TranscriptModel.settle_partial` (stop, connection loss) and
  :meth:`TranscriptModel.begin_session` keep the in-progress words as an interrupted final.

Cost: :meth:`TranscriptModel.apply` is O(1) in the number of turns for messages in key order
(it only looks at the partial and the last final) and O(log n) plus one list insertion for the
rare out-of-order turn. Building a :class:`TranscriptTurn` is linear in the message's words,
which the message itself already costs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from app.core.messages import Turn, Word

TurnKey = tuple[int, int]
"""``(segment, turn_order)``: the order of turns in a transcript."""

ChangeKind = Literal["partial", "final", "revised"]


def paragraph_text(text: str) -> str:
    """``text`` as one paragraph: line breaks become single spaces, outer whitespace goes.

    Turns never contain line breaks on the wire, but text from elsewhere (a file, a test) may,
    and one turn must stay one paragraph in :meth:`TranscriptModel.plain_text` and in exports.
    """
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def speaker_name(speaker: str | None) -> str:
    """``speaker`` as shown before a paragraph ("You", "Others", a service's "A"): one line,
    single spaces; ``""`` when there is none to show."""
    return " ".join(speaker.split()) if speaker else ""


def said_text(turn: TranscriptTurn) -> str:
    """The turn's paragraph as shown, after its speaker's name if it has one (``""`` when the
    turn has no text)."""
    text = paragraph_text(turn.text)
    speaker = speaker_name(turn.speaker)
    return f"{speaker}: {text}" if text and speaker else text


@dataclass(frozen=True)
class TranscriptTurn:
    """One turn as shown: its text, its words (times already shifted by the session offset)."""

    order: int
    text: str
    words: tuple[Word, ...]
    final: bool
    formatted: bool
    start_ms: int | None  # first word's start; None when there are no words
    end_ms: int | None  # last word's end
    speaker: str | None = None
    interrupted: bool = False  # a partial kept as final because no final came for it
    segment: int = 0  # the streaming session within the recording, see the module docstring
    language: str | None = None  # ISO code the recogniser heard (multilingual); None: unknown

    @property
    def key(self) -> TurnKey:
        return (self.segment, self.order)

    @classmethod
    def from_message(cls, turn: Turn, *, segment: int = 0, offset_ms: int = 0) -> TranscriptTurn:
        """The turn a ``Turn`` message describes, its word times shifted by ``offset_ms``."""
        words = turn.words
        if offset_ms:
            words = tuple(
                replace(w, start=w.start + offset_ms, end=w.end + offset_ms) for w in words
            )
        return cls(
            order=turn.turn_order,
            text=turn.text,
            words=words,
            final=turn.end_of_turn,
            formatted=turn.turn_is_formatted,
            start_ms=words[0].start if words else None,
            end_ms=words[-1].end if words else None,
            speaker=turn.speaker_label,
            segment=segment,
            language=turn.language_code,
        )


@dataclass(frozen=True)
class TranscriptChange:
    """What one step changed, so a view can update one row instead of re-rendering.

    * ``"partial"``: the in-progress turn is now ``turn`` (``index`` is None) — or, when
      ``partial`` is None, ``turn`` was withdrawn (a reconnect re-transcribes its audio).
    * ``"final"``: ``turn`` was inserted into ``finals`` at ``index`` (almost always the end).
    * ``"revised"``: ``finals[index]`` was replaced by ``turn``.

    ``partial`` is the in-progress turn after the step (None when there is none), so a view can
    always redraw its live line from it. One message can cause two steps (the service moved on
    while a turn was in progress: that turn is settled first); the earlier step is then in
    ``preceded_by``. Apply :meth:`steps` in order.
    """

    kind: ChangeKind
    turn: TranscriptTurn
    index: int | None
    partial: TranscriptTurn | None
    preceded_by: TranscriptChange | None = None

    def steps(self) -> tuple[TranscriptChange, ...]:
        """This change and the ones before it, oldest first, each without ``preceded_by``."""
        own = replace(self, preceded_by=None)
        if self.preceded_by is None:
            return (own,)
        return (*self.preceded_by.steps(), own)


def _word_count(turn: TranscriptTurn) -> int:
    return len(turn.text.split())


def _key_of(turn: TranscriptTurn) -> TurnKey:
    return turn.key


class TranscriptModel:
    """The ordered finished turns plus at most one turn in progress. See the module docstring."""

    def __init__(self) -> None:
        self._finals: list[TranscriptTurn] = []
        self._partial: TranscriptTurn | None = None
        self._segment = 0
        self._segment_used = False
        self._offset_ms = 0
        # The newest key seen; anything at or below it that is not a final is out of order.
        self._newest: TurnKey | None = None
        # Turns at or below this key were cleared: their late messages are stale, not new.
        self._floor: TurnKey | None = None
        self._final_words = 0
        self._revision = 0
        self._stale = 0

    # --- reading ----------------------------------------------------------------------------

    @property
    def finals(self) -> Sequence[TranscriptTurn]:
        """The finished turns in key order: a live read-only view (the same object always)."""
        return self._finals

    @property
    def partial(self) -> TranscriptTurn | None:
        return self._partial

    def turns(self) -> list[TranscriptTurn]:
        """The finished turns followed by the one in progress, if any (a new list)."""
        if self._partial is None:
            return list(self._finals)
        return [*self._finals, self._partial]

    @property
    def revision(self) -> int:
        """Increases on every change, including :meth:`clear`: compare to the saved value."""
        return self._revision

    @property
    def stale_messages(self) -> int:
        """Messages ignored because their turn was already finished (or cleared)."""
        return self._stale

    @property
    def segment(self) -> int:
        """The segment that the next message belongs to."""
        return self._segment

    @property
    def word_count(self) -> int:
        """Whitespace-separated words in the displayed text of every turn, partial included."""
        partial = 0 if self._partial is None else _word_count(self._partial)
        return self._final_words + partial

    @property
    def has_final_text(self) -> bool:
        """True when a finished turn has text, i.e. when ``plain_text(include_partial=False)``
        is not empty (what Copy and Save write), without building it: the window asks on
        every change, five times a second while someone talks, with an hour of turns."""
        return self._final_words > 0

    @property
    def is_empty(self) -> bool:
        """True when there is nothing to read (no turn, or only turns without text)."""
        return self.word_count == 0

    def plain_text(self, include_partial: bool = True) -> str:
        """One paragraph per turn, paragraphs separated by ``"\\n\\n"``, no trailing newline.

        Turns without text are skipped; line breaks inside a turn become spaces
        (:func:`paragraph_text`), so every paragraph is exactly one turn. A turn with a speaker
        starts with ``"Name: "`` (:func:`said_text`), as in the pane and the TXT export.
        """
        turns: Sequence[TranscriptTurn] = self.turns() if include_partial else self._finals
        paragraphs = (said_text(turn) for turn in turns)
        return "\n\n".join(p for p in paragraphs if p)

    # --- changing ---------------------------------------------------------------------------

    def apply(self, turn: Turn, *, offset_ms: int = 0) -> TranscriptChange | None:
        """Fold one ``Turn`` message in; None when it was stale.

        Word times are shifted by the segment's offset (:meth:`begin_session`) plus
        ``offset_ms``.
        """
        if offset_ms < 0:
            raise ValueError("offset_ms must not be negative")
        self._segment_used = True
        key = (self._segment, turn.turn_order)
        if self._floor is not None and key <= self._floor:
            self._stale += 1
            return None
        incoming = TranscriptTurn.from_message(
            turn, segment=self._segment, offset_ms=self._offset_ms + offset_ms
        )
        partial = self._partial
        if partial is not None and partial.key == key:
            if incoming.final:
                self._partial = None
                return self._insert(len(self._finals), incoming)
            self._partial = incoming
            return self._step("partial", incoming, None)
        if self._newest is None or key > self._newest:
            self._newest = key
            settled = self.settle_partial()
            if incoming.final:
                change = self._insert(len(self._finals), incoming)
            else:
                self._partial = incoming
                change = self._step("partial", incoming, None)
            return change if settled is None else replace(change, preceded_by=settled)
        index, found = self._locate(key)
        if found:
            return self._revise(index, incoming)
        if not incoming.final:
            incoming = replace(incoming, final=True, interrupted=True)
        return self._insert(index, incoming)

    def settle_partial(self) -> TranscriptChange | None:
        """Keep the turn in progress as a final with ``interrupted=True``; None if there is none.

        Call it on stop or connection loss: the service will not finish that turn any more.
        """
        partial = self._partial
        if partial is None:
            return None
        self._partial = None
        return self._insert(len(self._finals), replace(partial, final=True, interrupted=True))

    def begin_session(self, offset_ms: int = 0, *, replay: bool = False
                      ) -> TranscriptChange | None:
        """Start a new segment whose word times are shifted by ``offset_ms``.

        Call it when a new streaming session starts inside the same recording (a reconnect):
        the old session's turn in progress is settled as interrupted (returned, like
        :meth:`settle_partial`) and the new session's turn orders sort after everything
        before. Messages of the old session must not be applied afterwards. A segment in which
        no message arrived is reused, so calling this for the first session is harmless.
        With ``replay`` the new session re-hears the audio of the turn in progress, so that
        turn is dropped instead (its words come again, complete).
        """
        if offset_ms < 0:
            raise ValueError("offset_ms must not be negative")
        withdrawn = self._partial if replay else None
        if withdrawn is not None:
            # The new session hears the audio of the turn in progress again and finishes it:
            # keeping the old words too would write them twice.
            self._partial = None
        change = self._step("partial", withdrawn, None) if withdrawn else self.settle_partial()
        if self._segment_used:
            self._segment += 1
            self._segment_used = False
        self._offset_ms = offset_ms
        return change

    def clear(self) -> None:
        """Drop every turn. The session bookkeeping stays: late messages for cleared turns
        are stale, and the turn in progress reappears with its next message."""
        if self._finals:
            self._floor = self._finals[-1].key
        self._newest = self._floor
        self._finals.clear()  # in place: holders of ``finals`` keep a valid view
        self._partial = None
        self._final_words = 0
        self._revision += 1

    def restore(self, turns: Sequence[TranscriptTurn]) -> None:
        """Put back the finished turns of an earlier recording (crash recovery) into an empty
        model. The next session's turns sort after them, in a segment of their own."""
        if self._finals or self._partial is not None:
            raise ValueError("restore() needs an empty transcript")
        finals = sorted((t for t in turns if t.final), key=_key_of)
        self._finals.extend(finals)  # in place: holders of ``finals`` keep a valid view
        self._final_words = sum(_word_count(t) for t in finals)
        if finals:
            self._newest = finals[-1].key
            self._segment = max(self._segment, finals[-1].segment + 1)
            self._segment_used = False
        self._revision += 1

    # --- turns placed by audio time (two voices, app/core/speakers.py) ----------------------

    def place_final(self, turn: TranscriptTurn) -> TranscriptChange:
        """Insert a finished turn at its key's place, whatever arrived before: the caller
        gives keys that follow the audio time (two streams merged into one transcript)."""
        self._segment_used = True
        if self._newest is None or turn.key > self._newest:
            self._newest = turn.key
        index, found = self._locate(turn.key)
        if found:
            return self._revise_at(index, turn)
        return self._insert(index, turn)

    def revise_final(self, index: int, turn: TranscriptTurn) -> TranscriptChange:
        """Replace ``finals[index]`` by ``turn`` (which keeps the key there)."""
        return self._revise_at(index, replace(turn, segment=self._finals[index].segment,
                                              order=self._finals[index].order))

    def show_partial(self, turn: TranscriptTurn | None) -> TranscriptChange | None:
        """Show ``turn`` as the words in progress (None withdraws them), in no key order:
        with two streams, the in-progress line is the one that changed last."""
        withdrawn = self._partial
        self._partial = turn
        if turn is not None:
            return self._step("partial", turn, None)
        return None if withdrawn is None else self._step("partial", withdrawn, None)

    def _revise_at(self, index: int, turn: TranscriptTurn) -> TranscriptChange:
        current = self._finals[index]
        self._finals[index] = turn
        self._final_words += _word_count(turn) - _word_count(current)
        return self._step("revised", turn, index)

    # --- internals --------------------------------------------------------------------------

    def _step(self, kind: ChangeKind, turn: TranscriptTurn, index: int | None) -> TranscriptChange:
        self._revision += 1
        return TranscriptChange(kind, turn, index, self._partial)

    def _locate(self, key: TurnKey) -> tuple[int, bool]:
        """Where ``key`` is (or would go) in ``finals``, and whether it is there."""
        finals = self._finals
        # The formatted final follows its unformatted one at once: check the end before bisecting.
        if finals and finals[-1].key == key:
            return len(finals) - 1, True
        index = bisect_left(finals, key, key=_key_of)
        return index, index < len(finals) and finals[index].key == key

    def _insert(self, index: int, turn: TranscriptTurn) -> TranscriptChange:
        if index == len(self._finals):
            self._finals.append(turn)
        else:
            self._finals.insert(index, turn)
        self._final_words += _word_count(turn)
        return self._step("final", turn, index)

    def _revise(self, index: int, incoming: TranscriptTurn) -> TranscriptChange | None:
        current = self._finals[index]
        upgrade = current.interrupted or (incoming.formatted and not current.formatted)
        if not incoming.final or not upgrade:
            self._stale += 1
            return None
        self._finals[index] = incoming
        self._final_words += _word_count(incoming) - _word_count(current)
        return self._step("revised", incoming, index)
