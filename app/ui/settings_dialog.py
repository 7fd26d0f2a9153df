"""Settings: the API key (validated before it is stored), region, formatting and key terms.

Each fact is said once (where the key is kept is one line, not repeated after saving), and no
advice points at this dialog from inside it ("Open Settings" is for the main window).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core import policy
from app.core.config import (
    AUTOMATIC_LANGUAGE,
    MAX_KEYTERMS,
    Region,
    Settings,
    SettingsError,
    StreamingParams,
    spoken_language_from,
    spoken_language_value,
)
from app.core.languages import WHISPER_LANGUAGES
from app.core.ports import KeyCheck, KeyStatus, OfflineModelInfo
from app.core.speakers import MAX_NAME_CHARS, check_speaker_names
from app.ui.controller import AppController


class SettingsDialog(QDialog):
    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.controller = controller
        self.last_check: KeyCheck | None = None
        layout = QVBoxLayout(self)
        form = QFormLayout()

        key_row = QHBoxLayout()
        self.key_edit = QLineEdit(self)
        self.key_edit.setObjectName("apiKeyEdit")
        self.key_edit.setAccessibleName("AssemblyAI API key")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(_placeholder(controller))
        self.show_key = QToolButton(self)
        self.show_key.setObjectName("showKeyButton")
        self.show_key.setText("Show")
        self.show_key.setAccessibleName("Show key")
        self.show_key.setCheckable(True)
        self.show_key.toggled.connect(self._toggle_visible)
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.show_key)
        key_label = QLabel("API &key:", self)
        key_label.setBuddy(self.key_edit)  # Alt+K, and the field is announced with its label
        form.addRow(key_label, key_row)

        buttons_row = QHBoxLayout()
        self.validate_button = QPushButton("&Validate and save", self)
        self.validate_button.setObjectName("validateKeyButton")
        self.validate_button.clicked.connect(self._validate_clicked)
        self.delete_button = QPushButton("&Delete key", self)
        self.delete_button.setObjectName("deleteKeyButton")
        self.delete_button.clicked.connect(self._delete_clicked)
        buttons_row.addWidget(self.validate_button)
        buttons_row.addWidget(self.delete_button)
        buttons_row.addStretch(1)
        self.get_key_link = QLabel(f"<a href='{GET_KEY_URL}'>Get an API key</a>", self)
        self.get_key_link.setObjectName("getKeyLink")
        self.get_key_link.setTextFormat(Qt.TextFormat.RichText)
        self.get_key_link.setOpenExternalLinks(True)
        self.get_key_link.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.get_key_link.setToolTip(GET_KEY_URL)
        buttons_row.addWidget(self.get_key_link)
        form.addRow("", buttons_row)
        self._update_delete()

        self.key_status = QLabel(self)
        self.key_status.setObjectName("keyStatus")
        self.key_status.setWordWrap(True)
        form.addRow("", self.key_status)
        where = f"The key is kept in {controller.store_description}."
        if controller.env_key_in_use:
            where += " ASSEMBLYAI_API_KEY is set in the environment and is used instead."
        self.key_where = QLabel(where, self)
        self.key_where.setWordWrap(True)
        form.addRow("", self.key_where)

        settings = controller.settings
        self.region = QComboBox(self)
        self.region.setObjectName("regionPicker")
        self.region.setAccessibleName("Region")
        self.region.addItem("United States (default)", Region.US.value)
        self.region.addItem("European Union", Region.EU.value)
        self.region.setCurrentIndex(self.region.findData(settings.region.value))
        form.addRow("&Region:", self.region)

        self.format_turns = QCheckBox("&Punctuate and format finished sentences", self)
        self.format_turns.setObjectName("formatTurnsCheck")
        self.format_turns.setChecked(settings.format_turns)
        form.addRow("", self.format_turns)

        self.keyterms = QPlainTextEdit(self)
        self.keyterms.setObjectName("keytermsEdit")
        self.keyterms.setAccessibleName("Key terms to boost")
        self.keyterms.setPlaceholderText(f"One word or phrase per line (up to {MAX_KEYTERMS})")
        self.keyterms.setPlainText("\n".join(settings.keyterms))
        self.keyterms.setTabChangesFocus(True)
        self.keyterms.setMaximumHeight(90)
        form.addRow("Key &terms:", self.keyterms)
        # "Microphone + system audio" labels each paragraph with one of these names.
        self.speaker_you = _name_edit(self, "speakerYouEdit", settings.speaker_you,
                                      "Name for your microphone's words")
        form.addRow("&Your name:", self.speaker_you)
        self.speaker_others = _name_edit(self, "speakerOthersEdit", settings.speaker_others,
                                         "Name for the system audio's words")
        form.addRow("&Others' name:", self.speaker_others)
        layout.addLayout(form)
        layout.addWidget(self._build_offline_models(settings))

        self.settings_error = QLabel(self)
        self.settings_error.setObjectName("settingsError")
        self.settings_error.setWordWrap(True)
        layout.addWidget(self.settings_error)
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        box.accepted.connect(self._accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        self.result_settings: Settings | None = None

    # --- offline models -------------------------------------------------------------------

    def _build_offline_models(self, settings: Settings) -> QGroupBox:
        self._models: list[OfflineModelInfo] = []
        self._chosen_model = settings.offline_model
        box = QGroupBox("Offline engine", self)
        form = QFormLayout(box)
        self.model_picker = QComboBox(box)
        self.model_picker.setObjectName("offlineModelPicker")
        self.model_picker.setAccessibleName("Offline model")
        self.model_picker.currentIndexChanged.connect(self._model_selected)
        model_label = QLabel("&Model:", box)
        model_label.setBuddy(self.model_picker)
        form.addRow(model_label, self.model_picker)
        self.model_info = QLabel(box)
        self.model_info.setObjectName("offlineModelInfo")
        self.model_info.setWordWrap(True)
        form.addRow("", self.model_info)
        row = QHBoxLayout()
        self.download_button = QPushButton("Do&wnload", box)
        self.download_button.setObjectName("downloadModelButton")
        self.download_button.clicked.connect(
            lambda: self.controller.spawn(self.download_selected()))
        self.cancel_download_button = QPushButton("Cancel download", box)
        self.cancel_download_button.setObjectName("cancelDownloadButton")
        self.cancel_download_button.clicked.connect(self.cancel_download)
        self.download_progress = QProgressBar(box)
        self.download_progress.setObjectName("downloadProgress")
        self.download_progress.setAccessibleName("Download progress")
        for widget in (self.download_button, self.cancel_download_button,
                       self.download_progress):
            row.addWidget(widget)
        form.addRow("", row)
        self.cancel_download_button.hide()
        self.download_progress.hide()
        self._build_languages(form, box, settings)
        return box

    def _build_languages(self, form: QFormLayout, box: QGroupBox, settings: Settings) -> None:
        self.language_picker = QComboBox(box)
        self.language_picker.setObjectName("languagePicker")
        self.language_picker.setAccessibleName("Spoken language")
        self.language_picker.addItem("Automatic (detect per turn)", AUTOMATIC_LANGUAGE)
        for code, name in sorted(WHISPER_LANGUAGES.items(), key=lambda item: item[1]):
            self.language_picker.addItem(name, code)
        self.language_picker.setCurrentIndex(self.language_picker.findData(
            spoken_language_value(settings.spoken_language)))
        language_label = QLabel("Spoken &language:", box)
        language_label.setBuddy(self.language_picker)
        form.addRow(language_label, self.language_picker)
        self.translate_check = QCheckBox("Translate to &English", box)
        self.translate_check.setObjectName("translateCheck")
        self.translate_check.setChecked(settings.translate_to_english)
        form.addRow("", self.translate_check)
        self.language_note = QLabel(box)
        self.language_note.setObjectName("languageNote")
        self.language_note.setWordWrap(True)
        form.addRow("", self.language_note)
        self._show_languages(None)

    def _show_languages(self, model: OfflineModelInfo | None) -> None:
        """Language and translation apply to multilingual models only; say so otherwise."""
        multilingual = model is not None and model.multilingual
        self.language_picker.setEnabled(multilingual)
        self.translate_check.setEnabled(multilingual)
        if model is None or multilingual:
            self.language_note.setText("")
        else:
            self.language_note.setText(
                f"{model.name} hears English only. Other languages and translation need a "
                "multilingual model (base or small).")

    async def load_models(self) -> None:
        """Fill the model list (file checks run off the UI thread); the opener awaits it."""
        store = self.controller.offline_models
        self._models = await asyncio.to_thread(store.list_models)
        self.model_picker.blockSignals(True)
        self.model_picker.clear()
        for model in self._models:
            size = f"{model.size_bytes / 1_000_000:.0f} MB"
            state = "bundled" if model.bundled else ("downloaded" if model.installed
                                                     else f"{size} download")
            self.model_picker.addItem(f"{model.name} ({state})", model.name)
        index = self.model_picker.findData(self._chosen_model)
        self.model_picker.setCurrentIndex(max(index, 0))
        self.model_picker.blockSignals(False)
        self._model_selected()

    def _selected_model(self) -> OfflineModelInfo | None:
        index = self.model_picker.currentIndex()
        return self._models[index] if 0 <= index < len(self._models) else None

    def _model_selected(self) -> None:
        model = self._selected_model()
        if model is None:
            return
        self.model_info.setText(model.description)
        self._show_languages(model)
        downloading = self.controller.downloads.active is not None
        self.download_button.setVisible(not model.installed)
        self.download_button.setEnabled(not downloading)

    async def download_selected(self) -> bool:
        """Download the selected model with progress; True once it is installed. The
        controller's :class:`ModelDownloads` owns the download; this dialog only shows it."""
        model = self._selected_model()
        if model is None or model.installed:
            return model is not None and model.installed
        downloads = self.controller.downloads
        downloads.progress.connect(self._download_progress)
        downloads.finished.connect(self._download_finished)
        self.download_button.setEnabled(False)
        self.cancel_download_button.show()
        self.download_progress.setRange(0, 1000)
        self.download_progress.setValue(0)
        self.download_progress.show()
        self.model_info.setText(f"Downloading {model.name}… (closing Settings cancels it)")
        installed = await downloads.start(model.name)
        if installed:
            await self.load_models()
        return installed

    def _download_progress(self, name: str, done: int, total: int) -> None:
        self.download_progress.setValue(int(1000 * done / total) if total else 0)

    def _download_finished(self, name: str, installed: bool, message: str) -> None:
        self.controller.downloads.progress.disconnect(self._download_progress)
        self.controller.downloads.finished.disconnect(self._download_finished)
        self.model_info.setText(message)
        self.cancel_download_button.hide()
        self.download_progress.hide()
        if installed:
            self._chosen_model = name
        else:
            self.download_button.setEnabled(True)

    def cancel_download(self) -> None:
        self.controller.downloads.cancel()

    def done(self, result: int) -> None:
        """Closing Settings (OK, Cancel, Escape, the window's close button) cancels a
        download in progress, as the dialog says while it runs."""
        self.cancel_download()
        super().done(result)

    # --- the key ----------------------------------------------------------------------------

    def _toggle_visible(self, visible: bool) -> None:
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Normal if visible
                                  else QLineEdit.EchoMode.Password)
        self.show_key.setText("Hide" if visible else "Show")
        self.show_key.setAccessibleName("Hide key" if visible else "Show key")

    def _validate_clicked(self) -> None:
        self.controller.spawn(self.validate_and_save())

    async def validate_and_save(self) -> KeyCheck | None:
        key = self.key_edit.text().strip()
        if not key:
            self.key_status.setText("Paste a key first.")
            return None
        self.validate_button.setEnabled(False)
        self.key_status.setText("Checking the key with AssemblyAI…")
        try:
            check = await self.controller.save_key(key)
        finally:
            self.validate_button.setEnabled(True)
        self.last_check = check
        if check.status is KeyStatus.VALID and check.error is None:
            self.key_edit.clear()
            self.key_edit.setPlaceholderText(_placeholder(self.controller))
            # Where it is kept is said once, in the line below.
            self.key_status.setText("Key valid and saved.")
        elif check.error is not None:
            self.key_status.setText(f"Not saved. {policy.settings_key_text(check.error)}")
        self._update_delete()
        return check

    def _delete_clicked(self) -> None:
        self.controller.spawn(self.delete_key())

    async def delete_key(self) -> None:
        await self.controller.delete_key()
        self.key_status.setText("The stored key was deleted.")
        self._update_delete()

    def _update_delete(self) -> None:
        stored = self.controller.has_stored_key
        self.delete_button.setEnabled(stored)
        self.delete_button.setToolTip("" if stored else "No key is stored.")

    def _accept(self) -> None:
        terms = tuple(t.strip() for t in self.keyterms.toPlainText().splitlines() if t.strip())
        try:
            StreamingParams(keyterms_prompt=terms)  # the service's limits, checked now
        except SettingsError as exc:
            self.settings_error.setText(str(exc))
            return
        try:
            names = check_speaker_names(self.speaker_you.text(), self.speaker_others.text())
        except ValueError as exc:
            self.settings_error.setText(str(exc))
            return
        model = self._selected_model()
        if model is not None and not model.installed:
            self.settings_error.setText(
                f"The offline model {model.name} is not downloaded yet: press Download first, "
                "or pick an installed model.")
            return
        self.result_settings = replace(
            self.controller.settings,
            offline_model=model.name if model is not None else self._chosen_model,
            region=Region(str(self.region.currentData())),
            format_turns=self.format_turns.isChecked(),
            keyterms=terms,
            spoken_language=spoken_language_from(self.language_picker.currentData()),
            translate_to_english=self.translate_check.isChecked(),
            speaker_you=names.you,
            speaker_others=names.others,
        )
        self.accept()


GET_KEY_URL = "https://www.assemblyai.com/dashboard/signup"


def _name_edit(parent: QWidget, name: str, text: str, accessible: str) -> QLineEdit:
    edit = QLineEdit(text, parent)
    edit.setObjectName(name)
    edit.setAccessibleName(accessible)
    edit.setMaxLength(MAX_NAME_CHARS)
    return edit


def _placeholder(controller: AppController) -> str:
    if controller.env_key_in_use:
        return "Using ASSEMBLYAI_API_KEY from the environment — paste a key to store one"
    if controller.has_key:
        return "Stored key hidden — paste a new one to replace it"
    return "Paste your AssemblyAI API key"
