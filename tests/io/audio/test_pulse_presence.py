"""PulseSourceWatch against a real (private) PulseAudio server: the server's own events say
that the chosen source is gone; nothing is asked of the server while nothing changes."""

from __future__ import annotations

import pytest

from app.io.audio.pulse_presence import PulseSourceWatch
from tests.support.pulse import PulseServer

ENDS_WITHIN_S = 10.0  # a bound for a hung thread, not a speed requirement


def test_a_removed_source_is_told_by_the_server(pulse_server: PulseServer) -> None:
    sink = pulse_server.load_sink("vwatched")
    other = pulse_server.load_sink("vbystander")
    watch = PulseSourceWatch.connect(sink.monitor)
    try:
        assert watch is not None and watch.is_present() and watch.thread.is_alive()
        pulse_server.unload(other)
        pulse_server.unload(sink)
        # The thread ends once it has heard the removal: that is the condition waited for.
        watch.thread.join(ENDS_WITHIN_S)
        assert not watch.thread.is_alive()
        assert not watch.is_present()
    finally:
        if watch is not None:
            watch.close()
        for gone in (sink, other):
            if gone.name in pulse_server.pactl("list", "short", "sinks"):
                pulse_server.unload(gone)


def test_another_source_going_leaves_the_watch_alone(pulse_server: PulseServer) -> None:
    sink = pulse_server.load_sink("vstays")
    first = pulse_server.load_sink("vleaves1")
    watch = PulseSourceWatch.connect(sink.monitor)
    assert watch is not None
    try:
        pulse_server.unload(first)
        # A watch on the source that left cannot be made (two round trips to the server).
        # Meanwhile the removal event reached the first watch's thread, which wakes for it: a
        # watch that took any removal for its own would have ended its thread. (Nothing here
        # can prove the thread has read the event yet, so a bug may slip through a fast run;
        # it cannot make a correct watch fail.)
        with pytest.raises(LookupError):
            PulseSourceWatch.connect(first.monitor)
        assert watch.is_present() and watch.thread.is_alive()
    finally:
        watch.close()
        pulse_server.unload(sink)
    assert not watch.thread.is_alive() and not watch.is_present()


def test_a_missing_source_cannot_be_watched(pulse_server: PulseServer) -> None:
    with pytest.raises(LookupError):
        PulseSourceWatch.connect("no-such-source.monitor")


def test_close_ends_the_thread_and_can_be_repeated(pulse_server: PulseServer) -> None:
    sink = pulse_server.load_sink("vclosed")
    try:
        watch = PulseSourceWatch.connect(sink.monitor)
        assert watch is not None
        watch.close()
        assert not watch.thread.is_alive() and not watch.is_present()
        watch.close()
    finally:
        pulse_server.unload(sink)
