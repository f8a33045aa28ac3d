"""What the check runner (baseimages.checks.runner) would print, for fakes of the engine: its arguments
decoded, each path probed in a dict of files, each check answered by a function, the document framed as
the runner frames it. tests/unit/test_check_runner.py runs the real script; this only stands in for it."""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from baseimages.checks.runner import HEADER, SCRIPT
from baseimages.engine.client import RunResult

Respond = Callable[[tuple[str, ...]], RunResult]
Files = Mapping[str, tuple[int, str]]  # path -> (permission bits, content) of what exists in the image


def is_runner(command: Sequence[str]) -> bool:
    return len(command) >= 4 and tuple(command[:2]) == ("sh", "-c") and command[2] == SCRIPT


def decode_args(args: Sequence[str]) -> tuple[list[str], list[str], list[tuple[str, tuple[str, ...]]]]:
    """The runner's arguments as (paths, markers, [(marker or "", command argv)])."""
    args = list(args)
    count = int(args.pop(0))
    paths, args = args[:count], args[count:]
    count = int(args.pop(0))
    markers, args = args[:count], args[count:]
    checks = [(args[i], tuple(shlex.split(args[i + 1]))) for i in range(0, len(args), 2)]
    return paths, markers, checks


def answer(command: Sequence[str], respond: Respond, files: Files | None = None) -> RunResult:
    """The runner's run for COMMAND (`sh -c SCRIPT NAME ARGS...`)."""
    return RunResult(0, document(command[4:], respond, files or {}), "")


def document(args: Sequence[str], respond: Respond, files: Files) -> str:
    paths, markers, checks = decode_args(args)
    lines = [f"{HEADER} b64"]
    for path in paths:
        lines.append(f"path {_b64(path)} {format(files[path][0], 'o') if path in files else '-'}")
    for path in markers:
        if path in files:
            lines.append(f"marker {_b64(path)} {_b64(files[path][1])}")
    for index, (marker, argv) in enumerate(checks):
        if marker and marker in files:
            lines.append(f"skip {index}")
            continue
        run = respond(argv)
        lines.append(f"check {index} {run.exit_code} 100.00 100.25 {_b64(run.stdout)} {_b64(run.stderr)}")
    lines.append(f"end {len(checks)}")
    return "\n".join(lines) + "\n"


def answer_build(
    dockerfile: Path, dest: Path, platforms: Sequence[str], respond: Callable[[str, tuple[str, ...]], RunResult]
) -> None:
    """Write what a contract build's `type=local` output holds: per platform (a folder each when there
        are several), the runner's stdout, stderr and exit code, the checks read from the Dockerfile's RUN and
    answered by RESPOND(platform, argv)."""
    run_line = next(line for line in dockerfile.read_text().splitlines() if line.startswith('RUN ["sh"'))
    argv = json.loads(run_line[len("RUN ") :])
    runner_args = argv[argv.index(SCRIPT) + 1 :]
    for platform in platforms:
        folder = dest / platform.replace("/", "_") if len(platforms) > 1 else dest
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "stdout").write_text(document(runner_args, lambda argv, p=platform: respond(p, argv), {}))
        (folder / "stderr").write_text("")
        (folder / "exit").write_text("0\n")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
