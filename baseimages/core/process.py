"""The one place that starts a process other than Docker's (which python-on-whales runs): git for the
revision labels, cosign for signatures and attestations. Secrets go through the environment or stdin,
never on a command line. Also the children of this process, to stop them (`signal_children`)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finished:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def last_line(self) -> str:
        """The last non-empty line of stderr (else stdout): what a one-line error quotes."""
        for text in (self.stderr, self.stdout):
            lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
            if lines:
                return lines[-1]
        return f"exit {self.returncode}, no output"


def run_process(
    argv: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 300.0, stdin: str | None = None
) -> Finished:
    """Run ARGV to its end; ENV is added to this process's environment. A program that cannot be
    started or does not finish in time is a Finished with returncode 127 or 124 and the reason."""
    full_env = {**os.environ, **env} if env else None
    try:
        done = subprocess.run(
            list(argv), env=full_env, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        return Finished(tuple(argv), 127, "", f"{argv[0]}: not installed (not on PATH)")
    except subprocess.TimeoutExpired:
        return Finished(tuple(argv), 124, "", f"{argv[0]}: did not finish within {timeout:g} s")
    except OSError as exc:
        return Finished(tuple(argv), 126, "", f"{argv[0]}: cannot run: {exc}")
    return Finished(tuple(argv), done.returncode, done.stdout, done.stderr)


def children_of(pid: int) -> list[int]:
    """The process ids whose parent is PID (read from /proc; none without it)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid):
            out.append(int(stat.parent.name))
    return out


def signal_children(signum: int) -> None:
    """Send SIGNUM to the processes this one started (docker, buildx, cosign)."""
    for child in children_of(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(child, signum)


def git_output(root: Path, *args: str) -> str:
    """`git -C ROOT ARGS` stdout, or "" outside a git checkout (labels are then left out)."""
    done = run_process(["git", "-C", str(root), *args], timeout=10)
    return done.stdout.strip() if done.ok else ""
