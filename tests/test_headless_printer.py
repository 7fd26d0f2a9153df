"""What ``--headless`` prints for two voices: "You: …"/"Others: …" paragraphs on stdout, once
each, and a correction line on stderr when a printed paragraph is revised by the merge."""

from __future__ import annotations

import pytest

from app.core.messages import Turn, Word
from app.core.recording import RecorderState
from app.core.speakers import OTHERS, YOU, Stream, TwoVoices
from app.core.transcript import TranscriptModel
from app.headless import _Printer


def _turn(text: str, start: int, *, formatted: bool = True, final: bool = True) -> Turn:
    words = tuple(Word(w, start + i * 300, start + i * 300 + 250, 0.9, True)
                  for i, w in enumerate(text.split()))
    return Turn(0, final, formatted and final, text, 0.9, words)


class _Call:
    """Two streams' own models folded by TwoVoices, their changes printed as headless does."""

    def __init__(self, format_turns: bool) -> None:
        self.voices = TwoVoices(TranscriptModel())
        self.own = {YOU: TranscriptModel(), OTHERS: TranscriptModel()}
        self.printer = _Printer(format_turns, on_output_closed=lambda: None)

    def say(self, stream: Stream, turn: Turn) -> None:
        change = self.own[stream].apply(turn)
        assert change is not None
        for merged in self.voices.apply(stream, change):
            self.printer.on_transcript(merged)


def test_each_voices_paragraph_is_printed_once_with_its_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call = _Call(format_turns=True)
    call.say(YOU, _turn("hello there", 0, final=False))
    call.say(YOU, _turn("hello there", 0, formatted=False))  # held for its formatted form
    call.say(OTHERS, _turn("Good morning.", 2000))
    call.say(YOU, _turn("Hello there.", 0))
    call.printer.on_state(RecorderState.IDLE)
    out, err = capsys.readouterr()
    assert out.splitlines() == ["Others: Good morning.", "You: Hello there."]
    assert "… You: hello there" in err and "correction:" not in err


def test_a_printed_paragraph_found_to_be_an_echo_gets_a_correction_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call = _Call(format_turns=False)
    call.say(YOU, _turn("see you tomorrow", 1100))  # printed at once, as You's
    call.say(OTHERS, _turn("see you tomorrow", 1000))  # the louder original: it was Others'
    call.printer.on_state(RecorderState.IDLE)
    out, err = capsys.readouterr()
    assert out.splitlines() == ["You: see you tomorrow"]
    assert err.splitlines() == [
        "correction: “You: see you tomorrow” now reads “Others: see you tomorrow”"]
    assert call.voices.echoes == 1
