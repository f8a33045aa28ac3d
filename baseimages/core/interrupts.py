"""Stop signals: SIGINT (Ctrl-C) and SIGTERM (what CI runners, systemd and Kubernetes send) stop a run
the same way, and a second one ends the process at once.

Python turns SIGINT into KeyboardInterrupt in the main thread; that is the mechanism the run stops by (no
stage starts any more, so no tag moves; the docker and buildx children are stopped; the report is
written). `stop_signals()` extends it to SIGTERM: inside it, either signal raises `Interrupted`, a
KeyboardInterrupt that knows its signal, so that the exit code can be 128 + the signal (130, 143).

A second signal while the first is being handled does not wait for anything: the children are killed
(SIGKILL), ON_FORCE is told, and the process ends with 128 + the signal. What it leaves (containers,
temporary folders, the lock file) is what a SIGKILL leaves, and the next run removes it.

The library installs no handler by itself: the CLI enters `stop_signals()` around each command, and a
program that uses the library may do the same. Handlers can only be installed from the main thread;
elsewhere `stop_signals()` changes nothing. The previous handlers are restored when it exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from .process import signal_children

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """A stop signal, raised in the main thread by `stop_signals()`'s handler."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signal_of(exc: BaseException) -> signal.Signals:
    """The signal a KeyboardInterrupt stands for: its own (`Interrupted`), else SIGINT (Python's Ctrl-C)."""
    return signal.Signals(getattr(exc, "signum", signal.SIGINT))


def exit_code_of(signum: int) -> int:
    """The shell's exit code of a process a signal ended: 128 + the signal (SIGINT 130, SIGTERM 143)."""
    return 128 + int(signum)


class _Handler:
    def __init__(self, on_force: Callable[[signal.Signals], None] | None, exit: Callable[[int], None]) -> None:
        self.received: signal.Signals | None = None
        self.on_force = on_force
        self.exit = exit

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        sig = signal.Signals(signum)
        if self.received is None:
            self.received = sig
            raise Interrupted(sig)
        # A second signal while stopping: nothing more is waited for.
        signal_children(signal.SIGKILL)
        if self.on_force is not None:
            with contextlib.suppress(Exception):
                self.on_force(sig)
        self.exit(exit_code_of(sig))


@contextlib.contextmanager
def stop_signals(
    on_force: Callable[[signal.Signals], None] | None = None, exit: Callable[[int], None] = os._exit
) -> Iterator[None]:
    """Inside: SIGINT and SIGTERM raise `Interrupted` in the main thread (once); a second one kills the
    children, calls ON_FORCE with the signal (e.g. to say so) and ends the process at once through EXIT
    (default `os._exit`: no clean-up, no waiting for threads) with 128 + the signal."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = _Handler(on_force, exit)
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)


__all__ = ["STOP_SIGNALS", "Interrupted", "exit_code_of", "signal_of", "stop_signals"]
