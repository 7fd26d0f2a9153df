"""The input-device picker: microphones first, then system audio — what an output plays, named
"Sound from …" by the device list — then "Microphone + system audio" where both exist, each
group under a heading (a greyed entry that cannot be chosen, read as such by a screen reader)
when there is more than one group; the system default marked, and a long name elided in the
box with the whole of it (and what a combined entry records) in the tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QWidget

from app.core.devices import BOTH, MICROPHONE, SYSTEM_AUDIO, DeviceChoice, DeviceKind, InputDevice

GROUP_HEADINGS: dict[DeviceKind, str] = {
    MICROPHONE: "Microphones",
    SYSTEM_AUDIO: "System audio (what this computer plays)",
    BOTH: "Both, labelled You and Others",
}


def device_label(device: InputDevice) -> str:
    label = device.name + (" (system default)" if device.is_default else "")
    if (device.is_monitor and device.kind == MICROPHONE
            and "monitor" not in device.name.lower()):
        label += " — monitor"
    return label


def device_tooltip(device: InputDevice) -> str:
    """The whole label, and for "Microphone + system audio" which two it records."""
    if len(device.parts) == 2:
        you, others = device.parts
        return f"{device_label(device)}: {you.name} (You) and {others.name} (Others)"
    return device_label(device)


class DevicePicker(QComboBox):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("devicePicker")
        self.setAccessibleName("Input device")
        self.setMinimumContentsLength(12)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.currentIndexChanged.connect(self._update_tooltip)

    def show_devices(self, devices: list[InputDevice], choice: DeviceChoice) -> None:
        self.blockSignals(True)
        self.clear()
        ordered = sorted(devices, key=lambda d: d.kind != MICROPHONE)  # stable: keeps the order
        grouped = len({device.kind for device in ordered}) > 1
        for index, device in enumerate(ordered):
            if grouped and (index == 0 or device.kind != ordered[index - 1].kind):
                self._add_heading(GROUP_HEADINGS[device.kind])
            label = device_label(device)
            self.addItem(label, device.id)
            self.setItemData(self.count() - 1, device_tooltip(device),
                             Qt.ItemDataRole.ToolTipRole)
        self.setCurrentIndex(self.findData(choice.device.id) if choice.device is not None
                             else self._first_device())
        self.blockSignals(False)
        self._update_tooltip(self.currentIndex())

    def _add_heading(self, text: str) -> None:
        self.addItem(text)
        model = self.model()
        assert isinstance(model, QStandardItemModel)
        item = model.item(self.count() - 1)
        item.setFlags(Qt.ItemFlag.NoItemFlags)  # greyed; the arrow keys pass over it
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        item.setData(f"{text}:", Qt.ItemDataRole.AccessibleTextRole)

    def _first_device(self) -> int:
        return next((index for index in range(self.count())
                     if self.itemData(index) is not None), -1)

    def _update_tooltip(self, index: int) -> None:
        # The box elides a long name; the whole name is one hover away.
        tooltip = self.itemData(index, Qt.ItemDataRole.ToolTipRole) if index >= 0 else ""
        self.setToolTip(str(tooltip or self.itemText(index)) if index >= 0 else "")
