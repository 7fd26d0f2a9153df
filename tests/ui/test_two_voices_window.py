"""The window with "Microphone + system audio": the picker's entry (its own group, last),
remembered like any device, two voices labelled in the pane against the emulator (coded
recogniser), and the offline engine's mixed stream on a machine with too few cores said in a
notice. Real PulseAudio (a virtual microphone and the fixture's output), real captures."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QStandardItemModel

from app.core.config import EngineChoice
from app.core.devices import BOTH_ID, InputDevice
from app.core.recording import RecorderState
from app.core.speakers import MIXED_NOTICE, two_offline_streams
from app.io.secrets import SessionOnlyStore
from app.ui.device_picker import GROUP_HEADINGS, device_label
from app.ui.main_window import MainWindow
from app.ui.preferences import Preferences
from app.wiring import microphone
from tests.emulator import CodedRecognizer, EmulatorConfig, EmulatorThread
from tests.support.coded_speech import coded_words, write_coded_speech_wav
from tests.support.pulse import PulseServer, VirtualMicrophone, VirtualSink
from tests.ui.conftest import QtLoop, signal_until
from tests.ui.test_window_flow import KEY, make_window

SPEAKERS = VirtualSink("vspeaker", -1, 16_000, 1)  # the pulse_server fixture's default output


@pytest.fixture
def preferences(tmp_path: Path) -> Preferences:
    return Preferences(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def coded_emulator() -> Iterator[EmulatorThread]:
    config = EmulatorConfig(api_keys=frozenset({KEY}),
                            recognizer_factory=lambda p: CodedRecognizer(p.sample_rate))
    with EmulatorThread(config) as emu:
        yield emu


@pytest.fixture
def desk_microphone(pulse_server: PulseServer) -> Iterator[VirtualMicrophone]:
    mic = pulse_server.load_microphone("vwinmic")
    try:
        yield mic
    finally:
        pulse_server.unload_microphone(mic)


def open_window(emu: EmulatorThread, tmp_path: Path, prefs: Preferences) -> MainWindow:
    return make_window(emu, tmp_path, prefs, secret_store=SessionOnlyStore(), env_key=KEY,
                       make_source=microphone)


def choose_both(window: MainWindow) -> None:
    picker = window.device_picker
    index = picker.findData(BOTH_ID)
    assert index == picker.count() - 1  # last, in a group of its own
    assert picker.itemText(index) == "Microphone + system audio"
    assert picker.itemText(index - 1) == "Both, labelled You and Others"  # its heading
    assert picker.itemData(index - 1) is None
    picker.setCurrentIndex(index)
    picker.activated.emit(index)
    assert picker.toolTip() == ("Microphone + system audio: vwinmic (You) and "
                                "Sound from vspeaker (Others)")


def test_two_voices_in_the_window_labelled_and_remembered(
    qt_loop: QtLoop, coded_emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
    pulse_server: PulseServer, desk_microphone: VirtualMicrophone,
) -> None:
    preferences.save(replace(preferences.load(), engine=EngineChoice.CLOUD))
    window = open_window(coded_emulator, tmp_path, preferences)
    controller = window.controller
    you, others = [30, 31, 32], [60, 61, 62, 63]
    you_wav = write_coded_speech_wav(tmp_path / "you.wav", [you])
    others_wav = write_coded_speech_wav(tmp_path / "others.wav", [others])

    async def scenario() -> None:
        await controller.initialize()
        choose_both(window)
        window.record_button.click()
        await signal_until(controller.state_changed, lambda s: s is RecorderState.RECORDING, 15)
        players = [pulse_server.play(you_wav, desk_microphone.sink),
                   pulse_server.play(others_wav, SPEAKERS)]
        for player in players:
            assert await asyncio.to_thread(player.wait, 20) == 0
        window.record_button.click()  # Stop
        await signal_until(controller.state_changed, lambda s: s is RecorderState.IDLE, 30)
        await controller.shutdown()

    qt_loop.run(scenario(), timeout=90)
    assert preferences.load().device_id == BOTH_ID
    # What a screen reader reads; formatted turns capitalise and end with a full stop.
    shown = window.transcript_view.toPlainText().lower()
    assert f"you: {' '.join(coded_words([you]))}." in shown
    assert f"others: {' '.join(coded_words([others]))}." in shown
    assert window.transcript_view.plain_text() == controller.model.plain_text()

    again = open_window(coded_emulator, tmp_path / "again", preferences)

    async def reopened() -> None:
        await again.controller.initialize()
        await again.controller.shutdown()

    qt_loop.run(reopened())
    assert again.device_picker.currentData() == BOTH_ID  # remembered like any device


@pytest.mark.skipif(two_offline_streams(os.cpu_count()),
                    reason="this machine has the cores for two offline streams")
def test_offline_on_too_few_cores_records_one_mixed_stream_and_says_so(
    qt_loop: QtLoop, coded_emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
    pulse_server: PulseServer, desk_microphone: VirtualMicrophone,
) -> None:
    preferences.save(replace(preferences.load(), engine=EngineChoice.OFFLINE))
    window = open_window(coded_emulator, tmp_path, preferences)
    controller = window.controller

    async def scenario() -> None:
        await controller.initialize()
        choose_both(window)
        window.record_button.click()
        await signal_until(controller.state_changed, lambda s: s is RecorderState.RECORDING, 30)
        assert window.message_bar.text("notice") == MIXED_NOTICE
        window.record_button.click()
        await signal_until(controller.state_changed, lambda s: s is RecorderState.IDLE, 30)
        await controller.shutdown()

    qt_loop.run(scenario(), timeout=90)
    assert window.message_bar.text("error") == ""
    assert all(t.speaker is None for t in controller.model.finals)  # one stream: no labels


def picker_groups(window: MainWindow) -> list[list[str]]:
    """The picker's devices as shown, split at its group headings (entries that cannot be
    chosen), each heading the one of its group's kind."""
    picker = window.device_picker
    model = picker.model()
    assert isinstance(model, QStandardItemModel)
    groups: list[list[str]] = [[]]
    for index in range(picker.count()):
        if picker.itemData(index) is None:
            assert picker.itemText(index) in GROUP_HEADINGS.values()
            assert not model.item(index).isEnabled() and not model.item(index).isSelectable()
            groups.append([])
        else:
            groups[-1].append(picker.itemText(index))
    return [group for group in groups if group]


