"""Two streams, You and Others, each keeps a single recording's guarantees: a session of one
stream that ends mid-sentence reconnects and replays its held audio while the other goes on,
and the merged transcript (and its autosave) still has every word once, with its speaker."""

from __future__ import annotations

import asyncio
import re
import wave
from pathlib import Path

import pytest

from app.core.errors import LiveTranscriberError
from app.core.mixing import MixReason, mixed_notice
from app.core.policy import pace_notice
from app.core.recording import EngineFactory, NoticeKind, RecorderState
from app.core.sources import AudioSource, ErrorSink, FrameSink, LevelSink
from app.core.speakers import OTHERS, SourcePair, SpeakerNames
from app.core.transcript import TranscriptModel
from app.io.audio.mixed_source import MixedSource
from app.io.audio.voice_taps import VoiceTaps
from app.io.recording.two_streams import VoicesRecorder
from tests.emulator import run_emulator
from tests.io.recording.test_reconnect import QUICK, CodedFile, cloud, coded_config
from tests.io.recording.test_recorder import autosaves, journal_engine, saved_text
from tests.support.coded_speech import coded_words, make_coded_speech, write_coded_speech_wav
from tests.support.recording import RecordingLog

YOU_SAYS = [[1, 2, 3, 4], [5, 6, 7, 8, 9], [10, 11, 12]]
OTHERS_SAY = [[101, 102, 103], [104, 105, 106, 107], [108, 109, 110]]


