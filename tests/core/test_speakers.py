"""Two streams, You and Others, merged into one transcript by audio time, echo kept once."""

from __future__ import annotations

import pytest

from app.core.messages import Turn, Word
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.speakers import (
    MIXED_NOTICE,
    OTHERS,
    YOU,
    EchoRule,
    LevelTrack,
    SourcePair,
    SpeakerNames,
    Stream,
    TwoVoices,
    check_speaker_names,
    is_echo,
    overlap_fraction,
    sources_for,
    words_similarity,
)
from app.core.transcript import TranscriptModel, TranscriptTurn


def _words(text: str, start: int, step: int = 300) -> tuple[Word, ...]:
    return tuple(Word(w, start + i * step, start + i * step + 250, 0.9, True)
                 for i, w in enumerate(text.split()))


def _turn(text: str, start: int, order: int = 0, final: bool = True) -> Turn:
    return Turn(order, final, final, text, 0.9, _words(text, start))


def _timed(text: str, start: int, end: int) -> TranscriptTurn:
    return TranscriptTurn(order=0, text=text, words=(), final=True, formatted=True,
                          start_ms=start, end_ms=end)


class _Streams:
    """Each stream's own model, as each stream's recorder keeps it, folded into one."""

    def __init__(self, names: SpeakerNames | None = None) -> None:
        self.merged = TranscriptModel()
        self.voices = TwoVoices(self.merged, names or SpeakerNames())
        self.own = {YOU: TranscriptModel(), OTHERS: TranscriptModel()}
        self.kinds: list[str] = []

    def say(self, stream: Stream, turn: Turn) -> None:
        change = self.own[stream].apply(turn)
        assert change is not None
        self.kinds += [c.kind for c in self.voices.apply(stream, change)]

    def live(self) -> tuple[str | None, str] | None:
        partial = self.merged.partial
        return None if partial is None else (partial.speaker, partial.text)

    def paragraphs(self) -> list[tuple[str | None, str]]:
        return [(t.speaker, t.text) for t in self.merged.finals]


def test_turns_of_both_streams_are_ordered_by_audio_time_not_arrival() -> None:
    streams = _Streams()
    streams.say(OTHERS, _turn("The meeting starts now.", 3000))
    streams.say(YOU, _turn("Hello everyone.", 500))
    streams.say(YOU, _turn("Thanks for coming.", 6000, order=1))
    assert streams.paragraphs() == [("You", "Hello everyone."),
                                    ("Others", "The meeting starts now."),
                                    ("You", "Thanks for coming.")]
    assert streams.kinds == ["final", "final", "final"]


def test_partial_shows_the_stream_that_changed_last_and_goes_with_its_final() -> None:
    streams = _Streams(SpeakerNames("Me", "Them"))
    streams.say(YOU, _turn("hello", 0, final=False))
    assert streams.live() == ("Me", "hello")
    streams.say(OTHERS, _turn("good morning", 100, final=False))
    assert streams.live() == ("Them", "good morning")
    streams.say(YOU, _turn("hello there", 0))  # Them's words stay in progress
    assert streams.live() == ("Them", "good morning")
    streams.say(OTHERS, _turn("good morning all", 100))
    assert streams.live() is None
    assert streams.paragraphs() == [("Me", "hello there"), ("Them", "good morning all")]


def test_formatted_final_revises_its_own_paragraph_in_place() -> None:
    streams = _Streams()
    streams.say(YOU, Turn(0, False, True, "hello there", 0.9, _words("hello there", 0)))
    streams.say(OTHERS, _turn("fine thanks", 2000))
    streams.say(YOU, Turn(0, True, True, "Hello there.", 0.9, _words("hello there", 0)))
    assert streams.paragraphs() == [("You", "Hello there."), ("Others", "fine thanks")]
    assert streams.kinds == ["final", "final", "revised"]


