"""The input-device picker: the system default marked, monitors named as such, and a long name
elided in the box with the whole of it in the tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget

from app.core.devices import DeviceChoice, InputDevice


def device_label(device: InputDevice) -> str:
    label = device.name + (" (system default)" if device.is_default else "")
    if device.is_monitor and "monitor" not in device.name.lower():
        label += " — monitor"
    return label


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
        for device in devices:
            label = device_label(device)
            self.addItem(label, device.id)
            self.setItemData(self.count() - 1, label, Qt.ItemDataRole.ToolTipRole)
        if choice.device is not None:
            self.setCurrentIndex(self.findData(choice.device.id))
        self.blockSignals(False)
        self._update_tooltip(self.currentIndex())

    def _update_tooltip(self, index: int) -> None:
        # The box elides a long name; the whole name is one hover away.
        self.setToolTip(self.itemText(index) if index >= 0 else "")
