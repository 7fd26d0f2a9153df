"""The spoken-language setting: Whisper's languages, how the choice is stored and read back."""

from __future__ import annotations

import pytest

from app.core.config import (
    AUTOMATIC_LANGUAGE,
    Settings,
    SettingsError,
    spoken_language_from,
    spoken_language_value,
)
from app.core.languages import ENGLISH, WHISPER_LANGUAGES, language_name, language_tag


def test_the_default_is_english_without_translation() -> None:
    settings = Settings()
    assert (settings.spoken_language, settings.translate_to_english) == (ENGLISH, False)


@pytest.mark.parametrize("language", [None, "en", "fr", "haw", "jw"])
def test_every_choice_survives_the_settings_file(language: str | None) -> None:
    assert spoken_language_from(spoken_language_value(language)) == language


def test_automatic_is_stored_as_a_word_not_as_an_empty_value() -> None:
    assert spoken_language_value(None) == AUTOMATIC_LANGUAGE == "auto"


@pytest.mark.parametrize("stored", ["", None, "xx", "French", "FR", " ", 3, "yue"])
def test_a_missing_or_unknown_stored_language_reads_as_english(stored: object) -> None:
    assert spoken_language_from(stored) == ENGLISH


def test_settings_refuse_a_language_whisper_does_not_know() -> None:
    with pytest.raises(SettingsError, match="spoken language"):
        Settings(spoken_language="xx")
    assert Settings(spoken_language=None).spoken_language is None


def test_languages_have_names() -> None:
    assert len(WHISPER_LANGUAGES) == 99
    assert language_name("fr") == "French" and language_name("zz") == "zz"
    assert len(set(WHISPER_LANGUAGES.values())) == 99  # every entry in the picker is distinct


@pytest.mark.parametrize(("language", "previous", "tag"), [
    (None, None, ""), (None, "fr", ""),  # unknown: English-only models, the cloud
    ("en", None, ""), ("en", "en", ""),  # English among English says nothing
    ("en", "fr", "en"),  # back to English after French
    ("fr", None, "fr"), ("fr", "fr", "fr"), ("fr", "en", "fr"),  # never English: always
])
def test_language_tag(language: str | None, previous: str | None, tag: str) -> None:
    assert language_tag(language, previous) == tag
