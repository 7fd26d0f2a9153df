"""Microphone + system audio with real parts: a private PulseAudio with a virtual microphone and
the virtual output ``vspeaker``, two PyAudio captures, two streaming sessions against the
emulator (its coded recogniser reads the words from the audio each session receives), one
transcript labelled You and Others, its exports and its journal."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from app.core.config import StreamingParams, endpoints_for
from app.core.devices import BOTH, with_both
from app.core.errors import ExportError
from app.core.export import to_json, to_srt, to_txt, to_vtt
from app.core.journal import journal_path_for, parse_journal
from app.core.mixing import MixReason, mixed_notice
from app.core.ports import EventSink
from app.core.speakers import SourcePair, SpeakerNames
from app.core.transcript import TranscriptModel
from app.io.cloud.session import StreamingSession
from app.io.devices.pulse import PulseDeviceProvider
from app.io.offline.engine import OfflineEngine
from app.io.offline.model import WhisperModelLoader
from app.io.recording.autosave import TranscriptAutosave
from app.io.recording.two_streams import VoicesRecorder
from app.wiring import microphone
from tests.emulator import CodedRecognizer, EmulatorConfig, run_emulator
from tests.io.recording.test_reconnect import QUICK
from tests.support.coded_speech import coded_words, write_coded_speech_wav
from tests.support.pulse import PulseServer, VirtualMicrophone, VirtualSink
from tests.support.recording import RecordingLog
from tests.support.speech import load_fixture, word_error_rate

KEY = "two-voices-key"
SPEAKERS = VirtualSink("vspeaker", -1, 16_000, 1)  # the fixture's output (the default one)
WER_BOUND = 0.15  # offline, per voice; the measured values are printed


@asynccontextmanager
async def desk(pulse_server: PulseServer) -> AsyncIterator[tuple[SourcePair, VirtualMicrophone]]:
    """The picker's "Microphone + system audio" on a desktop with one microphone and one
    output, built as the app builds it."""
    mic = await asyncio.to_thread(pulse_server.load_microphone, "vdeskmic")
    try:
        devices = await asyncio.to_thread(PulseDeviceProvider().list_devices)
        both = with_both(devices)[-1]
        assert both.kind == BOTH
        assert [d.id for d in both.parts] == ["vdeskmic", SPEAKERS.monitor]
        pair = microphone(both)
        assert isinstance(pair, SourcePair)
        yield pair, mic
    finally:
        await asyncio.to_thread(pulse_server.unload_microphone, mic)


def autosave_in(folder: Path) -> Callable[[datetime, Callable[[ExportError], None]],
                                          TranscriptAutosave]:
    def build(started: datetime, on_error: Callable[[ExportError], None]) -> TranscriptAutosave:
        return TranscriptAutosave(folder / "two-voices.txt", on_error, started=started)
    return build


async def record_two(pulse_server: PulseServer, folder: Path, you: Sequence[int] | None,
                     others: Sequence[int], *, mic_volume: float = 1.0,
                     names: SpeakerNames | None = None,
                     ) -> tuple[TranscriptModel, RecordingLog, VoicesRecorder]:
    """Say ``you`` into the microphone and play ``others`` on the output at once, then Stop."""
    config = EmulatorConfig(api_keys=frozenset({KEY}),
                            recognizer_factory=lambda p: CodedRecognizer(p.sample_rate))
    others_wav = write_coded_speech_wav(folder / "others.wav", [others])
    you_wav = write_coded_speech_wav(folder / "you.wav", [you]) if you else None
    async with run_emulator(config) as emu, desk(pulse_server) as (pair, mic):
        if names is not None:
            pair = SourcePair(pair.you, pair.others, pair.mixed, names)

        def engine(sink: EventSink) -> StreamingSession:
            return StreamingSession(endpoints_for(override=emu.url), KEY,
                                    StreamingParams(format_turns=False), sink)

        model, listener, stop = TranscriptModel(), RecordingLog(), asyncio.Event()
        recorder = VoicesRecorder(model, listener, autosave_in(folder))
        task = asyncio.create_task(recorder.record(pair, engine, stop))
        await asyncio.wait_for(listener.recording.wait(), 15)
        players = [pulse_server.play(others_wav, SPEAKERS)]
        if you_wav is not None:
            players.append(pulse_server.play(you_wav, mic.sink, volume=mic_volume))
        for player in players:
            assert await asyncio.to_thread(player.wait, 20) == 0
        stop.set()
        assert await asyncio.wait_for(task, 30) is None
        sessions = await emu.wait_sessions_closed_async(2)
        assert len(sessions) == 2  # one streaming session per voice, with the same key
    return model, listener, recorder


async def test_two_sentences_at_once_are_one_you_and_one_others_paragraph(
    pulse_server: PulseServer, tmp_path: Path,
) -> None:
    you, others = [10, 11, 12, 13], [40, 41, 42, 43, 44]
    model, listener, recorder = await record_two(pulse_server, tmp_path, you, others)
    assert listener.errors == []
    said = {("You", " ".join(coded_words([you]))), ("Others", " ".join(coded_words([others])))}
    assert {(t.speaker, t.text) for t in model.finals} == said
    assert len(model.finals) == 2 and recorder.echoes == 0
    starts = [t.start_ms or 0 for t in model.finals]
    assert starts == sorted(starts)  # ordered by audio time
    assert recorder.dropped_frames == 0

    text = to_txt(model.finals)
    assert f"You: {' '.join(coded_words([you]))}\n" in text
    assert f"Others: {' '.join(coded_words([others]))}\n" in text
    assert "<v You>n010" in to_vtt(model.finals) and "<v Others>n040" in to_vtt(model.finals)
    assert "\nYou: n010" in to_srt(model.finals)
    exported = json.loads(to_json(model.finals))["turns"]
    assert {t["speaker"] for t in exported} == {"You", "Others"}

    # The journal on disk (what crash recovery reads) keeps who said what.
    journal = parse_journal(journal_path_for(tmp_path / "two-voices.txt").read_text("utf-8"))
    assert {(t.speaker, t.text) for t in journal.turns} == said
    assert (tmp_path / "two-voices.txt").read_text("utf-8") == text


async def test_echo_of_the_speakers_in_the_microphone_is_one_others_paragraph(
    pulse_server: PulseServer, tmp_path: Path,
) -> None:
    sentence = [70, 71, 72, 73]
    names = SpeakerNames("Ada", "Guests")  # as edited in Settings
    model, listener, recorder = await record_two(pulse_server, tmp_path, sentence, sentence,
                                                 mic_volume=0.25, names=names)
    assert listener.errors == []
    assert [(t.speaker, t.text) for t in model.finals] == [
        ("Guests", " ".join(coded_words([sentence])))]
    assert recorder.echoes == 1


async def test_offline_two_voices_each_transcribed_by_its_own_decoder(
    pulse_server: PulseServer,
) -> None:
    """What a machine with cores to spare runs offline (this 2-core one mixes instead, see
    app.core.speakers.two_offline_streams): two offline engines sharing one loaded model,
    each decoding only while its own voice speaks."""
    you, others = load_fixture("hello"), load_fixture("library")
    loader = WhisperModelLoader()
    await loader.load()

    def engine(sink: EventSink) -> OfflineEngine:
        return OfflineEngine(loader, sink)

    model, listener, stop = TranscriptModel(), RecordingLog(), asyncio.Event()
    async with desk(pulse_server) as (pair, mic):
        # Two decoders as such, even where they fall behind (the switch to one mixed stream
        # that would then follow is tested in tests/io/recording/test_two_streams.py).
        pair = replace(pair, switchable=None)
        recorder = VoicesRecorder(model, listener)
        task = asyncio.create_task(recorder.record(pair, engine, stop))
        await asyncio.wait_for(listener.recording.wait(), 20)
        players = [pulse_server.play(others.wav, SPEAKERS), pulse_server.play(you.wav, mic.sink)]
        for player in players:
            assert await asyncio.to_thread(player.wait, 20) == 0
        stop.set()
        assert await asyncio.wait_for(task, 60) is None
    assert listener.errors == []
    said = {speaker: " ".join(t.text for t in model.finals if t.speaker == speaker)
            for speaker in ("You", "Others")}
    print(f"\noffline two voices: {said!r}; notices {[n.text for n in listener.notices]}")
    assert word_error_rate([you.reference], [said["You"]]) <= WER_BOUND
    assert word_error_rate([others.reference], [said["Others"]]) <= WER_BOUND
    assert recorder.echoes == 0


async def test_automatic_fallback_mid_call_on_few_cores_goes_on_as_one_mixed_stream(
    pulse_server: PulseServer,
) -> None:
    """The cloud goes away for good mid-call on a machine with too few cores for two offline
    decoders: the recording does not stop; it says so once and goes on as one mixed stream
    through the real offline engine, so what each side says afterwards — into the virtual
    microphone, then on the output — is transcribed, unlabelled."""
    you, others = load_fixture("hello"), load_fixture("library")
    loader = WhisperModelLoader()
    await loader.load()

    def offline(sink: EventSink) -> OfflineEngine:
        return OfflineEngine(loader, sink)

    config = EmulatorConfig(api_keys=frozenset({KEY}),
                            recognizer_factory=lambda p: CodedRecognizer(p.sample_rate))
    model, listener, stop = TranscriptModel(), RecordingLog(), asyncio.Event()
    async with run_emulator(config) as emu, desk(pulse_server) as (pair, mic):
        def cloud(sink: EventSink) -> StreamingSession:
            return StreamingSession(endpoints_for(override=emu.url), KEY,
                                    StreamingParams(format_turns=False), sink)

        recorder = VoicesRecorder(model, listener, options=QUICK, cpu_count=2)
        task = asyncio.create_task(recorder.record(pair, cloud, stop, offline))
        await asyncio.wait_for(listener.recording.wait(), 20)
        await emu.wait_sessions_started_async(2)
        emu.service_down()
        emu.drop_all()
        notice = mixed_notice(MixReason.FELL_BACK)
        while notice not in [n.text for n in listener.notices]:
            listener.noticed.clear()
            await asyncio.wait_for(listener.noticed.wait(), 30)
        for wav, sink in ((you.wav, mic.sink), (others.wav, SPEAKERS)):
            assert await asyncio.to_thread(pulse_server.play(wav, sink).wait, 30) == 0
        stop.set()
        assert await asyncio.wait_for(task, 90) is None
    assert recorder.mixed and listener.errors == []
    assert [n.text for n in listener.notices].count(notice) == 1
    # Nothing was said before the switch.
    assert all(t.speaker is None for t in model.finals), [(t.speaker, t.start_ms, t.end_ms)
                                                          for t in model.finals]
    text = " ".join(t.text for t in model.finals)
    print(f"\nmixed after fallback: {text!r}")
    wer = word_error_rate([f"{you.reference} {others.reference}"], [text])
    assert wer <= WER_BOUND, text
    assert recorder.lost_ms == 0 and recorder.dropped_frames == 0
