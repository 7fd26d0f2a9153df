"""The offline models a person can pick: the bundled ``tiny.en`` plus the catalog's optional
ones, downloaded once into the app data folder (``<data>/models/<name>``).

A chosen model that is not (or no longer completely) on disk falls back to the bundled one, so
Offline always works.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from app.core.config import BUNDLED_OFFLINE_MODEL, Settings
from app.core.ports import CancelFlag, EventSink, OfflineModelInfo
from app.io.offline.catalog import ModelCatalog
from app.io.offline.engine import OfflineEngine, OfflineOptions
from app.io.offline.model import TINY_EN, DecodeOptions, WhisperModelLoader

log = logging.getLogger(__name__)


class OfflineModels:
    """Implements ``app.core.ports.OfflineEngines``."""

    def __init__(self, catalog: ModelCatalog, folder: Path) -> None:
        self._catalog = catalog
        self._folder = folder
        self._loaders: dict[str, WhisperModelLoader] = {
            BUNDLED_OFFLINE_MODEL: WhisperModelLoader()}

    def list_models(self) -> list[OfflineModelInfo]:
        models = [OfflineModelInfo(BUNDLED_OFFLINE_MODEL,
                                   "Whisper tiny (English): fast, ships with the app.",
                                   TINY_EN.size, bundled=True, installed=True)]
        for entry in self._catalog:
            models.append(OfflineModelInfo(
                entry.name, entry.description, entry.spec.size, bundled=False,
                installed=self._catalog.is_installed(entry.name, self._folder / entry.name),
                multilingual=entry.spec.multilingual))
        return models

    async def download(self, name: str, progress: Callable[[int, int], None],
                       cancel: CancelFlag) -> bool:
        folder = await self._catalog.download(name, self._folder / name, progress, cancel)
        return folder is not None

    def engine_for(self, settings: Settings, *, whole_file: bool = False
                   ) -> Callable[[EventSink], OfflineEngine]:
        source = self.loader_for(settings.offline_model)
        # An English-only model (also the bundled fallback) clamps these to English itself.
        options = OfflineOptions(decode=decode_options(settings), finals_only=whole_file)

        def build(sink: EventSink) -> OfflineEngine:
            return OfflineEngine(source, sink, options=options)
        return build

    async def preload(self, settings: Settings) -> None:
        await self.loader_for(settings.offline_model).load()

    def loader_for(self, name: str) -> WhisperModelLoader:
        """The loader for ``name`` when it is complete on disk, else the bundled model's."""
        if name in self._loaders:
            return self._loaders[name]
        if name in self._catalog.names and self._catalog.is_installed(name,
                                                                       self._folder / name):
            loader = WhisperModelLoader(self._catalog.get(name).spec, self._folder / name)
            self._loaders[name] = loader
            return loader
        log.warning("offline model %s is not installed; using the bundled %s", name,
                    BUNDLED_OFFLINE_MODEL)
        return self._loaders[BUNDLED_OFFLINE_MODEL]


def decode_options(settings: Settings) -> DecodeOptions:
    """The spoken language (None: detect per turn) and task the person chose."""
    return DecodeOptions(language=settings.spoken_language,
                         task="translate" if settings.translate_to_english else "transcribe")