@pytest.mark.parametrize("first", [YOU, OTHERS])
def test_echo_heard_on_both_streams_is_one_others_paragraph(first: Stream) -> None:
    streams = _Streams()
    # The mic hears the speaker late; its final comes unformatted first.
    you = Turn(0, False, True, "the quarterly numbers look good", 0.9,
               _words("the quarterly numbers look good", 1040))
    others = _turn("The quarterly numbers look good.", 1000)
    for stream in (first, OTHERS if first == YOU else YOU):
        streams.say(stream, you if stream == YOU else others)
    assert streams.paragraphs() == [("Others", "The quarterly numbers look good.")]
    assert streams.voices.echoes == 1
    # A later formatted final of You's copy does not bring it back.
    streams.say(YOU, Turn(0, True, True, "The quarterly numbers look good.", 0.9,
                          _words("the quarterly numbers look good", 1040)))
    assert streams.paragraphs() == [("Others", "The quarterly numbers look good.")]


def test_different_words_at_the_same_time_are_two_voices() -> None:
    streams = _Streams()
    streams.say(YOU, _turn("I think we should ship on Friday", 1000))
    streams.say(OTHERS, _turn("the library opens at nine tomorrow", 1100))
    assert streams.paragraphs() == [("You", "I think we should ship on Friday"),
                                    ("Others", "the library opens at nine tomorrow")]


def test_quiet_microphone_during_a_loud_others_turn_is_echo_even_when_words_differ() -> None:
    streams = _Streams()
    for at in range(0, 3000, 50):
        streams.voices.levels[YOU].add(at, -52.0)
        streams.voices.levels[OTHERS].add(at, -20.0)
    streams.say(OTHERS, _turn("we will need the boat by noon", 0))
    streams.say(YOU, _turn("we wheel need a goat", 100))  # garbled echo
    assert streams.paragraphs() == [("Others", "we will need the boat by noon")]


@pytest.mark.parametrize(("you", "others", "you_db", "others_db", "echo"), [
    (_timed("a b c d", 0, 1000), _timed("a b c d", 100, 1100), None, None, True),
    (_timed("a b c d", 0, 1000), _timed("a b c d", 5000, 6000), None, None, False),  # apart
    (_timed("a b c d", 0, 1000), _timed("w x y z", 0, 1000), None, None, False),
    (_timed("a b c d", 0, 1000), _timed("w x y z", 0, 1000), -50.0, -30.0, True),  # 20 dB
    (_timed("a b c d", 0, 1000), _timed("w x y z", 0, 1000), -40.0, -30.0, False),  # 10 dB
    (_timed("a b c d", 0, 1000), _timed("w x y z", 0, 1000), None, -30.0, False),
])
def test_is_echo_table(you: TranscriptTurn, others: TranscriptTurn, you_db: float | None,
                       others_db: float | None, echo: bool) -> None:
    assert is_echo(you, others, you_db=you_db, others_db=others_db, rule=EchoRule()) is echo


@pytest.mark.parametrize(("a", "b", "similar"), [
    ("Hello, World!", "hello world", 1.0),
    ("one two three four", "one two three five", 0.75),
    ("", "anything", 0.0),
    ("alpha beta", "gamma delta", 0.0),
])
def test_words_similarity_table(a: str, b: str, similar: float) -> None:
    assert words_similarity(a, b) == pytest.approx(similar)


def test_overlap_fraction_of_the_shorter_turn_and_untimed_turns() -> None:
    assert overlap_fraction(_timed("x", 0, 1000), _timed("y", 500, 5000)) == 0.5
    assert overlap_fraction(_timed("x", 0, 1000), _timed("y", 200, 400)) == 1.0
    untimed = TranscriptTurn(0, "y", (), True, True, None, None)
    assert overlap_fraction(_timed("x", 0, 1000), untimed) == 0.0


def test_level_track_mean_and_bound() -> None:
    track = LevelTrack(keep_ms=1000)
    for at, db in [(0, -10.0), (500, -20.0), (1000, -30.0), (1600, -40.0)]:
        track.add(at, db)
    assert track.mean_db(0, 2000) == pytest.approx(-35.0)  # 0 and 500 fell out of the window
    assert track.mean_db(1100, 1500) is None
    assert track.mean_db(None, 10) is None


