"""Build logs: each image's whole buildx output in a file of its own (`--log-dir`), and the excerpt of a
failed build that a person reads (the failing step's last lines and buildx's error block), not the
whole stream.

buildx's plain progress interleaves every step ("vertex") of every platform, each line prefixed with
`#N`; a failing step ends in `#N ERROR: ...`, and buildx then repeats the step's last output between
`------` rules, the Dockerfile lines around it and a final `ERROR: failed to solve: ...`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..core.errors import ConfigError

STEP_LINES = 20  # of the failing step's own output
AROUND_LINES = 15  # before an ERROR line that names no step
MAX_LINES = 80

_STEP_ERROR = re.compile(r"^#(\d+) ERROR\b")
_DOCKERFILE_STEP = re.compile(r"^#(\d+) \[[^\]]*\b\d+/\d+\] (?P<instruction>\S+)")
_STEP_CACHED = re.compile(r"^#(\d+) CACHED\s*$")
_STEP_LINE = re.compile(r"^#(\d+) ")


def error_excerpt(lines: Sequence[str]) -> str:
    """The lines of a failed build's output that say why: the failing step's header and last lines, then
    everything from buildx's error block on. Without a failing step: the lines around the last ERROR;
    without any: the last lines."""
    lines = [line.rstrip() for line in lines]
    failing = next((m.group(1) for line in lines if (m := _STEP_ERROR.match(line))), None)
    if failing is not None:
        prefix = f"#{failing} "
        step = [i for i, line in enumerate(lines) if line.startswith(prefix)]
        error_at = next(i for i in step if _STEP_ERROR.match(lines[i]))
        own = [i for i in step if i <= error_at]
        chosen = own[:1] + [i for i in own[-STEP_LINES:] if i != own[0]]
        block = next((i for i in range(error_at + 1, len(lines)) if lines[i].startswith("------")), None)
        if block is None:  # no summary block: the final ERROR line(s)
            block = next((i for i in range(error_at + 1, len(lines)) if "ERROR" in lines[i]), len(lines))
        picked = [lines[i] for i in chosen] + lines[block:]
        return "\n".join(picked[-MAX_LINES:] if len(picked) > MAX_LINES else picked)
    last_error = next((i for i in range(len(lines) - 1, -1, -1) if "ERROR" in lines[i]), None)
    if last_error is not None:
        start = max(0, last_error - AROUND_LINES)
        return "\n".join(lines[start:][:MAX_LINES])
    return "\n".join(lines[-AROUND_LINES * 2 :])


class BuildLogs:
    """An observer of build lines (`Factory(on_build_line=...)`): DIRECTORY/<image>.log per image, the
    whole buildx output of its builds (the image's and its contract service's), overwritten per run."""

    def __init__(self, directory: Path, flag: str = "--log-dir") -> None:
        self.directory = directory
        self._flag = flag
        self._files: dict[str, TextIO] = {}  # open while the run goes
        self._written: dict[str, Path] = {}
        self._lock = threading.Lock()

    def prepare(self) -> None:
        """Create the directory before the run, so that a directory that cannot be made fails nothing later."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(self._flag, str(self.directory), f"cannot create it: {exc}") from None

    def path(self, image: str) -> Path:
        return self.directory / f"{image}.log"

    def line(self, image: str, line: str) -> None:
        with self._lock:
            handle = self._files.get(image)
            if handle is None:
                handle = self._files[image] = self._open(image)
                self._written[image] = self.path(image)
            handle.write(line.rstrip("\n") + "\n")
            handle.flush()

    def written(self) -> dict[str, Path]:
        """The logs written in this run, by image (closed or not)."""
        with self._lock:
            return dict(self._written)

    def close(self) -> None:
        with self._lock:
            for handle in self._files.values():
                handle.close()
            self._files.clear()

    def _open(self, image: str) -> TextIO:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            return self.path(image).open("w", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(self._flag, str(self.directory), f"cannot write a build log there: {exc}") from None


def cached_steps(lines: Sequence[str]) -> tuple[int, int]:
    """How many of a build's Dockerfile steps BuildKit found CACHED, of how many, from its plain progress
    LINES (`#N [stage 2/5] RUN ...`, then `#N CACHED`). FROM steps are left out: a base is resolved, not
    built."""
    steps: set[str] = set()
    cached: set[str] = set()
    for line in lines:
        if (step := _DOCKERFILE_STEP.match(line)) is not None and step["instruction"].upper() != "FROM":
            steps.add(step.group(1))
        elif (hit := _STEP_CACHED.match(line)) is not None:
            cached.add(hit.group(1))
    return len(steps & cached), len(steps)
