"""What every results file of the benchmarks carries: the commit measured (and whether the checkout had
uncommitted changes), the UTC date, the machine (hostname, cores, memory, kernel), and the Docker client,
server and buildx versions. One helper for every script that writes a results file, and for the tests
that record measurements (they write theirs to a temporary file, never over a committed one).

    meta = metadata()                      # once per run, before or after the measurements
    write_results(path, {"scenarios": ...}, meta)
    describe(data)                         # the "Measured ..." line of a results file, old or new
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
UNKNOWN = "?"

Runner = Callable[[Sequence[str]], "str | None"]  # a command's stdout, None when it failed or is missing


def run_command(argv: Sequence[str]) -> str | None:
    """ARGV's stdout, stripped; None when it cannot be run or exits non-zero."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def commit(run: Runner = run_command, root: Path = ROOT) -> dict[str, Any]:
    """The checkout's HEAD and whether tracked files differ from it (`dirty`): measurements of a dirty
    checkout are of code no commit holds."""
    sha = run(["git", "-C", str(root), "rev-parse", "HEAD"])
    status = run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"])
    return {"sha": sha or UNKNOWN, "dirty": None if status is None else bool(status)}


def memory_gib(meminfo: str) -> float | None:
    """MemTotal of a /proc/meminfo text, in GiB (one decimal)."""
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def machine(meminfo_path: Path = Path("/proc/meminfo")) -> dict[str, Any]:
    try:
        memory = memory_gib(meminfo_path.read_text())
    except OSError:
        memory = None
    return {
        "hostname": socket.gethostname(),
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "kernel": platform.release(),
    }


def tool_versions(run: Runner = run_command) -> dict[str, str]:
    """Docker's client and server versions and buildx's (its version word: `github.com/docker/buildx
    0.13.1 ...` gives 0.13.1)."""
    client = run(["docker", "version", "--format", "{{.Client.Version}}"])
    server = run(["docker", "version", "--format", "{{.Server.Version}}"])
    buildx = run(["docker", "buildx", "version"])
    words = (buildx or "").split()
    return {
        "docker_client": client or UNKNOWN,
        "docker_server": server or UNKNOWN,
        "buildx": words[1] if len(words) > 1 else UNKNOWN,
    }


def metadata(
    run: Runner = run_command,
    now: dt.datetime | None = None,
    meminfo_path: Path = Path("/proc/meminfo"),
    root: Path = ROOT,
) -> dict[str, Any]:
    """Everything a results file records about where and on what it was measured; the commit is ROOT's
    (the checkout whose code was measured: this one unless a script measures another)."""
    moment = now or dt.datetime.now(dt.UTC)
    return {
        "commit": commit(run, root),
        "date": moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(meminfo_path),
        "versions": tool_versions(run),
    }


def write_results(path: Path, payload: Mapping[str, Any], meta: Mapping[str, Any]) -> Path:
    """PAYLOAD as JSON at PATH, with META under "meta" (first, so that a reader sees it first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": dict(meta), **payload}, indent=2) + "\n")
    return path


def describe(data: Mapping[str, Any]) -> str:
    """The one line that says when, at which commit and on what a results file's figures were measured.
    Files written before the metadata existed carry only a "machine" entry: the line says what they lack."""
    meta = data.get("meta")
    if meta is None:
        old = data.get("machine", {})
        return (
            f"Measured {old.get('date', UNKNOWN)} on {old.get('cores', UNKNOWN)} cores, "
            f"{old.get('memory_gib', UNKNOWN)} GiB, Docker {old.get('docker', UNKNOWN)}, buildx "
            f"{old.get('buildx', UNKNOWN)}; this file records no commit."
        )
    head, box, versions = meta["commit"], meta["machine"], meta["versions"]
    dirty = " with uncommitted changes" if head.get("dirty") else ""
    return (
        f"Measured {meta['date']} at commit {str(head['sha'])[:12]}{dirty} on {box['hostname']}: "
        f"{box['cores']} cores, {box['memory_gib']} GiB, kernel {box['kernel']}, Docker client "
        f"{versions['docker_client']}, server {versions['docker_server']}, buildx {versions['buildx']}."
    )
