"""Microphone capture: a PortAudio input stream in callback mode feeding an :class:`AudioPump`.

Threads: PortAudio calls the callback on its own thread. The callback only counts overflow
flags and schedules ``pump.put_and_drain(in_data)`` on the event loop with
``call_soon_threadsafe`` (PyAudio has already copied the device buffer into a fresh ``bytes``
object, so nothing is shared). All else (conversion, framing, metering, error reports) happens
on the loop thread. Opening and closing block for tens of milliseconds and run in worker
threads, one at a time per capture object.

A watchdog task on the loop notices a device that stopped: no callback for ``stall_timeout_s``,
PortAudio reporting the stream inactive, or (PulseAudio sources) the sound server no longer
listing the source. A source that is gone ends the capture at once. A stream that only stalled
(a starved or restarting sound server, a suspended source) is closed and opened again on the
same device, after each of ``reopen_delays_s``; the time without audio is filled with silence,
so the recording's timeline (and every later word's time) stays right. Only when no reopen
works does it keep the audio already captured, stop and report an :class:`AudioError` through
``on_error``; nothing raises into the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import pyaudio

from app.core.audio import FRAME_BYTES, FRAME_MS
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
from app.io.lazy_sleep import lazy_sleep

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
        watch_interval_s: float = 0.5,  # polls ride on the hand-offs: no wake-up of their own
        close_timeout_s: float = 2.0,
        # A load spike starves the sound server for a second or two, a restarting server is
        # back within a few seconds (measured: kill and respawn of the private test server,
        # 1.5 s idle); a really gone device is told apart by the server (PulseAudio) or by
        # every reopen failing, ~5 s after its last audio.
        reopen_delays_s: tuple[float, ...] = (0.2, 1.0, 2.5),
        open_timeout_s: float = 5.0,
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
        self._reopen_delays_s = reopen_delays_s
        self._open_timeout_s = open_timeout_s
        self._lifecycle = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opened: OpenedStream | None = None
        self._source_watch: PulseSourceWatch | None = None
        self._pump: AudioPump | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._closing: asyncio.Future[None] | None = None
        self._overflows = 0  # written only by the callback thread while a stream runs
        # The audio clock of the current stream: when it opened, and the sample frames it
        # has delivered since (written on the loop thread, reset by the opening thread).
        self._stream_opened_at = 0.0
        self._stream_samples = 0
        self._stream_rate = 1
        self._old_samples_ms = 0.0
        self._earlier_dropped = 0  # counters of the pumps of streams reopened since start
        self._earlier_delivered = 0
        self.reopens = 0  # stalled streams opened again during this recording
        self.gap_ms = 0  # silence put in for the time a stalled stream delivered nothing

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
        return self._earlier_dropped + (0 if self._pump is None else self._pump.dropped_frames)

    @property
    def frames_delivered(self) -> int:
        return self._earlier_delivered + (0 if self._pump is None
                                          else self._pump.frames_delivered)

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
            self._earlier_dropped = self._earlier_delivered = self.reopens = self.gap_ms = 0
            self._pump = None
            watch = await self._watch_source()
            try:
                opened = await self._open_stream()
            except BaseException:
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
        loop = self._loop
        call_soon_threadsafe = loop.call_soon_threadsafe
        put_and_drain = pump.put_and_drain
        bytes_per_frame = 2 * channels
        self._stream_opened_at, self._stream_samples, self._stream_rate = loop.time(), 0, rate

        def put(data: bytes) -> None:  # runs as its own loop callback: convert at once
            self._stream_samples += len(data) // bytes_per_frame
            put_and_drain(data)

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
        while True:
            reason = await self._watch(opened)
            if not self._reopen_delays_s:
                await self._fail(opened, reason)
                return
            reopened = await self._reopen(opened, reason)
            if reopened is None:
                return  # stopped meanwhile, or it failed and said so
            opened = reopened

    async def _watch(self, opened: OpenedStream) -> str:
        """Wait until the stream is in trouble; returns why."""
        loop = asyncio.get_running_loop()
        pump, watch = self._pump, self._source_watch
        assert pump is not None
        seen, last_audio = pump.chunks_received, loop.time()
        while True:
            # Ends at an audio hand-off while audio flows (no wake-up of its own); when the
            # audio stops, after the whole interval, so a stall is noticed as soon as before.
            await lazy_sleep(self._watch_interval_s)
            now = loop.time()
            if pump.chunks_received != seen:
                seen, last_audio = pump.chunks_received, now
            # What the server told the watch's thread: reading it never blocks, so a frozen
            # server cannot hold up the other checks.
            if watch is not None and not watch.is_present():
                return "the sound server no longer has it"
            if not is_stream_active(opened):
                return "the audio system stopped the stream"
            if now - last_audio >= self._stall_timeout_s:
                return f"no audio for {now - last_audio:.1f} s"

    async def _reopen(self, opened: OpenedStream, reason: str) -> OpenedStream | None:
        """Close the stalled stream and open the same device again, after each back-off in
        turn, unless the sound server says the source is gone (asked over a new connection:
        the old one dies with a restarting server); fill the time without audio with silence.
        None: stop() came first, or no reopen worked (then the failure has been reported)."""
        async with self._lifecycle:
            if self._opened is not opened:
                return None  # stop() got there first
            log.warning("capture of %s stalled (%s); opening it again", self._device_name(),
                        reason)
            self._retire_pump()
            old_opened_at = self._stream_opened_at
            self._opened = None
            closing = asyncio.ensure_future(asyncio.to_thread(close_input_stream, opened))
            self._closing = closing
            await self._finish_close(closing)
            if not closing.done():  # a wedged server: opening beside it could wedge us too
                self._watchdog = None
                self._report(reason)
                return None
            for delay in self._reopen_delays_s:
                if not await self._source_still_there():
                    reason = "the sound server no longer has it"
                    break
                await asyncio.sleep(delay)  # the back-off: a starved server catches up
                try:
                    reopened = await self._open_stream(self._open_timeout_s)
                except AudioError as exc:
                    log.info("reopening the capture failed: %s", exc.message)
                    continue
                except TimeoutError:
                    break
                self._fill_gap(old_opened_at, self._stream_opened_at)
                self._opened = reopened
                self.reopens += 1
                return reopened
            self._watchdog = None  # this task: stop() must not cancel the clean-up
            watch, self._source_watch = self._source_watch, None
            if watch is not None:
                await asyncio.to_thread(watch.close)
            self._report(reason)
            return None

    async def _source_still_there(self) -> bool:
        """False only when the sound server answers that the chosen source does not exist
        (a server that cannot be reached may be restarting: the reopen tells)."""
        device = self.device
        if device is None or device.host_api != PULSE_HOST_API:
            return True
        old, self._source_watch = self._source_watch, None
        if old is not None:
            await asyncio.to_thread(old.close)
        try:
            self._source_watch = await asyncio.to_thread(PulseSourceWatch.connect, device.id)
        except LookupError:
            return False
        return True

    async def _open_stream(self, timeout_s: float | None = None) -> OpenedStream:
        """Open the device on a worker thread, waiting at most ``timeout_s`` (None: as long
        as it takes). Shielded: a cancelled or timed-out open still closes what the thread
        opens."""
        opening = asyncio.ensure_future(asyncio.to_thread(
            open_input_stream, self.device, self._make_callback,
            prefer_wire_format=self._prefer_wire_format))
        try:
            return await asyncio.wait_for(asyncio.shield(opening), timeout_s)
        except BaseException:
            opening.add_done_callback(self._close_orphan)
            raise

    def _retire_pump(self) -> None:
        """Deliver what the current pump holds and keep its counters (a reopened stream gets a
        pump of its own)."""
        pump = self._pump
        self._old_samples_ms = self._stream_samples * 1000 / self._stream_rate
        if pump is not None:
            pump.flush()
            self._earlier_dropped += pump.dropped_frames
            self._earlier_delivered += pump.frames_delivered
            self._pump = None

    def _fill_gap(self, old_opened_at: float, new_opened_at: float) -> None:
        """Silence for the time the stalled stream owed (the wall time from its opening to the
        new stream's, less the audio it delivered), so later audio keeps its place in time.
        A server that caught up after the stall owes nothing."""
        owed_ms = (new_opened_at - old_opened_at) * 1000 - self._old_samples_ms
        frames = max(0, int(owed_ms) // FRAME_MS)
        silence = bytes(FRAME_BYTES)
        for _ in range(frames):
            self._on_frame(silence)
        self.gap_ms += frames * FRAME_MS
        log.warning("capture reopened; %d ms without audio filled with silence",
                    frames * FRAME_MS)

    def _device_name(self) -> str:
        return self.device.id if self.device else "the default device"

    def _report(self, reason: str) -> None:
        error = AudioError(
            f"{subject(self.device)} stopped delivering audio ({reason}).",
            remedy="Check that it is still connected, or choose another microphone, "
            "then start again.",
            retryable=True,
        )
        if self._on_error is not None:
            self._on_error(error)

    async def _fail(self, opened: OpenedStream, reason: str) -> None:
        async with self._lifecycle:
            if self._opened is not opened:
                return  # stop() got there first
            self._watchdog = None  # this task: stop() must not cancel the clean-up
            log.warning("capture of %s failed: %s", self._device_name(), reason)
            if self._pump is not None:
                self._pump.flush()  # keep what was captured before the failure
            closing = self._begin_close(opened)
            try:
                self._report(reason)
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
