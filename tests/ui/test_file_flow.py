"""Files in the real window (offscreen): File > Open audio or video file… and drag and drop,
offline through the Whisper engine and in the cloud through the pre-recorded emulator, with
the progress panel, Cancel, the history and the exports; and every kind of bad input."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from app.core.config import EngineChoice
from app.core.export import Format
from app.core.recording import RecorderState
from app.core.transcript import TranscriptModel
from app.io.secrets import SessionOnlyStore
from app.ui.app_window import build_window
from app.ui.main_window import MainWindow
from app.ui.preferences import Preferences
from app.wiring import file_services, services
from tests.emulator.prerecorded import PrerecordedConfig, PrerecordedEmulator
from tests.support.media import FLAC, MP3, MP4, OPUS, MediaKind, encode, read_wav_s16, video_only
from tests.support.speech import load_fixture, word_error_rate
from tests.ui.conftest import QtLoop, expect_signal, signal_until

KEY = "file-test-key-0123456789"
SCRIPT = ("first sentence here", "second sentence there")


@pytest.fixture
def preferences(tmp_path: Path) -> Preferences:
    from PySide6.QtCore import QSettings

    return Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def api() -> Iterator[PrerecordedEmulator]:
    with PrerecordedEmulator(PrerecordedConfig(api_keys=frozenset({KEY}), script=SCRIPT)) as emu:
        yield emu


def make_window(tmp_path: Path, preferences: Preferences, engine: EngineChoice, *,
                key: str | None = None, api_url: str = "http://127.0.0.1:9") -> MainWindow:
    preferences.save(replace(preferences.load(), engine=engine))
    built = services(tmp_path / "autosave", env_key=key)
    built = replace(built, secret_store=SessionOnlyStore(),
                    files=file_services(tmp_path / "autosave",
                                        {"LIVE_TRANSCRIBER_API_URL": api_url}))
    # The key check at start-up goes to a closed loopback port: "cannot check", never out.
    window = build_window(TranscriptModel(), built,
                          {"LIVE_TRANSCRIBER_STREAMING_URL": "ws://127.0.0.1:9"}, preferences)
    window.resize(800, 500)
    window.show()
    return window


def encoded(tmp_path: Path, kind: MediaKind, *, start_s: float = 0.0, repeat: int = 1,
            name: str = "library") -> Path:
    pcm, rate = read_wav_s16(load_fixture(name).wav)
    return encode(np.tile(pcm, repeat), rate, tmp_path / f"{name}{kind.suffix}", kind,
                  start_s=start_s)


def notices(window: MainWindow) -> list[str]:
    """Every notice the message bar is given, in order."""
    said: list[str] = []
    window.controller.message_changed.connect(
        lambda slot, message: said.append(message.text) if slot == "notice" and message else None)
    return said


def history_texts(window: MainWindow) -> list[str]:
    store = window.controller.history
    assert store is not None
    return [r.text for r in store.recordings()]


def history_engines(window: MainWindow) -> list[str | None]:
    store = window.controller.history
    assert store is not None
    return [r.engine for r in store.recordings()]


Run = tuple[str, list[int], list[str]]


async def run_file(window: MainWindow, path: Path, seconds: float = 150) -> Run:
    """Open ``path`` as the menu would and wait for the outcome; the bar's values and the
    panel's sentences on the way."""
    values: list[int] = []
    window.file_panel.bar.valueChanged.connect(values.append)
    details: list[str] = []
    window.file_panel.bar.valueChanged.connect(
        lambda _v: details.append(window.file_panel.detail.text()))
    await window.controller.initialize()
    finished = expect_signal(window.file_flow.finished, seconds=seconds)
    assert window.file_flow.open_file(path)
    (outcome,) = await finished
    return outcome, values, details


@pytest.mark.parametrize(("kind", "start_s"), [(FLAC, 0.0), (MP3, 0.0), (OPUS, 0.0),
                                              (MP4, 2.0)], ids=["flac", "mp3", "opus", "mp4"])
