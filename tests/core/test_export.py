"""Exporters and parsers: golden files for small transcripts, the cue rules, tolerant and strict
parsing, and round trips (SRT/VTT cues, JSON exactly) over generated transcripts."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.errors import ExportError
from app.core.export import (
    JSON_FORMAT_NAME,
    Cue,
    Format,
    cues,
    from_json,
    parse_srt,
    parse_vtt,
    render,
    to_json,
    to_srt,
    to_txt,
    to_vtt,
)
from app.core.messages import Turn, Word
from app.core.subtitles import MAX_CUE_MS, MAX_LINE_CHARS, SRT_ARROW, wrap
from app.core.transcript import TranscriptModel, TranscriptTurn, paragraph_text


def timed(
    order: int,
    text: str,
    start: int,
    *,
    length: int = 300,
    gap: int = 0,
    final: bool = True,
    speaker: str | None = None,
) -> TranscriptTurn:
    """A turn whose words spell ``text``: each ``length`` ms, ``gap`` ms apart, from ``start``."""
    step = length + gap
    ws = tuple(
        Word(token, start + i * step, start + i * step + length, 0.9, final)
        for i, token in enumerate(text.split())
    )
    return TranscriptTurn(
        order=order, text=text, words=ws, final=final, formatted=final,
        start_ms=ws[0].start if ws else None, end_ms=ws[-1].end if ws else None,
        speaker=speaker,
    )


def untimed(order: int, text: str, *, final: bool = True) -> TranscriptTurn:
    return TranscriptTurn(order, text, (), final, False, None, None)


def srt_lines(srt: str) -> list[list[str]]:
    """The text lines of each cue of an SRT file this module wrote."""
    return [block.split("\n")[2:] for block in srt.rstrip("\n").split("\n\n")] if srt else []


TWO_TURNS = [timed(0, "Hello there.", 1000), timed(1, "How are you?", 3000, length=400)]


# --- TXT -------------------------------------------------------------------------------------


def test_txt_has_a_paragraph_per_final_turn() -> None:
    turns = [*TWO_TURNS, untimed(2, "  "), timed(3, "not yet", 9000, final=False)]
    assert to_txt(turns) == "Hello there.\n\nHow are you?\n"
    assert to_txt(turns, include_partial=True) == "Hello there.\n\nHow are you?\n\nnot yet\n"
    assert to_txt([]) == ""


def test_txt_timestamps_are_the_first_word_rounded_down() -> None:
    turns = [timed(0, "Later on", 3_723_999), untimed(1, "No times."), *TWO_TURNS]
    assert to_txt(turns, timestamps=True) == (
        "[01:02:03] Later on\n\nNo times.\n\n[00:00:01] Hello there.\n\n[00:00:03] How are you?\n"
    )


def test_txt_keeps_each_turn_one_paragraph() -> None:
    assert to_txt([untimed(0, "one\n\ntwo\r\nthree ")]) == "one two three\n"


def test_txt_matches_the_models_plain_text() -> None:
    model = TranscriptModel()
    for order, text in enumerate(["Hi.", "", "How are you?"]):
        ws = tuple(Word(t, 0, 1, 1.0, True) for t in text.split())
        model.apply(Turn(order, True, True, text, 1.0, ws))
    assert to_txt(model.finals) == model.plain_text(include_partial=False) + "\n"


# --- SRT and WebVTT: golden files --------------------------------------------------------------


def test_srt_golden() -> None:
    assert to_srt(TWO_TURNS) == (
        "1\n00:00:01,000 --> 00:00:01,600\nHello there.\n\n"
        "2\n00:00:03,000 --> 00:00:04,200\nHow are you?\n"
    )


def test_vtt_golden_with_escaped_text() -> None:
    turns = [timed(0, "Use <b> & --> now", 61_000), timed(1, "ok", 3_600_000)]
    assert to_vtt(turns) == (
        "WEBVTT\n\n"
        "00:01:01.000 --> 00:01:02.500\nUse &lt;b&gt; &amp; --&gt; now\n\n"
        "01:00:00.000 --> 01:00:00.500\nok\n"
    )


def test_srt_writes_the_arrow_so_no_parser_sees_a_time_line() -> None:
    srt = to_srt([timed(0, "a --> b --->", 0)])
    assert srt == f"1\n00:00:00,000 --> 00:00:01,200\na {SRT_ARROW} b -{SRT_ARROW}\n"
    assert srt.count("-->") == 1


def test_empty_transcripts() -> None:
    assert to_srt([]) == "" and parse_srt("") == []
    assert to_vtt([]) == "WEBVTT\n" and parse_vtt("WEBVTT\n") == []
    assert cues([untimed(0, " \n "), timed(1, "partial", 0, final=False)]) == []


# --- the cue rules ---------------------------------------------------------------------------


def test_long_turn_is_split_into_two_balanced_lines_per_cue() -> None:
    turn = timed(0, "The quick brown fox jumps over the lazy dog. " * 3, 0)
    assert to_srt([turn]) == (
        "1\n00:00:00,000 --> 00:00:04,800\n"
        "The quick brown fox jumps over the lazy\ndog. The quick brown fox jumps over the\n\n"
        "2\n00:00:04,800 --> 00:00:08,100\n"
        "lazy dog. The quick brown\nfox jumps over the lazy dog.\n"
    )


def test_cues_last_at_most_seven_seconds() -> None:
    turn = timed(0, "one two three four five six seven", 1000, length=1500, gap=500)
    assert cues([turn]) == [
        Cue(1000, 6500, "one two three"),
        Cue(7000, 12_500, "four five six"),
        Cue(13_000, 14_500, "seven"),
    ]


def test_word_longer_than_a_line_gets_a_cue_of_its_own() -> None:
    long_word = "x" * 50
    turn = timed(0, f"a {long_word} b", 0)
    assert [c.text for c in cues([turn])] == ["a", long_word, "b"]
    assert srt_lines(to_srt([turn]))[1] == [long_word]


def test_wrap_prefers_balanced_lines_with_the_shorter_on_top() -> None:
    assert wrap(["short"]) == ["short"]
    # 9 words: splitting 4/5 or 5/4 is equally balanced; the shorter line goes on top.
    assert wrap(["aaaa"] * 9) == ["aaaa aaaa aaaa aaaa", "aaaa aaaa aaaa aaaa aaaa"]
    assert wrap(["aaaa"] * 10) == ["aaaa aaaa aaaa aaaa aaaa"] * 2
    assert wrap(["a" * 43]) is None
    assert wrap(["a" * 42, "b" * 42, "c"]) is None


def test_words_that_do_not_spell_the_text_are_timed_by_interpolation() -> None:
    turn = replace(timed(0, "twenty five", 1000), text="25 dollars")  # 1000..1600 ms
    assert cues([turn]) == [Cue(1000, 1600, "25 dollars")]
    # 13 characters over 13 s, so 1 s per character: "three" ends 13 s after the start.
    slow = replace(turn, text="one two three", end_ms=14_000)
    assert cues([slow]) == [Cue(1000, 8000, "one two"), Cue(9000, 14_000, "three")]


def test_untimed_turns_follow_the_previous_cue_at_reading_speed() -> None:
    turns = [untimed(0, "Hi."), timed(1, "Timed", 5000), untimed(2, "x" * 20)]
    assert cues(turns) == [
        Cue(0, 500, "Hi."),  # 3 characters: the 500 ms minimum
        Cue(5000, 5300, "Timed"),
        Cue(5300, 6500, "x" * 20),  # 20 characters × 60 ms, from the previous cue's end
    ]


def test_short_and_zero_length_cues_last_500_ms_unless_the_next_cue_starts() -> None:
    turns = [
        timed(0, "zero", 1000, length=0),
        timed(1, "blink", 5000, length=10),
        timed(2, "next", 5200),
    ]
    assert cues(turns) == [
        Cue(1000, 1500, "zero"),
        Cue(5000, 5200, "blink"),  # clipped to the next start
        Cue(5200, 5700, "next"),
    ]


def test_times_never_go_backwards() -> None:
    turns = [timed(0, "late", 9000), timed(1, "early", 2000), timed(2, "same", 2000)]
    assert cues(turns) == [
        Cue(9000, 9500, "late"),
        Cue(9000, 9500, "early"),  # start raised to the previous one's; overlap is unavoidable
        Cue(9000, 9500, "same"),
    ]


def test_line_breaks_and_blank_lines_in_text_never_reach_the_file() -> None:
    turn = untimed(0, "first\n\nsecond\r\n\n2\n00:00:01,000 --> 00:00:02,000")
    text = f"first second 2 00:00:01,000 {SRT_ARROW} 00:00:02,000"
    assert parse_srt(to_srt([turn])) == [Cue(0, 60 * len(text), text)]


# --- parsing ---------------------------------------------------------------------------------


def test_parse_srt_tolerates_crlf_bom_trailing_space_and_missing_numbers() -> None:
    text = (
        "\ufeff1\r\n00:00:01,000 --> 00:00:02,500  \r\nfirst line  \r\nsecond line\r\n\r\n\r\n"
        "00:01:00.250-->00:01:01,000 X1:10 X2:20\r\n  indented\r\n\r\n"
        "7\r\n10:00:00,000 --> 10:00:00,000\r\n"
    )
    assert parse_srt(text) == [
        Cue(1000, 2500, "first line second line"),
        Cue(60_250, 61_000, "indented"),
        Cue(36_000_000, 36_000_000, ""),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("just some text\n", "line 1 has no time line"),
        ("1\n00:00:01,000 -> 00:00:02,000\nx\n", "line 1 has no time line"),
        ("1\n00:00:01,000 --> 00:00:02,000\nx\n\nstray words\n", "line 5 has no time line"),
        ("1\n00:00:01,000 --> 00:00:02,000\n\n\n2\n00:60:00,000 --> 01:00:00,000\n", "line 5"),
        ("1\n00:00:02,000 --> 00:00:01,000\nx\n", "line 1 ends before it starts"),
        ("1\n00:00:01,000 --> 00:00:02,000\nx\n2\n00:00:03,000 --> 00:00:04,000\ny\n",
         "the time line on line 5 is not after a blank line"),
    ],
)
def test_parse_srt_rejects_malformed_files(text: str, problem: str) -> None:
    with pytest.raises(ExportError) as caught:
        parse_srt(text)
    assert caught.value.message.startswith("The SRT file is not valid: ")
    assert problem in caught.value.message and caught.value.message.endswith(".")


def test_parse_vtt_skips_notes_and_styles_and_reads_cue_options() -> None:
    text = (
        "\ufeffWEBVTT - made elsewhere\r\nKind: captions\r\n\r\n"
        "NOTE a comment\r\nover two lines\r\n\r\n"
        "STYLE\r\n::cue { color: red }\r\n\r\n"
        "intro\r\n00:01.500 --> 00:02.000 align:start line:0\r\n"
        "<v Ann>Hello</v> <i>there</i> &amp; &lt;3\r\nbye \r\n\r\n"
        "01:00:00.000 --> 01:00:01.000\r\nlast\r\n"
    )
    assert parse_vtt(text) == [
        Cue(1500, 2000, "Hello there & <3 bye", speaker="Ann"),  # from the voice tag
        Cue(3_600_000, 3_601_000, "last"),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "does not start with the line WEBVTT"),
        ("WEBVTTX\n\n00:01.000 --> 00:02.000\nx\n", "does not start with the line WEBVTT"),
        ("1\n00:00:01,000 --> 00:00:02,000\nx\n", "does not start with the line WEBVTT"),
        ("WEBVTT\n\n00:00:01,000 --> 00:00:02,000\nx\n", "line 3 has no time line"),
        ("WEBVTT\n\nid\nnot a time\nx\n", "line 3 has no time line"),
        ("WEBVTT\n\n00:03.000 --> 00:02.000\nx\n", "line 3 ends before it starts"),
        ("WEBVTT\n00:01.000 --> 00:02.000\nx\n", "a blank line must separate the WEBVTT"),
    ],
)
def test_parse_vtt_rejects_malformed_files(text: str, problem: str) -> None:
    with pytest.raises(ExportError) as caught:
        parse_vtt(text)
    assert problem in caught.value.message and caught.value.message.endswith(".")


def test_subtitles_parse_back_to_their_cues() -> None:
    turns = [timed(0, "The quick brown fox jumps over the lazy dog. " * 3, 0), *TWO_TURNS]
    assert parse_vtt(to_vtt(turns)) == cues(turns)
    assert parse_srt(to_srt(turns)) == cues(turns)


# --- JSON ------------------------------------------------------------------------------------


def test_json_holds_every_field() -> None:
    turn = replace(timed(3, "Hi.", 250, speaker="A"), segment=1, interrupted=True,
                   language="fr")
    document = json.loads(to_json([turn]))
    assert document == {
        "format": JSON_FORMAT_NAME,
        "version": 1,
        "turns": [{
            "segment": 1, "order": 3, "text": "Hi.", "final": True, "formatted": True,
            "interrupted": True, "speaker": "A", "language": "fr", "start_ms": 250,
            "end_ms": 550,
            "words": [{"text": "Hi.", "start": 250, "end": 550, "confidence": 0.9,
                       "word_is_final": True, "speaker": None}],
        }],
    }


def test_json_round_trip_of_a_live_model() -> None:
    model = TranscriptModel()
    ws = (Word("héllo", 10, 90, 0.25, True, "B"), Word("wörld", 100, 180, 1.0, False))
    model.apply(Turn(0, False, True, "héllo wörld", 1.0, ws, speaker_label="B"))
    model.apply(Turn(0, True, True, "Héllo, wörld!", 1.0, ws))
    model.apply(Turn(1, False, False, "", 0.0, ws))
    model.begin_session(5000)
    model.apply(Turn(0, False, False, "", 0.0, ws))
    turns = model.turns()
    assert from_json(to_json(turns, include_partial=True)) == turns
    assert from_json(to_json(turns)) == list(model.finals)
    assert from_json("\ufeff" + to_json([])) == []


def test_json_keeps_the_language_of_each_turn() -> None:
    model = TranscriptModel()
    ws = (Word("Hola.", 0, 400, 0.9, True),)
    model.apply(Turn(0, True, True, "Hola.", 1.0, ws, language_code="es",
                     language_confidence=0.97))
    model.apply(Turn(1, True, True, "Hello.", 1.0, ws))
    assert [t.language for t in model.finals] == ["es", None]
    document = json.loads(to_json(model.finals))
    assert [t["language"] for t in document["turns"]] == ["es", None]
    assert [t.language for t in from_json(to_json(model.finals))] == ["es", None]


def test_a_file_from_before_languages_reads_back_without_one() -> None:
    document = json.loads(to_json([timed(0, "a", 0)]))
    del document["turns"][0]["language"]
    (turn,) = from_json(json.dumps(document))
    assert turn.language is None and turn == timed(0, "a", 0)


def test_json_refuses_a_confidence_that_is_not_a_number() -> None:
    turn = replace(timed(0, "x", 0), words=(Word("x", 0, 1, float("nan"), True),))
    with pytest.raises(ExportError, match="confidence is not a number"):
        to_json([turn])


def _document(**changes: object) -> str:
    turn = json.loads(to_json([timed(0, "a", 0)]))["turns"][0]
    word_changes = changes.pop("word", None)
    if isinstance(word_changes, dict):
        turn["words"][0].update(word_changes)
    turn.update(changes)
    return json.dumps({"format": JSON_FORMAT_NAME, "version": 1, "turns": [turn]})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "The file is not valid JSON."),
        ("[]", "The file is not a Live Transcriber transcript."),
        ('{"format": "other", "version": 1, "turns": []}',
         "The file is not a Live Transcriber transcript."),
        (json.dumps({"format": JSON_FORMAT_NAME, "version": 2, "turns": []}),
         "The transcript was saved by a newer Live Transcriber (format 2)."),
        (json.dumps({"format": JSON_FORMAT_NAME, "version": 0, "turns": []}),
         "The transcript file is damaged: its format version 0 does not exist."),
        (json.dumps({"format": JSON_FORMAT_NAME, "version": "1", "turns": []}),
         "The transcript file is damaged: the file has no valid 'version' (a whole number)."),
        (json.dumps({"format": JSON_FORMAT_NAME, "version": 1}),
         "The transcript file is damaged: the file has no valid 'turns' (a list)."),
        (json.dumps({"format": JSON_FORMAT_NAME, "version": 1, "turns": [3]}),
         "The transcript file is damaged: turn 1 is not an object."),
        (_document(order=True),
         "The transcript file is damaged: turn 1 has no valid 'order' (a whole number)."),
        (_document(final=1),
         "The transcript file is damaged: turn 1 has no valid 'final' (true or false)."),
        (_document(start_ms="0"), "turn 1 has no valid 'start_ms' (a whole number or null)."),
        (_document(speaker=5), "turn 1 has no valid 'speaker' (text or null)."),
        (_document(language=["fr"]), "turn 1 has no valid 'language' (text or null)."),
        (_document(text=None), "turn 1 has no valid 'text' (text)."),
        (_document(word={"confidence": "high"}),
         "word 1 of turn 1 has no valid 'confidence' (a number)."),
        (_document(word={"start": 1.5}),
         "word 1 of turn 1 has no valid 'start' (a whole number)."),
    ],
)
def test_from_json_explains_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ExportError) as caught:
        from_json(text)
    assert caught.value.message.endswith(message)


def test_from_json_reads_an_integer_confidence_as_a_number() -> None:
    (turn,) = from_json(_document(word={"confidence": 1}))
    assert turn.words[0].confidence == 1.0 and isinstance(turn.words[0].confidence, float)


# --- formats ---------------------------------------------------------------------------------


def test_formats_name_their_suffix_and_render_with_the_matching_exporter() -> None:
    turns = [*TWO_TURNS, timed(2, "in progress", 8000, final=False)]
    assert [f.suffix for f in Format] == [".txt", ".srt", ".vtt", ".json"]
    assert all(f.description for f in Format)
    assert render(Format.TXT, turns) == to_txt(turns)
    assert render(Format.TXT, turns, timestamps=True) == to_txt(turns, timestamps=True)
    assert render(Format.SRT, turns) == to_srt(turns)
    assert render(Format.VTT, turns) == to_vtt(turns)
    assert render(Format.JSON, turns) == to_json(turns)
    for format in Format:
        with_partial = render(format, turns, include_partial=True)
        assert "progress" in with_partial and "progress" not in render(format, turns)


# --- properties ------------------------------------------------------------------------------

_awkward = st.sampled_from(
    ["-->", "--->", "\n", "\n\n", "\r\n", "<b>&", "&amp;", "&lt;", " ", "\t", "x" * 45, "1",
     "00:00:01,000 --> 00:00:02,000", "WEBVTT", "NOTE", "\u2028", "\x85", "é", "字"]
)
_text = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(_awkward, st.text(max_size=6)), max_size=8).map("".join),
)
_ms = st.integers(-1000, 10**9)
_confidence = st.floats(allow_nan=False, allow_infinity=False)
_label = st.none() | st.text(max_size=3)
_language = st.none() | st.sampled_from(["en", "fr", "zh", "haw"])
# Strategies are built once here: building them inside the composite dominates the run time.
_timing = st.tuples(st.booleans(), st.integers(-500, 10_000), st.integers(-100, 9000),
                    _confidence, st.booleans())
_other_words = st.lists(
    st.builds(Word, st.text(max_size=8), _ms, _ms, _confidence, st.booleans(), _label),
    max_size=4,
)
_flags = st.tuples(st.booleans(), st.booleans(), st.booleans())
_kind = st.sampled_from(["spelled", "other", "none"])
_first_start = st.integers(0, 10**8)
_span = st.none() | st.tuples(_ms, _ms)
_place = st.tuples(st.integers(0, 10**6), st.integers(0, 50))


@st.composite
def _turns(draw: st.DrawFn) -> TranscriptTurn:
    text = draw(_text)
    kind = draw(_kind)
    ws: list[Word] = []
    if kind == "spelled":  # the usual case: the words spell the text, maybe with empty words
        time = draw(_first_start)
        for token in text.split():
            empty_before, gap, length, confidence, word_is_final = draw(_timing)
            if empty_before:
                ws.append(Word("", time, time, 0.5, True))
            time += gap
            ws.append(Word(token, time, time + length, confidence, word_is_final))
    elif kind == "other":
        ws = draw(_other_words)
    span = draw(_span)
    if ws:
        span = (ws[0].start, ws[-1].end)
    final, formatted, interrupted = draw(_flags)
    order, segment = draw(_place)
    return TranscriptTurn(
        order=order, text=text, words=tuple(ws), final=final,
        formatted=formatted, start_ms=span[0] if span else None,
        end_ms=span[1] if span else None, speaker=draw(_label),
        interrupted=interrupted, segment=segment, language=draw(_language),
    )


_transcripts = st.lists(_turns(), max_size=6)


def _srt_text(cue: Cue) -> str:
    text = f"{cue.speaker}: {cue.text}" if cue.speaker else cue.text
    return text.replace("-->", SRT_ARROW)


def _said(turn: TranscriptTurn) -> str:
    speaker = " ".join((turn.speaker or "").split())
    return f"{speaker}: {paragraph_text(turn.text)}" if speaker else paragraph_text(turn.text)


def _tokens(turns: list[TranscriptTurn]) -> list[str]:
    return [token for t in turns if t.final for token in t.text.split()]


@settings(max_examples=300)
@given(_transcripts)
def test_srt_round_trip_keeps_text_and_times(turns: list[TranscriptTurn]) -> None:
    expected = cues(turns)
    parsed = parse_srt(to_srt(turns))
    # SRT says the speaker as "Name: " before the text; reading it back cannot tell them apart.
    assert parsed == [Cue(c.start_ms, c.end_ms, _srt_text(c)) for c in expected]
    assert [tok for c in expected for tok in c.text.split()] == _tokens(turns)


@settings(max_examples=300)
@given(_transcripts)
def test_vtt_round_trip_keeps_text_and_times(turns: list[TranscriptTurn]) -> None:
    expected = cues(turns)
    assert parse_vtt(to_vtt(turns)) == expected
    assert [tok for c in expected for tok in c.text.split()] == _tokens(turns)


@settings(max_examples=300)
@given(_transcripts)
def test_cue_timing_and_layout_invariants(turns: list[TranscriptTurn]) -> None:
    result = cues(turns, include_partial=True)
    for cue in result:
        assert 0 <= cue.start_ms < cue.end_ms
        if len(cue.text.split()) > 1:
            assert cue.end_ms - cue.start_ms <= MAX_CUE_MS
    for before, after in zip(result, result[1:], strict=False):
        assert before.start_ms <= after.start_ms
        assert before.end_ms <= after.start_ms or before.start_ms == after.start_ms
    for lines, cue in zip(srt_lines(to_srt(turns, include_partial=True)), result, strict=True):
        if len(cue.text.split()) > 1:
            assert len(lines) <= 2 and all(len(line) <= MAX_LINE_CHARS for line in lines)
        else:
            assert lines == [_srt_text(cue)] or len(lines) == 2 and cue.speaker


@settings(max_examples=300)
@given(_transcripts)
def test_json_round_trip_is_exact(turns: list[TranscriptTurn]) -> None:
    assert from_json(to_json(turns, include_partial=True)) == turns


@settings(max_examples=300)
@given(_transcripts)
def test_txt_has_one_paragraph_per_final_turn_with_text(turns: list[TranscriptTurn]) -> None:
    expected = [_said(t) for t in turns if t.final and paragraph_text(t.text)]
    text = to_txt(turns)
    assert (text.removesuffix("\n").split("\n\n") if text else []) == expected


def _spoken(text: str, start: int, speaker: str) -> TranscriptTurn:
    ws = tuple(Word(w, start + i * 400, start + i * 400 + 300, 0.9, True)
               for i, w in enumerate(text.split()))
    return TranscriptTurn(order=start, text=text, words=ws, final=True, formatted=True,
                          start_ms=ws[0].start, end_ms=ws[-1].end, speaker=speaker)


_TWO_VOICES = [_spoken("Hello there.", 0, "You"), _spoken("Hi, how are you?", 1500, "Others")]


def test_txt_says_who_speaks_before_each_paragraph() -> None:
    assert to_txt(_TWO_VOICES) == "You: Hello there.\n\nOthers: Hi, how are you?\n"
    assert to_txt(_TWO_VOICES, timestamps=True) == (
        "[00:00:00] You: Hello there.\n\n[00:00:01] Others: Hi, how are you?\n")


def test_srt_starts_each_cue_with_the_speaker() -> None:
    assert to_srt(_TWO_VOICES) == (
        "1\n00:00:00,000 --> 00:00:00,700\nYou: Hello there.\n\n"
        "2\n00:00:01,500 --> 00:00:03,000\nOthers: Hi, how are you?\n")


def test_vtt_voice_tags_say_the_speaker_and_read_back() -> None:
    text = to_vtt(_TWO_VOICES)
    assert text == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:00.700\n<v You>Hello there.\n\n"
        "00:00:01.500 --> 00:00:03.000\n<v Others>Hi, how are you?\n")
    assert [(c.speaker, c.text) for c in parse_vtt(text)] == [
        ("You", "Hello there."), ("Others", "Hi, how are you?")]


def test_json_keeps_the_speaker_of_each_turn() -> None:
    document = json.loads(to_json(_TWO_VOICES))
    assert [t["speaker"] for t in document["turns"]] == ["You", "Others"]
    assert from_json(to_json(_TWO_VOICES)) == _TWO_VOICES


def test_a_speaker_label_counts_in_the_srt_line_length() -> None:
    long = _spoken("one two three four five six seven eight nine ten eleven", 0, "Others")
    for block in to_srt([long]).split("\n\n"):
        lines = block.strip().split("\n")[2:]
        assert lines[0].startswith("Others: ")
        assert all(len(line) <= MAX_LINE_CHARS for line in lines)