@pytest.mark.parametrize(("you", "others", "problem"), [
    ("", "Others", "empty"),
    ("Me", "  me ", "must differ"),
    ("x" * 25, "Others", "longer than 24"),
    ("You", "<v>", "may not contain"),
    ("You", "A: B", "may not contain"),
    ("You", "tab\x07", "may not contain"),
])
def test_speaker_names_are_checked(you: str, others: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_speaker_names(you, others)


def test_speaker_names_are_tidied() -> None:
    assert check_speaker_names("  Ada  L. ", "The\tteam") == SpeakerNames("Ada L.", "The team")


def test_a_second_recording_in_a_new_segment_follows_the_first() -> None:
    streams = _Streams()
    streams.say(OTHERS, _turn("first recording", 5000))
    streams.merged.begin_session()  # what the recorder does before each two-voice recording
    again = TwoVoices(streams.merged)
    change = TranscriptModel().apply(_turn("second recording", 0))
    assert change is not None
    again.apply(YOU, change)
    assert [(t.speaker, t.text) for t in streams.merged.finals] == [
        ("Others", "first recording"), ("You", "second recording")]


def _mic(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
    raise AssertionError("not called: only which factory is chosen matters here")


def _other(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
    raise AssertionError("not called")


def _mix(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
    raise AssertionError("not called")


@pytest.mark.parametrize(("offline", "cores", "two"), [
    (False, 1, True),  # the cloud does the work: two sessions on any machine
    (True, 4, True),
    (True, 2, False),  # offline on too few cores: one mixed stream, said
    (True, None, False),
])
def test_sources_for_a_pair(offline: bool, cores: int | None, two: bool) -> None:
    pair = SourcePair(_mic, _other, _mix)
    names = SpeakerNames("Me", "Them")
    chosen, notice = sources_for(pair, names, offline=offline, cpu_count=cores)
    if two:
        assert chosen == SourcePair(_mic, _other, _mix, names) and notice is None
    else:
        assert chosen is _mix and notice == MIXED_NOTICE


def test_sources_for_a_single_input_is_that_input() -> None:
    assert sources_for(_mic, SpeakerNames(), offline=True, cpu_count=1) == (_mic, None)


def test_after_the_switch_to_one_mixed_stream_yous_new_turns_are_unlabelled() -> None:
    streams = _Streams()
    streams.say(YOU, _turn("before the switch", 500))
    streams.voices.mix_from(4000)
    streams.say(OTHERS, _turn("their last words", 2000))  # Others finishes what it holds
    streams.say(YOU, _turn("both of us now", 5000, order=1))
    streams.say(YOU, _turn("still", 6500, order=2, final=False))
    assert streams.live() == (None, "still")
    assert streams.paragraphs() == [("You", "before the switch"),
                                    ("Others", "their last words"),
                                    (None, "both of us now")]


def test_a_turn_that_starts_just_before_the_switch_is_the_mixs() -> None:
    """Speech that begins as the streams are mixed: the engine's first word may be stamped a
    little before the switch (word times are approximate), yet most of the turn is mixed audio:
    it is nobody's. A turn mostly before the switch keeps its speaker."""
    streams = _Streams()
    streams.voices.mix_from(1500)
    streams.say(YOU, _turn("mostly said before the switch", 500))  # 500..1950 ms
    streams.say(YOU, _turn("hello this is a test of live transcription", 1440, order=1))
    assert streams.paragraphs() == [("You", "mostly said before the switch"),
                                    (None, "hello this is a test of live transcription")]


def test_the_mixed_stream_is_nobodys_echo() -> None:
    """Mixed, You's stream carries Others' voice too: the same words overlapping an Others
    turn are not an echo to fold away."""
    streams = _Streams()
    streams.voices.mix_from(0)
    streams.say(OTHERS, _turn("see you tomorrow then", 1000))
    streams.say(YOU, _turn("see you tomorrow then", 1100))
    assert streams.paragraphs() == [("Others", "see you tomorrow then"),
                                    (None, "see you tomorrow then")]
    assert streams.voices.echoes == 0