def test_a_file_is_transcribed_offline_into_the_pane_and_the_history(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences, kind: MediaKind, start_s: float,
) -> None:
    library = load_fixture("library")
    media = encoded(tmp_path, kind, start_s=start_s)
    window = make_window(tmp_path, preferences, EngineChoice.OFFLINE)

    async def scenario() -> Run:
        result = await run_file(window, media)
        await window.controller.shutdown()
        return result

    outcome, values, details = qt_loop.run(scenario(), timeout=200)
    assert outcome == "done"
    assert values == sorted(values) and values[-1] == 100, values
    assert window.file_panel.title.text() == f"Transcribed {media.name}"
    assert any(" of 0:0" in d for d in details), details  # "0:02 of 0:04"
    text = window.transcript_view.toPlainText()
    assert word_error_rate([library.reference], [window.controller.model.plain_text()]) <= 0.15
    assert text
    [kept] = history_texts(window)
    assert word_error_rate([library.reference], [kept]) <= 0.15
    assert history_engines(window) == ["offline"]  # the History says "On this computer"
    # Timestamps from the file's own timeline: the speech starts start_s into the video (Whisper
    # places a word start to within a few of its 20 ms steps, early or late).
    first = window.controller.model.finals[0]
    assert first.start_ms is not None and first.start_ms >= start_s * 1000 - 200
    assert window.message_bar.text("notice").startswith(f"{media.name} is transcribed")


def test_a_dropped_file_is_transcribed_and_exports_keep_its_times(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences,
) -> None:
    media = encoded(tmp_path, OPUS, start_s=3.0, name="hello")
    window = make_window(tmp_path, preferences, EngineChoice.AUTO)  # no key: offline
    said = notices(window)

    async def scenario() -> str:
        await window.controller.initialize()
        finished = expect_signal(window.file_flow.finished, seconds=150)
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(media))])
        target = window.transcript_view.viewport()
        enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                                Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(target, enter)  # as a real drag does: enter, then drop
        assert enter.isAccepted()
        drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                          Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(target, drop)
        assert drop.isAccepted()
        (outcome,) = await finished
        await window.controller.save_transcript(tmp_path / "out.srt", Format.SRT)
        await window.controller.shutdown()
        return str(outcome)

    assert qt_loop.run(scenario(), timeout=200) == "done"
    assert said[0] == "No AssemblyAI API key is set, so hello.ogg is transcribed on this computer."
    srt = (tmp_path / "out.srt").read_text()
    # The file's clock, not ours: the speech starts 3 s into the file (Whisper's word times
    # are a few hundred ms coarse).
    start = srt.splitlines()[1].split(" --> ")[0]
    seconds = int(start[3:5]) * 60 + int(start[6:8]) + int(start[9:12]) / 1000
    assert 2.5 <= seconds <= 4.0, srt


def make_bad(path: Path, kind: str) -> None:
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("these are meeting notes, not a recording\n" * 50)
    elif kind == "video-only":
        video_only(path)


@pytest.mark.parametrize(("name", "kind", "sentence"), [
    ("empty.mp3", "empty", "empty.mp3 is empty (0 bytes)."),
    ("missing.flac", "missing", "missing.flac does not exist."),
    ("notes.ogg", "text", "notes.ogg is not an audio or video file the app can read."),
    ("slides.mp4", "video-only", "slides.mp4 has no audio track."),
])
def test_bad_input_says_one_sentence_and_saves_nothing(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences, name: str, kind: str,
    sentence: str,
) -> None:
    path = tmp_path / name
    make_bad(path, kind)
    window = make_window(tmp_path, preferences, EngineChoice.OFFLINE)

    async def scenario() -> str:
        outcome, _values, _details = await run_file(window, path, seconds=60)
        await window.controller.shutdown()
        return outcome

    assert qt_loop.run(scenario(), timeout=90) == "failed"
    assert window.message_bar.text("error").startswith(sentence)
    assert window.controller.model.is_empty and not history_texts(window)
    assert window.file_panel.isHidden()  # nothing started
    assert window.controller.state is RecorderState.IDLE