def coded_pair(folder: Path) -> tuple[SourcePair, CodedFile, CodedFile]:
    you = CodedFile(write_coded_speech_wav(folder / "you.wav", YOU_SAYS))
    others = CodedFile(write_coded_speech_wav(folder / "others.wav", OTHERS_SAY))

    def mixed(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
        return MixedSource((you, others), on_frame=on_frame, on_level=on_level,
                           on_error=on_error)
    return SourcePair(you, others, mixed, SpeakerNames("Me", "Them")), you, others


def words_by_speaker(model: TranscriptModel, speaker: str) -> list[str]:
    text = " ".join(t.text for t in model.finals if t.speaker == speaker)
    return re.findall(r"n\d{3}", text.lower())


async def record_both(recorder: VoicesRecorder, pair: SourcePair, you: CodedFile,
                      others: CodedFile, engine: EngineFactory) -> LiveTranscriberError | None:
    """Play both files into a recording and press Stop once both have been played."""
    stop = asyncio.Event()
    task = asyncio.create_task(recorder.record(pair, engine, stop))

    async def both_played() -> None:
        await you.finished.wait()
        await others.finished.wait()

    played = asyncio.create_task(both_played())
    await asyncio.wait({task, played}, return_when=asyncio.FIRST_COMPLETED)
    played.cancel()
    stop.set()
    return await task


async def test_one_stream_reconnecting_loses_and_doubles_no_word_of_either_voice(
    tmp_path: Path,
) -> None:
    pair, you, others = coded_pair(tmp_path)
    folder = tmp_path / "autosave"
    # The first session accepted (one of the two voices) is dropped mid-sentence.
    async with run_emulator(coded_config(fault_sessions=1, drop_after=1.8)) as emu:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = VoicesRecorder(model, listener, autosaves(folder),  # type: ignore[arg-type]
                                  options=QUICK)
        error = await record_both(recorder, pair, you, others, cloud(emu))
        sessions = emu.sessions_started
    assert error is None, error
    assert words_by_speaker(model, "Me") == coded_words(YOU_SAYS)
    assert words_by_speaker(model, "Them") == coded_words(OTHERS_SAY)
    starts = [t.start_ms or 0 for t in model.finals]
    assert starts == sorted(starts) and len(model.finals) == 6  # interleaved by audio time
    assert {t.speaker for t in model.finals[:2]} == {"Me", "Them"}
    assert sessions == 3  # two voices, one of them twice
    kinds = [n.kind for n in listener.notices]
    assert kinds == [NoticeKind.RECONNECTING, NoticeKind.RECONNECTED]
    assert listener.notices[-1].text.startswith(("Me: Reconnected after",
                                                 "Them: Reconnected after"))
    assert listener.states == [RecorderState.STARTING, RecorderState.RECORDING,
                               RecorderState.STOPPING, RecorderState.IDLE]
    assert recorder.lost_ms == 0 and recorder.dropped_frames == 0
    saved = saved_text(folder)
    assert re.findall(r"(?:Me|Them): ", saved) == [f"{t.speaker}: " for t in model.finals]
    assert sorted(re.findall(r"n\d{3}", saved.lower())) == sorted(
        coded_words(YOU_SAYS) + coded_words(OTHERS_SAY))
    assert journal_engine(folder) == "cloud"  # the History names it


async def test_a_voice_that_cannot_connect_ends_the_recording_with_one_error(
    tmp_path: Path,
) -> None:
    pair, you, others = coded_pair(tmp_path)
    async with run_emulator(coded_config()) as emu:
        emu.service_down()
        model, listener = TranscriptModel(), RecordingLog()
        recorder = VoicesRecorder(model, listener, options=QUICK)
        error = await record_both(recorder, pair, you, others, cloud(emu))
    assert error is not None
    assert listener.errors == [error]  # said once, not once per voice
    assert listener.states[-1] is RecorderState.IDLE and recorder.state is RecorderState.IDLE


def _wav(path: Path, pcm: bytes) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(pcm)
    return path


YOU_FIRST, OTHERS_LATER = [[201, 202, 203, 204]], [[211, 212, 213]]


def late_others(folder: Path) -> tuple[SourcePair, CodedFile, CodedFile]:
    """You speak at once; Others only after 8 s of silence (well after a fallback, which
    comes ~1.5 s after an outage). Switchable to one mixed stream, as the app builds it."""
    silence_ms = 8_000
    you_pcm = make_coded_speech(YOU_FIRST)
    you_pcm += bytes(32 * silence_ms + 32 * 3_500 - len(you_pcm))
    others_pcm = bytes(32 * silence_ms) + make_coded_speech(OTHERS_LATER)
    you = CodedFile(_wav(folder / "you.wav", you_pcm))
    others = CodedFile(_wav(folder / "others.wav", others_pcm))

    def mixed(on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink) -> AudioSource:
        return MixedSource((you, others), on_frame=on_frame, on_level=on_level,
                           on_error=on_error)
    pair = SourcePair(you, others, mixed, SpeakerNames("Me", "Them"),
                      switchable=lambda: VoiceTaps(you, others))
    return pair, you, others


def speakers_of_words(model: TranscriptModel) -> dict[str, str | None]:
    said = [(t.speaker, w) for t in model.finals for w in re.findall(r"n\d{3}", t.text.lower())]
    assert sorted(w for _, w in said) == sorted(coded_words(YOU_FIRST + OTHERS_LATER))
    return {w: speaker for speaker, w in said}  # every word once (checked just above)


@pytest.mark.parametrize("cores", [2, 8])
async def test_automatic_fallback_mid_call_goes_on_mixed_where_two_decoders_do_not_fit(
    tmp_path: Path, cores: int,
) -> None:
    """The cloud goes away for good while You speak; Others speak later. With too few cores for
    two offline decoders the recording goes on as one mixed stream (said once): You's words
    before the switch keep their label, Others' later words come through the mix unlabelled,
    every word once. With cores to spare each voice falls back on its own, labels kept."""
    pair, you, others = late_others(tmp_path)
    async with run_emulator(coded_config()) as primary, \
            run_emulator(coded_config()) as spare:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = VoicesRecorder(model, listener, options=QUICK, cpu_count=cores)
        stop = asyncio.Event()
        task = asyncio.create_task(recorder.record(pair, cloud(primary), stop, cloud(spare)))
        await asyncio.wait_for(listener.recording.wait(), 15)
        await primary.wait_sessions_started_async(2)
        primary.service_down()
        primary.drop_all()  # for good: no session comes back
        await asyncio.wait_for(asyncio.gather(you.finished.wait(), others.finished.wait()), 40)
        stop.set()
        error = await asyncio.wait_for(task, 40)
    assert error is None, error
    speakers = speakers_of_words(model)
    assert {speakers[w] for w in coded_words(YOU_FIRST)} == {"Me"}
    mixing = [n for n in listener.notices if n.text == mixed_notice(MixReason.FELL_BACK)]
    if cores < 4:
        assert recorder.mixed and len(mixing) == 1
        assert {speakers[w] for w in coded_words(OTHERS_LATER)} == {None}
    else:
        assert not recorder.mixed and mixing == []
        assert {speakers[w] for w in coded_words(OTHERS_LATER)} == {"Them"}
    assert listener.states[-1] is RecorderState.IDLE
    assert recorder.lost_ms == 0 and recorder.dropped_frames == 0


async def test_a_voice_falling_behind_turns_the_call_into_one_mixed_stream(
    tmp_path: Path,
) -> None:
    """An engine of one voice says it is behind (what an offline decoder reports through the
    recorder): the recording goes on as one mixed stream, with every word once."""
    pair, you, others = late_others(tmp_path)
    async with run_emulator(coded_config()) as emu:
        model, listener = TranscriptModel(), RecordingLog()
        recorder = VoicesRecorder(model, listener, options=QUICK, cpu_count=8)
        stop = asyncio.Event()
        task = asyncio.create_task(recorder.record(pair, cloud(emu), stop))
        await asyncio.wait_for(listener.recording.wait(), 15)
        while not model.finals:  # You's sentence has been heard, labelled
            await asyncio.wait_for(listener.changed.wait(), 15)
            listener.changed.clear()
        recorder.stream_notice(OTHERS, pace_notice(3_000, "Words in progress update less often."))
        await asyncio.wait_for(asyncio.gather(you.finished.wait(), others.finished.wait()), 40)
        stop.set()
        error = await asyncio.wait_for(task, 40)
    assert error is None, error
    assert recorder.mixed
    speakers = speakers_of_words(model)
    assert {speakers[w] for w in coded_words(YOU_FIRST)} == {"Me"}
    assert {speakers[w] for w in coded_words(OTHERS_LATER)} == {None}
    texts = [n.text for n in listener.notices]
    assert texts[0].startswith("Them: Behind by 3 s.")
    assert texts[1] == mixed_notice(MixReason.BEHIND)
    assert listener.notices[1].kind is NoticeKind.BEHIND  # not a fallback: same engine
    assert recorder.lost_ms == 0 and recorder.dropped_frames == 0
