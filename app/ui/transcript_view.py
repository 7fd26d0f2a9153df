"""The live transcript pane: finished turns as paragraphs, the turn in progress as one grey line.

The document holds one ``QTextBlock`` per line, at block numbers the view can compute:

====================  ========================================================================
block ``2*i``         ``finals[i]`` (hidden, with its separator, when the turn has no text)
block ``2*i + 1``     an empty separator: QPlainTextEdit ignores block margins, so a blank line
                      is the only way to space paragraphs, and it makes a copied selection read
                      like :meth:`TranscriptModel.plain_text` (paragraphs split by a blank line)
block ``2*n``         the live line: the turn in progress in italics and the placeholder colour,
                      or empty; always the last block
====================  ========================================================================

Each :class:`TranscriptChange` step touches one or two blocks found by number (O(log n) in
``QTextDocument``'s block map), so a message costs the same with 10 turns or 10,000. Only
:meth:`TranscriptView.load`, the timestamp toggle and a palette change render everything.

A block's ``userState`` holds its turn's start in ms (-1: none), so the view can redraw the
timestamps from the document alone. A paragraph in another language than English (or English
right after another) starts with its language code, ``[fr]``: in the text itself, so a screen
reader reads it with the paragraph (see :func:`app.core.languages.language_tag`). The
document, not the model, is the source for re-renders: changes may still be queued for the
view when the model has already moved on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette, QTextBlock, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from app.core.clock import short_clock
from app.core.languages import language_tag
from app.core.transcript import TranscriptChange, TranscriptModel, TranscriptTurn, said_text

_NO_START = -1
_MAX_STATE = 2**31 - 1  # userState is a C int: starts past ~24.8 days are clamped
# QTextCursor.insertText starts a new block at these frame markers, which would break the
# one-block-per-turn layout; no recogniser emits them (they are Unicode noncharacters).
_BLOCK_BREAKERS = str.maketrans({"\ufdd0": "\ufffd", "\ufdd1": "\ufffd"})

# (paragraph text, start state, interrupted, language tag: "" or an ISO code)
_Line = tuple[str, int, bool, str]
# An interrupted turn (its session ended mid-sentence) must not read as finished.
INTERRUPTED_MARK = "…"


def timestamp(start_ms: int) -> str:
    """``[mm:ss]`` under an hour, ``[h:mm:ss]`` from then on."""
    return f"[{short_clock(start_ms)}]"


def tag_text(tag: str) -> str:
    """What a paragraph starts with for language ``tag`` (``"[fr] "``; nothing for ``""``)."""
    return f"[{tag}] " if tag else ""


def _line(turn: TranscriptTurn, tag: str = "") -> _Line:
    # The speaker's name ("You: …") is part of the paragraph's text: screen readers read it,
    # and a copied selection says who spoke, like the TXT export.
    text = said_text(turn).translate(_BLOCK_BREAKERS)
    start = _NO_START if turn.start_ms is None else min(max(turn.start_ms, 0), _MAX_STATE)
    return text, start, turn.interrupted and bool(text), tag if text else ""


@dataclass(frozen=True)
class _Formats:
    final: QTextCharFormat
    partial: QTextCharFormat
    stamp: QTextCharFormat
    muted: int  # the colour they were built from (ARGB), to skip palette changes that keep it


def _formats(palette: QPalette) -> _Formats:
    # Colours are baked into the document, so a theme switch needs new formats (changeEvent).
    muted = palette.color(QPalette.ColorRole.PlaceholderText)
    partial = QTextCharFormat()
    partial.setFontItalic(True)
    partial.setForeground(muted)
    stamp = QTextCharFormat()
    stamp.setForeground(muted)
    return _Formats(QTextCharFormat(), partial, stamp, muted.rgba())


class TranscriptView(QPlainTextEdit):
    """Read-only, selectable transcript that follows the end unless the user scrolled up.

    ``model`` gives the initial content; afterwards the owner feeds every change it gets from
    the model to :meth:`apply` (or calls :meth:`load` after a bulk change such as a reset).
    """

    def __init__(self, model: TranscriptModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._formats = _formats(self.palette())
        self._show_timestamps = False
        self._finals = 0
        self._interrupted: list[bool] = []  # per shown final: its text carries the mark
        self._languages: list[str | None] = []  # per shown final: the language it was heard in
        self._tags: list[str] = []  # per shown final: the language tag its text starts with
        self._live: _Line | None = None
        self._follow = True
        self._scrolling = False  # set while the view itself moves the scroll bar
        self.setObjectName("transcriptView")
        self.setAccessibleName("Transcript")
        self.setReadOnly(True)
        # Read-only alone allows mouse selection only; the keyboard must select and copy too.
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setUndoRedoEnabled(False)  # an undo stack would keep every partial ever shown
        self.setMaximumBlockCount(0)
        self.setCenterOnScroll(False)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)
        if model is not None:
            self.load(model.turns())

    # --- feeding ---------------------------------------------------------------------------

    def apply(self, change: TranscriptChange) -> None:
        """Show one change from :meth:`TranscriptModel.apply` (and its earlier steps)."""
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        try:
            for step in change.steps():
                if step.kind != "partial":
                    index = step.index
                    # A final may go after the last one shown; a revision must hit a shown one.
                    limit = self._finals if step.kind == "final" else self._finals - 1
                    if index is None or not 0 <= index <= limit:
                        raise ValueError(f"a {step.kind} change at {index} with {self._finals} "
                                         "turns shown: the view missed a change; load() again")
                    if step.kind == "final":
                        self._languages.insert(index, step.turn.language)
                        line = _line(step.turn, self._tag_at(index))
                        self._insert_final(cursor, index, line)
                    else:
                        self._languages[index] = step.turn.language
                        line = _line(step.turn, self._tag_at(index))
                        self._replace_final(cursor, index, line)
                    self._retag_after(cursor, index)
                self._show_live(cursor, None if step.partial is None else _line(step.partial))
        finally:
            cursor.endEditBlock()

    def load(self, turns: Iterable[TranscriptTurn]) -> None:
        """Show exactly ``turns`` (e.g. ``model.turns()``): finals, then at most one turn in
        progress, which must come last."""
        finals: list[_Line] = []
        live: _Line | None = None
        languages: list[str | None] = []
        for turn in turns:
            if live is not None:
                raise ValueError("only the last turn may be in progress")
            if turn.final:
                finals.append(_line(turn, language_tag(turn.language, _last_known(languages))))
                languages.append(turn.language)
            else:
                live = _line(turn)
        self._languages = languages
        self._render(finals, live)

    def clear_all(self) -> None:
        self._languages = []
        self._render([], None)

    # --- reading ---------------------------------------------------------------------------

    def plain_text(self) -> str:
        """The finished turns as :meth:`TranscriptModel.plain_text` gives them (no timestamps,
        no turn in progress)."""
        return "\n\n".join(line[0] for line in self._final_lines() if line[0])

    @property
    def show_timestamps(self) -> bool:
        return self._show_timestamps

    def set_show_timestamps(self, show: bool) -> None:
        if show != self._show_timestamps:
            finals, live = self._final_lines(), self._live
            self._show_timestamps = show
            self._render(finals, live)

    @property
    def following(self) -> bool:
        """True while the view keeps the end in sight (the user has not scrolled up)."""
        return self._follow

    # --- Qt overrides ----------------------------------------------------------------------

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            formats = _formats(self.palette())
            if formats.muted != self._formats.muted:
                finals, live = self._final_lines(), self._live
                self._formats = formats
                self._render(finals, live)

    # --- document edits --------------------------------------------------------------------

    def _insert_final(self, cursor: QTextCursor, index: int, line: _Line) -> None:
        # Split the block now at 2*index (an older turn, or the live line) in front of it.
        doc = self.document()
        old = doc.findBlockByNumber(2 * index)
        old_state, old_visible = old.userState(), old.isVisible()
        cursor.setPosition(old.position())
        self._write(cursor, line, self._formats.final)
        cursor.insertBlock()
        cursor.insertBlock()
        # The split leaves the old block's state on the first part: move it to where the old
        # text went, and give the new turn its own.
        moved = cursor.block()
        moved.setUserState(old_state)
        self._set_visible(moved, old_visible)
        self._finals += 1
        self._interrupted.insert(index, line[2])
        self._tags.insert(index, line[3])
        self._mark_final(doc.findBlockByNumber(2 * index), line)

    def _replace_final(self, cursor: QTextCursor, index: int, line: _Line) -> None:
        block = self.document().findBlockByNumber(2 * index)
        self._select_content(cursor, block)
        self._write(cursor, line, self._formats.final)
        self._interrupted[index] = line[2]
        self._tags[index] = line[3]
        self._mark_final(block, line)

    def _show_live(self, cursor: QTextCursor, line: _Line | None) -> None:
        if line == self._live:
            return
        self._live = line
        block = self.document().lastBlock()
        self._select_content(cursor, block)
        cursor.removeSelectedText()
        if line is not None:
            self._write(cursor, line, self._formats.partial)
        block.setUserState(_NO_START if line is None else line[1])

    def _render(self, finals: list[_Line], live: _Line | None) -> None:
        """Replace everything; keeps the reading position unless the view was following."""
        bar = self.verticalScrollBar()
        follow, value = self._follow, bar.value()
        self._scrolling = True
        try:
            self.clear()
            cursor = QTextCursor(self.document())
            cursor.beginEditBlock()
            for line in finals:
                self._write(cursor, line, self._formats.final)
                block = cursor.block()
                cursor.insertBlock()
                cursor.insertBlock()
                self._mark_final(block, line)
            self._finals = len(finals)
            self._interrupted = [line[2] for line in finals]
            self._tags = [line[3] for line in finals]
            self._live = None
            self._show_live(cursor, live)
            cursor.endEditBlock()
            self._follow = follow or not finals
            bar.setValue(bar.maximum() if self._follow else value)
        finally:
            self._scrolling = False

    def _write(self, cursor: QTextCursor, line: _Line, text_format: QTextCharFormat) -> None:
        text, start, interrupted, tag = line
        cursor.removeSelectedText()
        stamp_format = QTextCharFormat(self._formats.stamp)
        stamp_format.setFontItalic(text_format.fontItalic())
        if self._show_timestamps and start != _NO_START:
            cursor.insertText(timestamp(start) + " ", stamp_format)
        if tag:
            cursor.insertText(tag_text(tag), stamp_format)
        cursor.insertText(text, text_format)
        if interrupted:
            cursor.insertText(INTERRUPTED_MARK, self._formats.stamp)

    def _mark_final(self, block: QTextBlock, line: _Line) -> None:
        block.setUserState(line[1])
        self._set_visible(block, bool(line[0]))

    def _set_visible(self, block: QTextBlock, visible: bool) -> None:
        """Hide a turn without text together with its separator, so it leaves no gap."""
        separator = block.next()
        if not separator.isValid():
            return  # the live line, which stays visible even when empty
        if block.isVisible() == visible and separator.isVisible() == visible:
            return
        block.setVisible(visible)
        separator.setVisible(visible)
        # Visibility is not a content change: tell the layout to recount these lines.
        self.document().markContentsDirty(block.position(), block.length() + separator.length())

    @staticmethod
    def _select_content(cursor: QTextCursor, block: QTextBlock) -> None:
        cursor.setPosition(block.position())
        cursor.setPosition(block.position() + block.length() - 1, QTextCursor.MoveMode.KeepAnchor)

    def _final_lines(self) -> list[_Line]:
        lines: list[_Line] = []
        block = self.document().firstBlock()
        for index in range(self._finals):
            lines.append(self._final_line(block, index))
            block = block.next().next()
        return lines

    def _final_line(self, block: QTextBlock, index: int) -> _Line:
        """Final ``index`` as it was written into ``block`` (its block)."""
        text, start = block.text(), block.userState()
        if self._show_timestamps and start != _NO_START:
            text = text[len(timestamp(start)) + 1 :]
        tag = self._tags[index]
        text = text[len(tag_text(tag)):]
        interrupted = self._interrupted[index]
        if interrupted:
            text = text.removesuffix(INTERRUPTED_MARK)
        return text, start, interrupted, tag

    # --- language tags ---------------------------------------------------------------------

    def _tag_at(self, index: int) -> str:
        return language_tag(self._languages[index], _last_known(self._languages[:index]))

    def _retag_after(self, cursor: QTextCursor, index: int) -> None:
        """A final inserted or revised at ``index`` changes what "the language before" is for
        the finals after it, up to the next one whose language is known."""
        for following in range(index + 1, self._finals):
            tag = self._tag_at(following)
            if tag != self._tags[following]:
                block = self.document().findBlockByNumber(2 * following)
                text, start, interrupted, _ = self._final_line(block, following)
                if text:  # a paragraph without text shows no tag (and is hidden)
                    self._replace_final(cursor, following, (text, start, interrupted, tag))
            if self._languages[following] is not None:
                return

    # --- following the end -----------------------------------------------------------------

    def _on_scrolled(self, value: int) -> None:
        if not self._scrolling:
            self._follow = value >= self.verticalScrollBar().maximum()

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        # Fires on every growth, including lines found late when a wrapped block is laid out.
        if self._follow and not self._scrolling:
            self._scrolling = True
            try:
                self.verticalScrollBar().setValue(maximum)
            finally:
                self._scrolling = False


def _last_known(languages: list[str | None]) -> str | None:
    """The last language that is not None (the language "before" the next paragraph)."""
    return next((language for language in reversed(languages) if language is not None), None)