def test_a_file_cut_short_while_read_leaves_no_half_transcript(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences,
) -> None:
    media = encoded(tmp_path, FLAC, repeat=12)  # about 50 s
    window = make_window(tmp_path, preferences, EngineChoice.OFFLINE)

    async def scenario() -> str:
        await window.controller.initialize()
        finished = expect_signal(window.file_flow.finished, seconds=150)
        assert window.file_flow.open_file(media)
        await signal_until(window.file_panel.bar.valueChanged, lambda v: v >= 2, 60)
        os.truncate(media, media.stat().st_size // 4)  # a sync client cutting the file short
        (outcome,) = await finished
        await window.controller.shutdown()
        return str(outcome)

    assert qt_loop.run(scenario(), timeout=200) == "failed"
    assert "library.flac changed while it was being read" in window.message_bar.text("error")
    assert window.controller.model.is_empty and not history_texts(window)
    assert not list((tmp_path / "autosave").glob("*.txt"))


def test_cancel_stops_the_file_and_keeps_the_words_so_far(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences,
) -> None:
    media = encoded(tmp_path, MP3, repeat=12)
    window = make_window(tmp_path, preferences, EngineChoice.OFFLINE)

    async def scenario() -> str:
        await window.controller.initialize()
        finished = expect_signal(window.file_flow.finished, seconds=150)
        assert window.file_flow.open_file(media)
        # The time left, from the recent pace, once there is some: "0:09 of 0:52 · about
        # 0:14 left".
        panel = window.file_panel
        await signal_until(panel.bar.valueChanged, lambda v: panel.detail.text().endswith(
            " left") and " of 0:5" in panel.detail.text() and " · about " in panel.detail.text(),
            90)
        assert window.file_panel.cancel_button.isVisible()
        window.file_panel.cancel_button.click()
        (outcome,) = await finished
        await window.controller.shutdown()
        return str(outcome)

    assert qt_loop.run(scenario(), timeout=200) == "cancelled"
    assert window.file_panel.title.text() == "Cancelled library.mp3"
    assert window.file_panel.bar.value() < 100
    assert window.controller.state is RecorderState.IDLE


def test_in_the_cloud_a_file_goes_to_the_prerecorded_api(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences, api: PrerecordedEmulator,
) -> None:
    media = encoded(tmp_path, MP3, name="hello")
    window = make_window(tmp_path, preferences, EngineChoice.CLOUD, key=KEY, api_url=api.url)

    async def scenario() -> Run:
        result = await run_file(window, media, seconds=60)
        await window.controller.shutdown()
        return result

    outcome, values, _details = qt_loop.run(scenario(), timeout=90)
    assert outcome == "done" and values[-1] == 100
    assert window.controller.model.plain_text() == (
        "First sentence here.\n\nSecond sentence there.")
    assert history_texts(window) == ["First sentence here.\n\nSecond sentence there."]
    assert [c.path for c in api.calls][:2] == ["/v2/upload", "/v2/transcript"]
    assert history_engines(window) == ["cloud"]  # the History says "AssemblyAI cloud"


def test_in_the_cloud_a_bad_key_says_so_and_saves_nothing(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences, api: PrerecordedEmulator,
) -> None:
    media = encoded(tmp_path, FLAC, name="hello")
    window = make_window(tmp_path, preferences, EngineChoice.CLOUD, key="not-the-key-12345678",
                         api_url=api.url)

    async def scenario() -> str:
        outcome, _values, _details = await run_file(window, media, seconds=60)
        await window.controller.shutdown()
        return outcome

    assert qt_loop.run(scenario(), timeout=90) == "failed"
    assert window.message_bar.text("error").startswith("AssemblyAI rejected the API key")
    assert window.controller.model.is_empty and not history_texts(window)


def test_automatic_falls_back_to_offline_when_the_cloud_is_unreachable(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences,
) -> None:
    media = encoded(tmp_path, FLAC, name="hello")
    with PrerecordedEmulator() as gone:
        url = gone.url  # closed again: nothing listens there
    window = make_window(tmp_path, preferences, EngineChoice.AUTO, key=KEY, api_url=url)
    said = notices(window)

    async def scenario() -> str:
        outcome, _values, _details = await run_file(window, media)
        await window.controller.shutdown()
        return outcome

    assert qt_loop.run(scenario(), timeout=200) == "done"
    assert said[0] == "AssemblyAI could not be reached, so hello.flac is transcribed on this " \
        "computer."
    assert said[-1].startswith("hello.flac is transcribed: 0:0")
    assert "hello" in window.controller.model.plain_text().lower()


def test_the_engine_status_names_the_offline_engine_a_fallback_file_runs_on(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences,
) -> None:
    """Automatic with a key, AssemblyAI unreachable: while the file is transcribed on this
    computer the status line says so, as the message bar does, not "AssemblyAI cloud"."""
    media = encoded(tmp_path, FLAC, name="hello")
    with PrerecordedEmulator() as gone:
        url = gone.url  # closed again: nothing listens there
    window = make_window(tmp_path, preferences, EngineChoice.AUTO, key=KEY, api_url=url)
    said = notices(window)
    during: list[str] = []  # the status line at each step of the offline run

    def panel_moved(_value: int) -> None:
        if said and "could not be reached" in said[0] and window.file_flow.busy:
            during.append(window.engine_status.label.text())

    window.file_panel.bar.valueChanged.connect(panel_moved)

    shown: list[str] = []
    window.controller.engine_status_changed.connect(lambda status: shown.append(status.text))

    async def scenario() -> str:
        outcome, _values, _details = await run_file(window, media)
        await window.controller.shutdown()
        return outcome

    assert qt_loop.run(scenario(), timeout=200) == "done"
    assert shown[0].startswith("AssemblyAI cloud")  # the key check, before the file
    assert during and all(text == "Offline fallback · on this computer" for text in during)
    assert window.engine_status.label.text() == "Offline fallback · on this computer"
    assert window.engine_status.accessibleName() == "Offline fallback · on this computer"


def test_after_a_fallback_the_next_file_in_the_cloud_names_assemblyai_again(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences,
) -> None:
    media = encoded(tmp_path, FLAC, name="hello")
    with PrerecordedEmulator() as gone:
        url, port = gone.url, int(gone.url.rsplit(":", 1)[1])
    window = make_window(tmp_path, preferences, EngineChoice.AUTO, key=KEY, api_url=url)
    in_cloud: list[str] = []

    def panel_moved(_value: int) -> None:
        if window.file_flow.busy:
            in_cloud.append(window.engine_status.label.text())

    async def scenario() -> tuple[str, str, str]:
        first, _values, _details = await run_file(window, media)
        after_first = window.engine_status.label.text()
        # AssemblyAI is back at the same address: the next file goes there.
        with PrerecordedEmulator(PrerecordedConfig(api_keys=frozenset({KEY}), script=SCRIPT),
                                 port=port) as api:
            window.file_panel.bar.valueChanged.connect(panel_moved)
            finished = expect_signal(window.file_flow.finished, seconds=60)
            assert window.file_flow.open_file(media)
            (second,) = await finished
            assert [c.path for c in api.calls][:2] == ["/v2/upload", "/v2/transcript"]
        await window.controller.shutdown()
        return first, after_first, second

    first, after_first, second = qt_loop.run(scenario(), timeout=200)
    assert (first, second) == ("done", "done")
    assert after_first == "Offline fallback · on this computer"
    assert in_cloud and all(text.startswith("AssemblyAI cloud (US)") for text in in_cloud)
    # All of it, though the cleared offline turn had the same turn order as the first one.
    assert window.controller.model.plain_text() == (
        "First sentence here.\n\nSecond sentence there.")
    assert "First sentence here.\n\nSecond sentence there." in history_texts(window)


def test_without_a_key_the_engine_status_names_the_offline_engine_for_a_file(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences,
) -> None:
    media = encoded(tmp_path, FLAC, name="hello")
    window = make_window(tmp_path, preferences, EngineChoice.AUTO)
    during: list[str] = []
    window.file_panel.bar.valueChanged.connect(
        lambda _v: during.append(window.engine_status.label.text()))

    async def scenario() -> str:
        outcome, _values, _details = await run_file(window, media)
        await window.controller.shutdown()
        return outcome

    assert qt_loop.run(scenario(), timeout=200) == "done"
    assert during and all(text.startswith("On this computer · Whisper ") for text in during)


def test_the_new_widgets_have_names_and_the_menu_has_ctrl_o(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences,
) -> None:
    window = make_window(tmp_path, preferences, EngineChoice.OFFLINE)
    action = window.actions_by_name["open_file"]
    assert action.shortcut().toString() == "Ctrl+O"
    assert action.text() == "&Open audio or video file…"
    panel = window.file_panel
    for widget in (panel, panel.bar, panel.cancel_button):
        assert widget.accessibleName()
    assert window.acceptDrops()


def test_in_the_cloud_cancel_stops_the_wait_and_keeps_nothing(
    qt_loop: QtLoop, tmp_path: Path, preferences: Preferences,
) -> None:
    media = encoded(tmp_path, MP3, name="hello")
    config = PrerecordedConfig(api_keys=frozenset({KEY}), never_complete=True)
    with PrerecordedEmulator(config) as slow:
        window = make_window(tmp_path, preferences, EngineChoice.CLOUD, key=KEY,
                             api_url=slow.url)

        async def scenario() -> str:
            await window.controller.initialize()
            finished = expect_signal(window.file_flow.finished, seconds=60)
            assert window.file_flow.open_file(media)
            await signal_until(window.file_panel.bar.valueChanged, lambda v: v == 100, 30)
            # Uploaded; while AssemblyAI works on it there is no recording to start.
            assert not window.record_button.isEnabled()
            assert not window.actions_by_name["open_file"].isEnabled()
            window.file_panel.cancel_button.click()
            (outcome,) = await finished
            await window.controller.shutdown()
            return str(outcome)

        assert qt_loop.run(scenario(), timeout=90) == "cancelled"
    assert window.record_button.isEnabled()
    assert window.controller.model.is_empty and not history_texts(window)
