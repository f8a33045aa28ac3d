"""One run at a time per registry and namespace on this machine: an advisory file lock.

The second run waits up to `wait` seconds for the first, then refuses with a message naming the
holder. The lock is released when the run ends, however it ends (Ctrl-C included): the kernel drops
a flock with its process, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from pathlib import Path
from types import TracebackType

from .errors import BaseImagesError


class LockedError(BaseImagesError):
    """Another run holds the lock for the same registry and namespace."""

    exit_code = 5


class RunLock:
    def __init__(self, directory: Path, registry: str, namespace: str, wait: float = 0.0, what: str = "") -> None:
        self.path = directory / (re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{registry}_{namespace}") + ".lock")
        self.wait = wait
        self.what = what
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(fd)
                    os.close(fd)
                    raise LockedError(
                        f"another baseimages run holds {self.path} ({holder}); it pushes to the same registry and "
                        f"namespace. Wait for it, or pass --wait-lock SECONDS"
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "started": time.time(), "run": self.what}).encode())
        self._fd = fd
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _read_holder(fd: int) -> str:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return "holder unknown"
    started = time.strftime("%H:%M:%S", time.localtime(data.get("started", 0)))
    return f"pid {data.get('pid', '?')}, {data.get('run') or 'a run'} since {started}"
