"""Microphone capture: a PortAudio input stream in callback mode feeding an :class:`AudioPump`.

Threads: PortAudio calls the callback on its own thread. The callback only counts overflow
flags and schedules ``pump.put_and_drain(in_data)`` on the event loop with
``call_soon_threadsafe`` (PyAudio has already copied the device buffer into a fresh ``bytes``
object, so nothing is shared). All else (conversion, framing, metering, error reports) happens
on the loop thread. Opening and closing block for tens of milliseconds and run in worker
threads, one at a time per capture object.

A watchdog task on the loop notices a device that stopped: no callback for ``stall_timeout_s``,
PortAudio reporting the stream inactive, or (PulseAudio sources) the sound server no longer
listing the source. It keeps the audio already captured, stops the stream and reports an
:class:`AudioError` through ``on_error``; nothing raises into the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import pyaudio

from app.core.devices import InputDevice
from app.core.errors import AudioError
from app.core.sources import ErrorSink, FrameSink, LevelSink
from app.io.audio.portaudio_stream import (
    PULSE_HOST_API,
    OpenedStream,
    StreamCallback,
    close_input_stream,
    is_stream_active,
    not_connected,
    open_input_stream,
    subject,
)
from app.io.audio.pulse_presence import PulseSourceWatch
from app.io.audio.pump import AudioPump

log = logging.getLogger(__name__)

_CONTINUE: tuple[None, int] = (None, int(pyaudio.paContinue))
_ABORT: tuple[None, int] = (None, int(pyaudio.paAbort))
_INPUT_OVERFLOW = int(pyaudio.paInputOverflow)


class PyAudioCapture:
    """Records ``device`` (None: the system default) as 16 kHz mono 50 ms frames.

    With ``prefer_wire_format`` the stream opens at 16 kHz mono whenever the device accepts it
    (the sound server or driver converts); otherwise, or when it refuses, at the device's native
    rate and channels, and the pump downmixes and resamples.
    """

    def __init__(
        self,
        device: InputDevice | None,
        *,
        on_frame: FrameSink,
        on_level: LevelSink | None = None,
        on_error: ErrorSink | None = None,
        prefer_wire_format: bool = True,
        max_buffer_s: float = 3.0,
        stall_timeout_s: float = 1.0,
        watch_interval_s: float = 0.5,  # each poll is a loop wake-up; stalls take 1 s anyway
        close_timeout_s: float = 2.0,
    ) -> None:
        self.device = device
        self._on_frame = on_frame
        self._on_level = on_level
        self._on_error = on_error
        self._prefer_wire_format = prefer_wire_format
        self._max_buffer_s = max_buffer_s
        self._stall_timeout_s = stall_timeout_s
        self._watch_interval_s = watch_interval_s
        self._close_timeout_s = close_timeout_s
        self._lifecycle = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opened: OpenedStream | None = None
        self._source_watch: PulseSourceWatch | None = None
        self._pump: AudioPump | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closing: asyncio.Future[None] | None = None
        self._overflows = 0  # written only by the callback thread while a stream runs

    # --- state and counters ------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True while a PortAudio stream exists (including one still closing): PortAudio must
        not be re-initialised (device rescans) meanwhile."""
        return self._opened is not None or (self._closing is not None
                                            and not self._closing.done())

    @property
    def stream_format(self) -> tuple[int, int] | None:
        """(rate, channels) PortAudio delivers for the current or last recording."""
        return None if self._pump is None else (self._pump.in_rate, self._pump.channels)

    @property
    def overflows(self) -> int:
        return self._overflows

    @property
    def dropped_frames(self) -> int:
        return 0 if self._pump is None else self._pump.dropped_frames

    @property
    def frames_delivered(self) -> int:
        return 0 if self._pump is None else self._pump.frames_delivered

    @property
    def ends_by_itself(self) -> bool:
        return False

    async def wait_ended(self) -> None:
        await asyncio.get_running_loop().create_future()  # a microphone only ends when stopped

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the device and start delivering frames; raises :class:`AudioError`."""
        async with self._lifecycle:
            if self.is_open:
                raise RuntimeError("this capture is still open; stop it first")
            self._loop = asyncio.get_running_loop()
            self._overflows = 0
            watch = await self._watch_source()
            opening = asyncio.ensure_future(asyncio.to_thread(
                open_input_stream, self.device, self._make_callback,
                prefer_wire_format=self._prefer_wire_format))
            try:
                # Shielded: a cancelled start must still close what the thread opens.
                opened = await asyncio.shield(opening)
            except BaseException:
                opening.add_done_callback(self._close_orphan)
                if watch is not None:
                    watch.close()
                raise
            self._opened, self._source_watch = opened, watch
            self._watchdog = asyncio.create_task(self._supervise(opened),
                                                 name="capture-watchdog")

    async def stop(self) -> None:
        """Stop recording and deliver the last audio (the partial frame, padded). Never raises
        for device trouble; returns at once when not recording."""
        async with self._lifecycle:
            watchdog, self._watchdog = self._watchdog, None
            if watchdog is not None:
                watchdog.cancel()
                await asyncio.wait([watchdog])
            opened = self._opened
            if opened is None:
                if self._closing is not None:
                    await self._finish_close(self._closing)
                return
            closing = self._begin_close(opened)
            await self._finish_close(closing)
            # The callbacks PortAudio made before it stopped were queued on the loop ahead of
            # the close's completion, so the pump has them all by now.
            if self._pump is not None:
                self._pump.flush()

    # --- the callback (PortAudio's thread) ---------------------------------------------------

    def _create_pump(self, rate: int, channels: int) -> AudioPump:
        return AudioPump(self._on_frame, self._on_level, in_rate=rate, channels=channels,
                         max_buffer_s=self._max_buffer_s, loop=self._loop)

    def _make_callback(self, rate: int, channels: int) -> StreamCallback:
        """Build the pump for the chosen format and the callback feeding it (worker thread)."""
        assert self._loop is not None
        pump = self._create_pump(rate, channels)
        self._pump = pump
        call_soon_threadsafe = self._loop.call_soon_threadsafe
        put = pump.put_and_drain  # runs as its own loop callback: convert at once

        def callback(in_data: bytes, frame_count: int, time_info: Mapping[str, float],
                     status: int) -> tuple[None, int]:
            if status & _INPUT_OVERFLOW:
                self._overflows += 1
            try:
                call_soon_threadsafe(put, in_data)
            except RuntimeError:  # the loop is closed: nobody is left to take the audio
                return _ABORT
            return _CONTINUE

        return callback

    # --- supervision -------------------------------------------------------------------------

    async def _watch_source(self) -> PulseSourceWatch | None:
        device = self.device
        if device is None or device.host_api != PULSE_HOST_API:
            return None
        try:
            return await asyncio.to_thread(PulseSourceWatch.connect, device.id)
        except LookupError:
            raise not_connected(device) from None

    async def _supervise(self, opened: OpenedStream) -> None:
        loop = asyncio.get_running_loop()
        pump, watch = self._pump, self._source_watch
        assert pump is not None
        seen, last_audio = pump.chunks_received, loop.time()
        probe: asyncio.Future[bool] | None = None
        reason = ""
        try:
            while not reason:
                await asyncio.sleep(self._watch_interval_s)
                now = loop.time()
                if pump.chunks_received != seen:
                    seen, last_audio = pump.chunks_received, now
                if not is_stream_active(opened):
                    reason = "the audio system stopped the stream"
                elif now - last_audio >= self._stall_timeout_s:
                    reason = f"no audio for {now - last_audio:.1f} s"
                elif probe is not None and probe.done():
                    if not probe.result():
                        reason = "the sound server no longer has it"
                    probe = None
                # One probe in flight at most: a frozen server must not block the other checks.
                if not reason and watch is not None and probe is None:
                    probe = asyncio.ensure_future(asyncio.to_thread(watch.is_present))
        finally:
            if probe is not None:
                probe.cancel()
        await self._fail(opened, reason)

    async def _fail(self, opened: OpenedStream, reason: str) -> None:
        async with self._lifecycle:
            if self._opened is not opened:
                return  # stop() got there first
            self._watchdog = None  # this task: stop() must not cancel the clean-up
            log.warning("capture of %s failed: %s", self.device.id if self.device else
                        "the default device", reason)
            if self._pump is not None:
                self._pump.flush()  # keep what was captured before the failure
            closing = self._begin_close(opened)
            error = AudioError(
                f"{subject(self.device)} stopped delivering audio ({reason}).",
                remedy="Check that it is still connected, or choose another microphone, "
                "then start again.",
                retryable=True,
            )
            try:
                if self._on_error is not None:
                    self._on_error(error)
            finally:
                await self._finish_close(closing)

    # --- closing -----------------------------------------------------------------------------

    def _begin_close(self, opened: OpenedStream) -> asyncio.Future[None]:
        watch, self._source_watch, self._opened = self._source_watch, None, None
        closing = asyncio.ensure_future(asyncio.to_thread(_close_all, opened, watch))
        self._closing = closing
        return closing

    async def _finish_close(self, closing: asyncio.Future[None]) -> None:
        try:
            await asyncio.wait_for(asyncio.shield(closing), self._close_timeout_s)
        except TimeoutError:
            # A wedged driver or a frozen sound server: the worker thread finishes the close
            # whenever it can, and is_open stays True until it has.
            log.warning("the capture stream did not close within %.1f s; closing continues in "
                        "the background", self._close_timeout_s)

    def _close_orphan(self, opening: asyncio.Future[OpenedStream]) -> None:
        if opening.cancelled() or opening.exception() is not None:
            return
        assert self._loop is not None
        self._closing = asyncio.ensure_future(
            self._loop.run_in_executor(None, _close_all, opening.result(), None))


def _close_all(opened: OpenedStream, watch: PulseSourceWatch | None) -> None:
    try:
        close_input_stream(opened)
    finally:
        if watch is not None:
            watch.close()
