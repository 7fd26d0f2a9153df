"""What the person chose, kept with ``QSettings`` between runs — never the API key.

Region, auth mode, formatted turns, key terms, the chosen microphone's stable id, the window
geometry and the last folder used for Save… live here. The key lives in the OS keyring only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QByteArray, QSettings

from app.core.config import (
    BUNDLED_OFFLINE_MODEL,
    AuthMode,
    EngineChoice,
    Region,
    Settings,
    spoken_language_from,
    spoken_language_value,
)
from app.core.speakers import check_speaker_names


class Preferences:
    def __init__(self, store: QSettings) -> None:
        self._store = store

    def load(self) -> Settings:
        region = _enum(Region, self._store.value("service/region", Region.US.value), Region.US)
        mode = _enum(AuthMode, self._store.value("service/auth_mode", AuthMode.HEADER.value),
                     AuthMode.HEADER)
        engine = _enum(EngineChoice, self._store.value("service/engine", EngineChoice.AUTO.value),
                       EngineChoice.AUTO)
        model = str(self._store.value("offline/model", BUNDLED_OFFLINE_MODEL) or "")
        terms = self._store.value("service/keyterms", "")
        device = self._store.value("audio/device_id", "")
        return Settings(
            region=region,
            auth_mode=mode,
            engine=engine,
            offline_model=model or BUNDLED_OFFLINE_MODEL,
            format_turns=_bool(self._store.value("service/format_turns", True)),
            keyterms=tuple(t.strip() for t in str(terms or "").split("\n") if t.strip()),
            device_id=str(device) or None,
            spoken_language=spoken_language_from(self._store.value("offline/language", "en")),
            translate_to_english=_bool(self._store.value("offline/translate", False)),
            **_speaker_names(self._store),
        )

    def save(self, settings: Settings) -> None:
        self._store.setValue("service/region", settings.region.value)
        self._store.setValue("service/auth_mode", settings.auth_mode.value)
        self._store.setValue("service/engine", settings.engine.value)
        self._store.setValue("offline/model", settings.offline_model)
        self._store.setValue("offline/language", spoken_language_value(settings.spoken_language))
        self._store.setValue("offline/translate", settings.translate_to_english)
        self._store.setValue("service/format_turns", settings.format_turns)
        self._store.setValue("service/keyterms", "\n".join(settings.keyterms))
        self._store.setValue("audio/device_id", settings.device_id or "")
        self._store.setValue("speakers/you", settings.speaker_you)
        self._store.setValue("speakers/others", settings.speaker_others)
        self._store.sync()

    def geometry(self) -> QByteArray | None:
        value = self._store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, geometry: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)

    def last_folder(self) -> Path:
        value = self._store.value("files/last_folder", "")
        folder = Path(str(value)) if value else Path.home()
        return folder if folder.is_dir() else Path.home()

    def set_last_folder(self, folder: Path) -> None:
        self._store.setValue("files/last_folder", str(folder))

    def show_timestamps(self) -> bool:
        return _bool(self._store.value("view/timestamps", False))

    def set_show_timestamps(self, on: bool) -> None:
        self._store.setValue("view/timestamps", on)

    def zoom(self) -> int:
        """Transcript zoom in steps from the default size (0)."""
        try:
            return int(str(self._store.value("view/zoom", 0)))
        except ValueError:
            return 0

    def set_zoom(self, steps: int) -> None:
        self._store.setValue("view/zoom", steps)

    def caption_geometry(self) -> QByteArray | None:
        value = self._store.value("captions/geometry")
        return value if isinstance(value, QByteArray) else None

    def set_caption_geometry(self, geometry: QByteArray) -> None:
        self._store.setValue("captions/geometry", geometry)

    def caption_opacity(self) -> float:
        try:
            return float(str(self._store.value("captions/opacity", 0.75)))
        except ValueError:
            return 0.75

    def set_caption_opacity(self, value: float) -> None:
        self._store.setValue("captions/opacity", value)

    def caption_point_size(self) -> int:
        try:
            return int(str(self._store.value("captions/point_size", 28)))
        except ValueError:
            return 28

    def set_caption_point_size(self, size: int) -> None:
        self._store.setValue("captions/point_size", size)

    def caption_shown(self) -> bool:
        return _bool(self._store.value("captions/shown", False))

    def set_caption_shown(self, shown: bool) -> None:
        self._store.setValue("captions/shown", shown)

    def file_name(self) -> str:
        """Where these preferences are kept (shown in Help → About)."""
        return self._store.fileName()


def _bool(value: object) -> bool:
    # QSettings' INI backend returns booleans it wrote as the strings "true"/"false".
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


E = TypeVar("E", Region, AuthMode, EngineChoice)


def _speaker_names(store: QSettings) -> dict[str, str]:
    """The stored names when they are still valid (a hand-edited file may hold anything),
    else the defaults."""
    defaults = Settings()
    try:
        names = check_speaker_names(
            str(store.value("speakers/you", defaults.speaker_you) or ""),
            str(store.value("speakers/others", defaults.speaker_others) or ""))
    except ValueError:
        return {}
    return {"speaker_you": names.you, "speaker_others": names.others}


def _enum(kind: type[E], value: object, default: E) -> E:
    try:
        return kind(str(value))
    except ValueError:
        return default


ORGANIZATION = "live-transcriber"
APPLICATION = "live-transcriber"


def settings_store() -> QSettings:
    """The app's settings store (an INI file under the user's config folder on Linux)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION,
                     APPLICATION)


def default_settings() -> Settings:
    """The person's saved choices, for modes that run without a window."""
    return Preferences(settings_store()).load()
