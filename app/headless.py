"""The command-line modes, sharing the window's recording pipeline (part of the composition
root): ``--headless``, ``--list-devices`` and ``--check-mic``.

``--headless`` prints each finished turn to stdout as it arrives (the live partial words go to
stderr; with ``--file``, a progress line every 10 % too: the file is read as fast as the
engine takes it, and in the cloud sent to the pre-recorded API by ``app/file_cli.py``;
``--wav`` streams a file at real-time pace as if spoken), stops gracefully on SIGINT/SIGTERM
(the last words are still printed) and exits 0;
an error prints its plain sentence and exits 1. ``--device both`` records the microphone and
system audio as two streams, printed as "You: …" and "Others: …"; a paragraph revised after it
was printed (an echo of Others found in You's stream) gets a ``correction:`` line on stderr.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sys
import wave
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path

from app import file_cli
from app.core import policy
from app.core.audio import SAMPLE_RATE
from app.core.config import EngineChoice, Settings
from app.core.devices import BOTH, BOTH_ID, InputDevice, choose_device, with_both
from app.core.errors import LiveTranscriberError
from app.core.recording import EngineFactory, RecorderState, RecordingNotice, SourceFactory
from app.core.signal import SILENCE_DBFS, Level, level_dbfs
from app.core.sources import ErrorSink, FileProgress, FrameSink, LevelSink
from app.core.speakers import SpeakerNames, sources_for
from app.core.transcript import TranscriptChange, TranscriptModel, TranscriptTurn, said_text
from app.io.audio.capture import PyAudioCapture
from app.io.audio.decoded_source import DecodedFileSource
from app.io.devices.platform import default_provider
from app.io.secrets import open_secret_store
from app.wiring import (
    cloud_engine,
    data_folder,
    media_file,
    microphone,
    offline_models,
    recorder_factory,
)


class _Printer:
    """Finished turns to stdout, each once, in its best form ("You: …"/"Others: …" when the
    turn has a speaker). With formatted turns the unformatted final is held until its
    formatted revision (or the end) arrives. A turn revised after it was printed (e.g. a
    sentence of You's found to be Others' heard again by the microphone) gets a correction
    line on stderr: stdout is never rewritten, and never silently wrong."""

    def __init__(self, format_turns: bool, on_output_closed: Callable[[], None]) -> None:
        self._format_turns = format_turns
        self._held: dict[tuple[int, int], TranscriptTurn] = {}
        self._printed: dict[tuple[int, int], str] = {}
        self._on_output_closed = on_output_closed
        self.output_closed = False

    def on_state(self, state: RecorderState) -> None:
        if state is RecorderState.IDLE:
            for turn in self._held.values():
                self._print(turn)
            self._held.clear()

    def on_transcript(self, change: TranscriptChange) -> None:
        turn = change.turn
        if change.kind == "partial" and change.partial is None:
            return  # withdrawn at a reconnect: its words come again, whole
        if change.kind == "partial":
            print(f"… {said_text(turn)}", file=sys.stderr, flush=True)
        elif turn.key in self._printed:
            self._correct(turn)
        elif change.kind == "revised" or turn.formatted or not self._format_turns:
            self._held.pop(turn.key, None)
            self._print(turn)
        else:
            self._held[turn.key] = turn

    def _print(self, turn: TranscriptTurn) -> None:
        line = said_text(turn)
        if not line or self.output_closed:
            return
        self._printed[turn.key] = line
        try:
            print(line, flush=True)
        except BrokenPipeError:  # e.g. `| head -2` exited: stop, keep the rest in the autosave
            self.output_closed = True
            # Python flushes stdout again at exit: point it at nothing so that cannot fail.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            self._on_output_closed()

    def _correct(self, turn: TranscriptTurn) -> None:
        line = said_text(turn)
        if line and line != self._printed[turn.key]:
            print(f"correction: “{self._printed[turn.key]}” now reads “{line}”",
                  file=sys.stderr, flush=True)
            self._printed[turn.key] = line

    def on_level(self, level: Level) -> None:
        pass  # no meter on a terminal

    def on_error(self, error: LiveTranscriberError) -> None:
        print(f"error: {error}", file=sys.stderr, flush=True)

    def on_session(self, session_id: str) -> None:
        print(f"session {session_id}", file=sys.stderr, flush=True)

    def on_notice(self, notice: RecordingNotice) -> None:
        print(f"notice: {notice.text}", file=sys.stderr, flush=True)


def _find_device(device_id: str | None) -> InputDevice | None:
    """The input with this id (``both``: "Microphone + system audio"); None: the default."""
    devices = with_both(default_provider().list_devices())
    if device_id is None:
        return choose_device(devices, None).device
    wanted = BOTH_ID if device_id == "both" else device_id
    for device in devices:
        if device.id == wanted:
            return device
    if wanted == BOTH_ID:
        raise LiveTranscriberError(
            "Microphone + system audio needs a microphone and a system-audio input, and this "
            "computer does not list both.", remedy="List the inputs with --list-devices.")
    raise LiveTranscriberError(f"No input device has the id {device_id!r}.",
                               remedy="List them with --list-devices.")


async def run_headless(settings: Settings, device_id: str | None, file: Path | None,
                       realtime: bool, whole_file: bool = False) -> int:
    """``whole_file`` (``--file``): in the cloud the file goes to the pre-recorded API."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            # Text from the wire can hold a lone surrogate: print a replacement, never crash.
            stream.reconfigure(errors="replace")
    from_env = policy.env_key(os.environ)
    stored = None if from_env else await asyncio.to_thread(open_secret_store().load)
    key = policy.key_in_use(from_env, stored)
    plan = policy.plan_engine(settings.engine, key is not None, policy.Surface.HEADLESS)
    engine: EngineFactory
    fallback: EngineFactory | None = None
    if plan.engine is None:
        print(f"error: {plan.refusal}", file=sys.stderr)
        return 2
    if whole_file and file is not None and plan.engine is EngineChoice.CLOUD:
        assert key is not None
        status = await file_cli.in_cloud(file, key, settings, may_fall_back=plan.fallback)
        if status is not None:
            return status
        plan = policy.EnginePlan(EngineChoice.OFFLINE)  # Automatic, and the cloud is out of reach
    elif whole_file and settings.engine is EngineChoice.AUTO:
        print(f"notice: no AssemblyAI API key is set, so {file.name if file else 'the file'} is "
              "transcribed on this computer.", file=sys.stderr)
    if plan.engine is EngineChoice.OFFLINE:
        print(f"engine: offline (Whisper {settings.offline_model} on this computer)",
              file=sys.stderr)
        engine = offline_models(data_folder()).engine_for(settings,
                                                          whole_file=whole_file and not realtime)
    else:
        assert key is not None  # the plan runs the cloud only with a key
        engine = cloud_engine(key, settings)
        if plan.fallback:
            fallback = offline_models(data_folder()).engine_for(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    printer = _Printer(settings.format_turns, on_output_closed=stop.set)
    recorder = recorder_factory(data_folder() / "transcripts")(TranscriptModel(), printer)
    source: SourceFactory
    progress: _FileProgress | None = None
    if file is not None:
        # A file ends the recording by itself once every word of it has been transcribed.
        progress = _FileProgress(file, realtime, recorder.room_for_audio)
        source = progress.make_source
    else:
        device = await asyncio.to_thread(_find_device, device_id)
        names = SpeakerNames(settings.speaker_you, settings.speaker_others)
        # "Microphone + system audio": two streams, or offline on too few cores one mixed one.
        source, notice = sources_for(microphone(device), names, cpu_count=os.cpu_count(),
                                     offline=plan.engine is EngineChoice.OFFLINE)
        if notice is not None:
            print(f"notice: {notice}", file=sys.stderr, flush=True)
    error = await recorder.record(source, engine, stop, fallback)
    if error is None and progress is not None:
        progress.transcribed()
    return _exit_status(error, printer, recorder.dropped_frames)


class _FileProgress:
    """A file as the source, saying on stderr how far it has got every 10 %, and 100 % once
    every word of it has been transcribed (not merely decoded: the engine runs a few seconds
    behind the decoder)."""

    def __init__(self, path: Path, realtime: bool, room: Callable[[], Awaitable[None]]) -> None:
        self._loop = asyncio.get_running_loop()
        self._began = self._loop.time()
        self._progress = FileProgress()
        self._make = media_file(path, realtime=realtime, room=room, on_progress=self._moved)
        self._source: DecodedFileSource | None = None

    def make_source(self, on_frame: FrameSink, on_level: LevelSink, on_error: ErrorSink
                    ) -> DecodedFileSource:
        self._source = self._make(on_frame, on_level, on_error)
        return self._source

    def transcribed(self) -> None:
        source = self._source
        if source is not None and source.completed:
            self._say(self._progress.update(source.position_ms, source.duration_ms,
                                            self._elapsed(), finished=True))

    def _moved(self, position_ms: int, duration_ms: int | None) -> None:
        self._say(self._progress.update(position_ms, duration_ms, self._elapsed()))

    def _elapsed(self) -> float:
        return self._loop.time() - self._began

    @staticmethod
    def _say(line: str | None) -> None:
        if line is not None:
            print(line, file=sys.stderr, flush=True)


def _exit_status(error: LiveTranscriberError | None, printer: _Printer, dropped: int) -> int:
    """0 only when the person (or the file's end) stopped the recording and every frame
    reached an engine; otherwise 1 with one plain sentence on stderr."""
    if error is not None:
        return 1  # already said by the printer
    if printer.output_closed:
        print("error: the transcript's output was closed before the recording ended; the "
              "rest is in the autosave file.", file=sys.stderr)
        return 1
    if dropped:
        print(f"error: {dropped} audio frames were dropped because the computer fell behind.",
              file=sys.stderr)
        return 1
    return 0


def list_devices(as_json: bool) -> int:
    devices = with_both(default_provider().list_devices())
    if as_json:
        print(json.dumps([asdict(d) for d in devices], indent=2))
        return 0
    for d in devices:
        mark = "*" if d.is_default else " "
        kind = "monitor" if d.is_monitor else "input"
        if d.kind == BOTH:
            kind = "two streams, You and Others: --device both"
        print(f"{mark} {d.id}\n    {d.name} — {d.host_api}, {d.channels} ch, "
              f"{d.default_rate} Hz, {kind}")
    if not devices:
        print("No input devices found.", file=sys.stderr)
    return 0


async def check_mic(device_id: str | None, seconds: float, save_wav: Path | None) -> int:
    device = await asyncio.to_thread(_find_device, device_id)
    if device is not None and device.kind == BOTH:
        print("error: --check-mic records one input: choose a microphone or a system audio "
              "input (see --list-devices).", file=sys.stderr)
        return 2
    frames: list[bytes] = []
    failure: list[LiveTranscriberError] = []
    capture = PyAudioCapture(device, on_frame=frames.append, on_error=failure.append)
    await capture.start()
    # Only now: opening can take a while (PortAudio probes every ALSA device) or fail, and
    # words spoken before the stream runs are not recorded.
    print(f"Recording {seconds:g} s from {device.name if device else 'the default input'}… "
          "speak now", file=sys.stderr, flush=True)
    await asyncio.sleep(seconds)  # the recording's length, as asked
    await capture.stop()
    audio = b"".join(frames)
    level = level_dbfs(audio) if audio else Level(SILENCE_DBFS, SILENCE_DBFS)
    print(f"captured: {len(audio) / 32000:.2f} s of 16 kHz mono audio")
    print(f"level: peak {level.peak_dbfs:.1f} dBFS, RMS {level.rms_dbfs:.1f} dBFS"
          + ("  (silence: is the microphone muted?)" if level.peak_dbfs < -60 else ""))
    print(f"dropped frames: {capture.dropped_frames}, overflows: {capture.overflows}")
    if save_wav is not None:
        with wave.open(str(save_wav), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(audio)
        print(f"saved {save_wav}")
    for error in failure:
        print(f"error: {error}", file=sys.stderr)
    return 1 if failure else 0
