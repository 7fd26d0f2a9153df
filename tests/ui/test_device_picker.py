"""The device picker on its own, in a real (offscreen) Qt combo box: group headings that cannot
be chosen, and the keyboard passing over them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.core.devices import BOTH, SYSTEM_AUDIO, DeviceChoice, InputDevice
from app.ui.device_picker import GROUP_HEADINGS, DevicePicker

MIC = InputDevice("mic", "Built-in Microphone", "PulseAudio", 1, 48_000, is_default=True)
HEADSET = InputDevice("headset", "USB Headset", "PulseAudio", 1, 48_000)
SPEAKERS = InputDevice("speakers.monitor", "Sound from Speakers", "PulseAudio", 2, 48_000,
                       is_monitor=True, kind=SYSTEM_AUDIO)
BOTH_DEVICE = InputDevice("both", "Microphone + system audio", "PulseAudio", 1, 16_000,
                          kind=BOTH, parts=(MIC, SPEAKERS))


def entries(picker: DevicePicker) -> list[tuple[str, bool]]:
    """(text, can be chosen) for each entry, in order."""
    model = picker.model()
    assert isinstance(model, QStandardItemModel)
    return [(picker.itemText(i), model.item(i).isEnabled() and model.item(i).isSelectable())
            for i in range(picker.count())]


def test_each_group_has_a_heading_that_cannot_be_chosen(qtbot: QtBot) -> None:
    picker = DevicePicker()
    qtbot.addWidget(picker)
    picker.show_devices([SPEAKERS, MIC, BOTH_DEVICE, HEADSET], DeviceChoice(None))
    assert entries(picker) == [
        ("Microphones", False),
        ("Built-in Microphone (system default)", True),
        ("USB Headset", True),
        ("System audio (what this computer plays)", False),
        ("Sound from Speakers", True),
        ("Both, labelled You and Others", False),
        ("Microphone + system audio", True),
    ]
    heading = picker.model().index(0, 0)
    assert heading.data(Qt.ItemDataRole.AccessibleTextRole) == "Microphones:"
    # With no choice the first device is current, never a heading.
    assert picker.currentData() == "mic"


def test_the_arrow_keys_pass_over_the_headings(qtbot: QtBot) -> None:
    picker = DevicePicker()
    qtbot.addWidget(picker)
    picker.show_devices([MIC, HEADSET, SPEAKERS], DeviceChoice(HEADSET))
    assert picker.currentData() == "headset"
    picker.setFocus()
    QTest.keyClick(picker, Qt.Key.Key_Down)
    assert picker.currentData() == "speakers.monitor"
    QTest.keyClick(picker, Qt.Key.Key_Up)
    QTest.keyClick(picker, Qt.Key.Key_Up)
    assert picker.currentData() == "mic"
    QTest.keyClick(picker, Qt.Key.Key_Up)  # only the heading is above: it stays
    assert picker.currentData() == "mic"


def test_one_group_needs_no_heading(qtbot: QtBot) -> None:
    picker = DevicePicker()
    qtbot.addWidget(picker)
    picker.show_devices([MIC, HEADSET], DeviceChoice(MIC))
    assert entries(picker) == [("Built-in Microphone (system default)", True),
                               ("USB Headset", True)]
    assert set(GROUP_HEADINGS.values()).isdisjoint(t for t, _ in entries(picker))
