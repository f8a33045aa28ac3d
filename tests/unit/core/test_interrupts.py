"""Stop signals: inside `stop_signals()`, SIGINT and SIGTERM raise Interrupted in the main thread (once);
a second one kills the children and exits at once with 128 + the signal; outside it nothing changes."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

import pytest

from baseimages.core.interrupts import Interrupted, exit_code_of, signal_of, stop_signals


def test_exit_codes_are_128_plus_the_signal():
    assert exit_code_of(signal.SIGINT) == 130 and exit_code_of(signal.SIGTERM) == 143
    assert signal_of(KeyboardInterrupt()) is signal.SIGINT  # Python's own Ctrl-C
    assert signal_of(Interrupted(signal.SIGTERM)) is signal.SIGTERM


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_raises_interrupted_knowing_its_signal(sig):
    exits: list[int] = []
    with pytest.raises(Interrupted) as caught, stop_signals(exit=exits.append):
        os.kill(os.getpid(), sig)
        time.sleep(5)  # the handler runs at once, in this (the main) thread
    assert caught.value.signum == sig and isinstance(caught.value, KeyboardInterrupt)
    assert exits == []


def test_a_second_signal_while_stopping_kills_the_children_and_exits_at_once():
    exits: list[int] = []
    forced: list[signal.Signals] = []
    child = subprocess.Popen(["sleep", "60"])
    try:
        with stop_signals(on_force=forced.append, exit=exits.append):
            try:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
            except Interrupted:
                os.kill(os.getpid(), signal.SIGINT)  # while the first is being handled
                time.sleep(0.05)
        assert exits == [130] and forced == [signal.SIGINT]
        assert child.wait(timeout=5) == -signal.SIGKILL
    finally:
        child.kill()
        child.wait()


def test_the_previous_handlers_are_back_after_it():
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    with stop_signals():
        assert signal.getsignal(signal.SIGTERM) is not before[0]
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_off_the_main_thread_it_installs_nothing():
    seen: list[object] = []

    def worker() -> None:
        with stop_signals():
            seen.append(signal.getsignal(signal.SIGTERM))

    before = signal.getsignal(signal.SIGTERM)
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [before]