def test_picker_groups_follow_hot_plug(
    qt_loop: QtLoop, coded_emulator: EmulatorThread, tmp_path: Path, preferences: Preferences,
    pulse_server: PulseServer,
) -> None:
    """Microphones, then System audio ("Sound from <output>"), then Microphone + system audio,
    each group as devices come and go."""
    window = open_window(coded_emulator, tmp_path, preferences)
    controller = window.controller
    seen: dict[str, str] = {}  # picker label -> kind

    def listed(device_id: str, present: bool = True) -> Callable[..., bool]:
        def check(devices: list[InputDevice], _choice: object) -> bool:
            seen.update({device_label(d): d.kind for d in devices})
            return any(d.id == device_id for d in devices) is present
        return check

    def kinds() -> list[list[str]]:
        return [[seen[text] for text in group] for group in picker_groups(window)]

    async def scenario() -> None:
        await controller.initialize()
        mic = await asyncio.to_thread(pulse_server.load_microphone, "vhotmic")
        try:
            await signal_until(controller.devices_changed, listed("vhotmic"), 15)
            groups = picker_groups(window)
            assert any(text.startswith("vhotmic") for text in groups[0])
            assert "Sound from vspeaker" in " ".join(groups[1])
            assert groups[-1] == ["Microphone + system audio"]
            assert kinds()[-1] == ["both"]
            out = await asyncio.to_thread(pulse_server.load_sink, "vhotout")
            try:
                await signal_until(controller.devices_changed, listed(out.monitor), 15)
                assert "Sound from vhotout" in picker_groups(window)[1]
                assert [set(group) for group in kinds()] == [
                    {"microphone"}, {"system"}, {"both"}]
            finally:
                await asyncio.to_thread(pulse_server.unload, out)
            await signal_until(controller.devices_changed, listed(out.monitor, False), 15)
            assert "Sound from vhotout" not in sum(picker_groups(window), [])
        finally:
            await asyncio.to_thread(pulse_server.unload_microphone, mic)
        await signal_until(controller.devices_changed, listed("vhotmic", False), 15)
        groups = picker_groups(window)
        assert not any(text.startswith("vhotmic") for group in groups for text in group)
        if all(kind != "microphone" for group in kinds() for kind in group):
            assert "Microphone + system audio" not in sum(groups, [])  # no microphone left
        await controller.shutdown()

    qt_loop.run(scenario(), timeout=90)
