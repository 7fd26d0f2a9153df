"""The message bar above the transcript: errors, warnings and notices as full sentences.

Each message wraps across the window's width, carries an icon by severity and the buttons that
act on its remedy (:class:`app.core.policy.Action`); the wording and the buttons come from
``app.core.policy``. Messages live in named slots ("error", "notice", "recovery",
"recoveryDone") so a reconnect notice does not hide a crash-recovery offer; each slot shows at
most one message. A row's objectName is ``<slot>Message``, its sentence ``<slot>MessageText``
and its buttons ``<slot>Message<Action>`` (e.g. ``errorMessageSwitchToOffline``).

Accessibility: a row is a named group (its severity) holding a plain label with the sentence
and push buttons with their own text. A new message is announced, because a label that
appears out of focus is silent for a screen reader.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.core.policy import Action, Message, Severity

_ICONS = {
    Severity.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
    Severity.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Severity.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
}
_NAMES = {Severity.ERROR: "Error", Severity.WARNING: "Warning", Severity.INFO: "Notice"}
# Tints over the window colour, readable in light and dark themes alike.
_TINTS = {
    Severity.ERROR: "rgba(217, 58, 43, 40)",
    Severity.WARNING: "rgba(224, 123, 0, 40)",
    Severity.INFO: "rgba(58, 123, 213, 30)",
}
_ICON_SIZE = 22


def _camel(text: str) -> str:
    words = text.replace("-", " ").split()
    return "".join(w.capitalize() for w in words)


class MessageRow(QFrame):
    """One message: icon, sentence, buttons (the last one always "Dismiss")."""

    action_triggered = Signal(object)  # Action

    def __init__(self, slot: str, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message = message
        self.setObjectName(f"{slot}Message")
        self.setAccessibleName(_NAMES[message.severity])
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(f"#{slot}Message {{ background: {_TINTS[message.severity]}; "
                           "border-radius: 4px; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        icon = QLabel(self)
        icon.setObjectName(f"{slot}MessageIcon")
        icon.setPixmap(self.style().standardIcon(_ICONS[message.severity]).pixmap(
            _ICON_SIZE, _ICON_SIZE))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        icon.setAccessibleName(_NAMES[message.severity])
        self.text_label = QLabel(message.text, self)
        self.text_label.setObjectName(f"{slot}MessageText")
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)  # error text is never markup
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # Ignored horizontally: a long sentence wraps at the window's width instead of
        # asking the window to grow; its height follows from that width (height-for-width).
        self.text_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                      QSizePolicy.Policy.Preferred)
        # The buttons go under the sentence, so the sentence has the whole width to wrap in.
        column = QVBoxLayout()
        column.setSpacing(4)
        column.addWidget(self.text_label)
        button_row = QHBoxLayout()
        button_row.addStretch(1)
        column.addLayout(button_row)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(column, 1)
        self.buttons: dict[Action, QPushButton] = {}
        actions = list(message.actions)
        if Action.DISMISS not in actions:
            actions.append(Action.DISMISS)
        for action in actions:
            button = QPushButton(action.value, self)
            button.setObjectName(f"{slot}Message{_camel(action.value)}")
            button.clicked.connect(lambda _=False, a=action: self.action_triggered.emit(a))
            button_row.addWidget(button)
            self.buttons[action] = button


class MessageBar(QWidget):
    """Shows at most one message per slot; hidden while there is none."""

    # slot, Action: the owner acts; Dismiss has already removed the row
    action_triggered = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setAccessibleName("Messages")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._rows: dict[str, MessageRow] = {}
        self.hide()

    def show_message(self, slot: str, message: Message) -> None:
        old = self._rows.get(slot)
        if old is not None and old.message == message:
            return
        self.clear(slot)
        row = MessageRow(slot, message, self)
        row.action_triggered.connect(lambda action, s=slot: self._on_action(s, action))
        self._rows[slot] = row
        self._layout.addWidget(row)
        row.show()  # a child added to a shown parent stays hidden until told
        self.show()
        if self.isVisible():
            spoken = f"{_NAMES[message.severity]}: {message.text}"
            QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(row, spoken))

    def clear(self, slot: str) -> None:
        row = self._rows.pop(slot, None)
        if row is not None:
            row.hide()
            self._layout.removeWidget(row)
            row.deleteLater()
        self.setVisible(bool(self._rows))

    def message(self, slot: str) -> Message | None:
        row = self._rows.get(slot)
        return row.message if row is not None else None

    def text(self, slot: str) -> str:
        """The sentence shown in ``slot`` ("" when none)."""
        message = self.message(slot)
        return message.text if message is not None else ""

    def row(self, slot: str) -> MessageRow | None:
        return self._rows.get(slot)

    def _on_action(self, slot: str, action: Action) -> None:
        if action is Action.DISMISS and slot != "recovery":
            self.clear(slot)  # the recovery offer is closed by its owner, after the disk agrees
        self.action_triggered.emit(slot, action)
