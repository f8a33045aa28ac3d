"""A real `python -m baseimages push` as a subprocess that a test watches and kills, and what it left.

The run gets a session of its own (`start_new_session`), so that every process it started (buildx,
docker, cosign, cdxgen) can be found after its death by its session id, even once reparented. Its
progress lines (one per image and phase on stderr, which is not a terminal) are collected as they
come, so that a test can wait for the line that says a stage started and kill the run there.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from baseimages.core.runs import RUN_LABEL  # what each container of a run carries: PID@HOST:STARTED of its run


@dataclass
class Lab:
    """Where runs of one test module push: a project, the registry (a proxy's address) and namespace."""

    project: Path
    registry: str
    namespace: str
    tmp: Path  # TMPDIR of every run: its work folders land here, and only the lab's runs use it

    def argv(self, *extra: str, report: Path | None = None) -> list[str]:
        argv = [sys.executable, "-m", "baseimages", "push", "--project", str(self.project)]
        argv += ["--registry", self.registry, "--namespace", self.namespace, "--no-build-cache"]
        argv += ["--lock-dir", str(self.tmp.parent / "locks"), *extra]
        return argv + (["--report", str(report)] if report is not None else [])

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BASEIMAGES_")}
        return {**env, "TMPDIR": str(self.tmp), "NO_COLOR": "1", **extra}


@dataclass
class Watched:
    """A started run: its stderr lines as they arrive, and its process."""

    process: subprocess.Popen[str]
    started: float
    lines: list[str] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)
    killed_at: float | None = None

    @classmethod
    def start(cls, argv: list[str], env: dict[str, str]) -> Watched:
        process = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        watched = cls(process, time.monotonic())
        assert process.stderr is not None and process.stdout is not None
        threading.Thread(target=_collect, args=(process.stderr, watched.lines), daemon=True).start()
        threading.Thread(target=_collect, args=(process.stdout, watched.stdout), daemon=True).start()
        return watched

    def wait_line(self, pattern: str, timeout: float) -> str:
        """The first stderr line that matches PATTERN; fails when the run ends or TIMEOUT passes first."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            for line in self.lines[seen:]:
                if compiled.search(line):
                    return line
            seen = len(self.lines)
            if self.process.poll() is not None and seen == len(self.lines):
                time.sleep(0.3)  # the last lines may still be in the pipe
                if not any(compiled.search(line) for line in self.lines[seen:]):
                    raise AssertionError(f"the run ended (exit {self.process.returncode}) before {pattern!r}:\n"
                                         + self.said())  # fmt: skip
            time.sleep(0.05)
        raise AssertionError(f"no line {pattern!r} within {timeout} s:\n" + self.said())

    def kill(self) -> None:
        """SIGKILL the run's own process (not its children: they are what the test looks for afterwards)."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.killed_at = time.monotonic() - self.started
        self.process.wait(timeout=30)

    @property
    def pid(self) -> int:
        return self.process.pid

    def said(self) -> str:
        return "\n".join(self.lines[-40:])

    def survivors(self) -> list[str]:
        """The processes of the run's session still alive (`pid args`), the run itself excluded."""
        listed = subprocess.run(["ps", "-eo", "pid=,sid=,stat=,args="], capture_output=True, text=True, check=True)
        alive = []
        for line in listed.stdout.splitlines():
            pid, sid, stat, *args = line.split(None, 3)
            if int(sid) == self.process.pid and int(pid) != self.process.pid and not stat.startswith("Z"):
                alive.append(f"{pid} {' '.join(args)}")
        return alive

    def end_survivors(self) -> None:
        """Cleanup after the assertions: SIGKILL what is left of the run's own process group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _collect(stream: object, into: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.append(line.rstrip("\n"))


def _containers() -> list[list[str]]:
    """Every container (any state) as [name, image, status]."""
    listed = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}\t{{.Image}}\t{{.Status}}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [line.split("\t") for line in listed.stdout.splitlines() if line.strip()]


def containers_of(prefix: str) -> list[str]:
    """Containers (any state) whose image is under PREFIX (`registry/namespace/`): `name image status`."""
    rows = _containers()
    return [" ".join(row) for row in rows if len(row) == 3 and row[1].startswith(prefix)]


def containers_of_run(pid: int) -> list[str]:
    """Containers (any state) labelled as made by the run of process PID: `name image status`."""
    listed = subprocess.run(
        ["docker", "ps", "-a", "--filter", f"label={RUN_LABEL}",
         "--format", f'{{{{.Names}}}}\t{{{{.Image}}}}\t{{{{.Status}}}}\t{{{{.Label "{RUN_LABEL}"}}}}'],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    rows = [line.split("\t") for line in listed.stdout.splitlines() if line.strip()]
    return [" ".join(row[:3]) for row in rows if len(row) == 4 and row[3].startswith(f"{pid}@")]


def by_name(*listings: list[str]) -> list[str]:
    """The containers of LISTINGS (`name image status`), each once (the first listing that names it wins)."""
    seen: dict[str, str] = {}
    for listing in listings:
        for row in listing:
            seen.setdefault(row.split()[0], row)
    return sorted(seen.values())


def still_there(names: list[str]) -> list[str]:
    """Which of the containers NAMES still exist (a container whose image tag moved on is listed by image
    id, not by name, so the containers a killed run left are followed by their names)."""
    wanted = {name.split()[0] for name in names}
    return [" ".join(row) for row in _containers() if row[0] in wanted]


def remove_containers(names: list[str]) -> None:
    for name in names:
        subprocess.run(["docker", "rm", "-f", name.split()[0]], capture_output=True, timeout=60)


def work_folders(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("baseimages-*"))


def remove_local_images(prefix: str) -> None:
    """Remove the refs under PREFIX (`registry/namespace/`, names only these tests use) from the engine's store."""
    listed = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True, timeout=120
    )
    for ref in sorted({ref for ref in listed.stdout.split() if ref.startswith(prefix) and not ref.endswith(":<none>")}):
        subprocess.run(["docker", "image", "rm", ref], capture_output=True, timeout=120)
