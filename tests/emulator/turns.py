"""Builds v3 `Turn` messages from recogniser updates (PROTOCOL.md §4.1, §10 "Parsing").

Field types follow what the official SDK validates: `turn_order` int, `end_of_turn_confidence`
a float (never null), word `start`/`end` integer ms, `confidence` float, `word_is_final` bool.
A message that fails that validation silently kills the SDK's reader (§10), so the emulator
never deviates from those types.
"""

from __future__ import annotations

from typing import Any

from .recognizers import EmuWord, TurnUpdate

# Deterministic stand-ins: low while the turn is open, high at its end (any float is valid).
PARTIAL_EOT_CONFIDENCE = 0.05
FINAL_EOT_CONFIDENCE = 0.92


def format_text(text: str) -> str:
    """Emulated formatting: first letter upper-case, terminal period."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


def _format_words(words: tuple[EmuWord, ...]) -> list[str]:
    texts = [w.text for w in words]
    if texts:
        texts[0] = texts[0][:1].upper() + texts[0][1:]
        if texts[-1][-1:] not in (".", "?", "!"):
            texts[-1] += "."
    return texts


def _word_json(word: EmuWord, text: str, is_final: bool) -> dict[str, Any]:
    return {
        "start": int(word.start_ms),
        "end": int(word.end_ms),
        "text": text,
        "confidence": float(word.confidence),
        "word_is_final": bool(is_final),
    }


class TurnBuilder:
    """Assigns `turn_order` and produces the Turn message(s) for each update."""

    def __init__(self, formatted_two_messages: bool = True) -> None:
        self.turn_order = 0
        self._two_messages = formatted_two_messages

    def build(self, update: TurnUpdate, format_turns: bool) -> list[dict[str, Any]]:
        if not update.words:
            return []
        if not update.end_of_turn:
            return [self._turn(update.words, end_of_turn=False, formatted=False)]
        if not format_turns:
            messages = [self._turn(update.words, end_of_turn=True, formatted=False)]
        elif self._two_messages:
            messages = [
                self._turn(update.words, end_of_turn=True, formatted=False),
                self._turn(update.words, end_of_turn=True, formatted=True),
            ]
        else:
            messages = [self._turn(update.words, end_of_turn=True, formatted=True)]
        self.turn_order += 1
        return messages

    def _turn(
        self, words: tuple[EmuWord, ...], *, end_of_turn: bool, formatted: bool
    ) -> dict[str, Any]:
        # An ended turn has only final words, whatever the recogniser said.
        finals = [end_of_turn or w.is_final for w in words]
        texts = _format_words(words) if formatted else [w.text for w in words]
        # Universal-Streaming: transcript = the finalised words only (PROTOCOL.md §4.1).
        transcript = " ".join(t for t, final in zip(texts, finals, strict=True) if final)
        return {
            "turn_order": self.turn_order,
            "turn_is_formatted": formatted,
            "end_of_turn": end_of_turn,
            "transcript": transcript,
            "end_of_turn_confidence": (
                FINAL_EOT_CONFIDENCE if end_of_turn else PARTIAL_EOT_CONFIDENCE
            ),
            "words": [_word_json(w, t, f) for w, t, f in zip(words, texts, finals, strict=True)],
            "utterance": transcript if end_of_turn else "",
            "type": "Turn",
        }
