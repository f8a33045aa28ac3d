"""The check runner: one POSIX shell process that runs all of a platform's checks, in one container (smoke
tests) or in one `RUN` step of a build (contracts), and writes what it saw as a framed document.

It needs only `sh` and coreutils or busybox (`stat`, `cat`, `base64` or `od`, `tr`), never Python. It
probes each path it is given (does it exist, its permission bits), reads each skip marker that exists,
then runs each check in a subshell of its own, `exec`ing the check's command (so the check is that
process, with the image's environment, working directory and user, stdin from /dev/null) and recording
its exit code, its stdout and stderr (kept in files, apart) and its seconds. A check whose skip marker
exists does not run.

The document on the runner's stdout, one record per line, every free-form field base64 (or hex where the
image has no `base64`), so that no byte a check prints can break or fake the frame:

    baseimages-check-runner 1 b64|hex
    path <path> <octal mode or ->
    marker <path> <content>                 (only markers that exist)
    skip <i>                                (check i not run: its marker exists)
    check <i> <exit> <start> <end> <stdout> <stderr>
    end <number of checks>

A document without its end line, or with a record cut short, is incomplete: `parse_output` says so
(`RunnerOutput.problem`) and keeps what was complete; a caller fails the checks it has no result for.
"""

from __future__ import annotations

import base64
import binascii
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..engine.requests import RunRequest

HEADER = "baseimages-check-runner 1"
NAME = "baseimages-checks"  # the runner's $0

# Arguments: <n> PATH... <m> MARKER... then one (MARKER or "", COMMAND as shell words) pair per check.
# One line (so that `--dry-run` prints each run on one line): each fragment ends where `;` or a keyword may.
SCRIPT = " ".join(
    (
        "set -u;",
        "T=${TMPDIR:-/tmp}/baseimages-checks.$$;",
        'mkdir -m 700 "$T" 2>/dev/null || T=/dev/shm/baseimages-checks.$$;',
        'mkdir -m 700 -p "$T" || { echo "baseimages check runner: no writable temporary folder" >&2; exit 70; };',
        "trap 'rm -rf \"$T\"' EXIT;",
        "if command -v base64 >/dev/null 2>&1; then E=b64; else E=hex; fi;",
        "enc() { if [ \"$E\" = b64 ]; then base64 | tr -d '\\n'; else od -An -v -tx1 | tr -d ' \\n'; fi; };",
        'now() { if read -r up _ 2>/dev/null </proc/uptime; then printf %s "$up"; else date +%s; fi; };',
        'there() { [ -e "$1" ] || [ -L "$1" ]; };',
        "printf 'baseimages-check-runner 1 %s\\n' \"$E\";",
        "n=$1; shift;",
        'while [ "$n" -gt 0 ]; do',
        'if there "$1"; then m=$(stat -c %a "$1" 2>/dev/null) || m=\'?\'; else m=-; fi;',
        "printf 'path '; printf %s \"$1\" | enc; printf ' %s\\n' \"$m\";",
        "n=$((n - 1)); shift;",
        "done;",
        "n=$1; shift;",
        'while [ "$n" -gt 0 ]; do',
        'if there "$1"; then',
        "printf 'marker '; printf %s \"$1\" | enc; printf ' '; { cat \"$1\" 2>/dev/null || :; } | enc; printf '\\n';",
        "fi;",
        "n=$((n - 1)); shift;",
        "done;",
        "i=0;",
        "while [ $# -ge 2 ]; do",
        'if [ -n "$1" ] && there "$1"; then',
        "printf 'skip %d\\n' \"$i\";",
        "else",
        "s=$(now);",
        '( eval "exec $2" ) </dev/null >"$T/out" 2>"$T/err";',
        "c=$?;",
        "e=$(now);",
        'printf \'check %d %d %s %s \' "$i" "$c" "$s" "$e";',
        "enc <\"$T/out\"; printf ' '; enc <\"$T/err\"; printf '\\n';",
        "fi;",
        "i=$((i + 1)); shift 2;",
        "done;",
        "printf 'end %d\\n' \"$i\"",
    )
)


@dataclass(frozen=True)
class RunnerCheck:
    """One command check as the runner gets it: the argv to exec, and the marker that skips it."""

    command: tuple[str, ...]
    skip_if_exists: str | None = None


@dataclass(frozen=True)
class CheckRun:
    """What the runner recorded for one check that ran."""

    exit_code: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class RunnerOutput:
    """The parsed document: PATHS (path -> permission bits, None when absent; a path whose mode could not
    be read is absent from it), MARKERS (the content of each marker that exists), RUNS (check index ->
    its run) and SKIPPED (indexes not run). PROBLEM is non-empty when the document is incomplete."""

    paths: dict[str, int | None] = field(default_factory=dict)
    markers: dict[str, str] = field(default_factory=dict)
    runs: dict[int, CheckRun] = field(default_factory=dict)
    skipped: set[int] = field(default_factory=set)
    count: int = 0  # the number of checks the end line says the runner went through
    problem: str = ""


def runner_args(paths: Sequence[str], markers: Sequence[str], checks: Sequence[RunnerCheck]) -> list[str]:
    """The runner's arguments (after `sh -c SCRIPT NAME`)."""
    args = [str(len(paths)), *paths, str(len(markers)), *markers]
    for check in checks:
        args += [check.skip_if_exists or "", shlex.join(check.command)]
    return args


def runner_command(paths: Sequence[str], markers: Sequence[str], checks: Sequence[RunnerCheck]) -> list[str]:
    """The whole argv: `sh -c SCRIPT baseimages-checks ARGS...`."""
    return ["sh", "-c", SCRIPT, NAME, *runner_args(paths, markers, checks)]


def runner_request(
    image: str, platform: str, paths: Sequence[str], markers: Sequence[str], checks: Sequence[RunnerCheck]
) -> RunRequest:
    """The one container run of the runner in IMAGE on PLATFORM."""
    return RunRequest(image, runner_command(paths, markers, checks), platform)


def parse_output(text: str) -> RunnerOutput:
    """Read the runner's document; what is complete is kept, and PROBLEM says what is not."""
    out = RunnerOutput()
    lines = text.split("\n")
    first = lines[0].split(" ") if len(lines) > 1 else []
    if len(first) != 3 or " ".join(first[:2]) != HEADER or first[2] not in ("b64", "hex"):
        out.problem = "the check runner's output was incomplete: it has no header (the runner did not start)"
        return out
    decode = _b64 if first[2] == "b64" else _hex
    # Only whole lines count: what follows the last newline was cut short.
    for number, line in enumerate(lines[1:-1], start=2):
        words = line.split(" ")
        try:
            if words[0] == "end" and len(words) == 2:
                out.count = int(words[1])
                return out
            _record(out, words, decode)
        except (ValueError, IndexError):
            out.problem = f"the check runner's output was incomplete: line {number} is not a whole record"
            return out
    out.problem = "the check runner's output was incomplete: it has no end marker (the runner stopped early)"
    return out


def _record(out: RunnerOutput, words: list[str], decode: Callable[[str], bytes]) -> None:
    kind = words[0]
    if kind == "path" and len(words) == 3:
        mode = words[2]
        path = decode(words[1]).decode(errors="replace")
        if mode != "?":
            out.paths[path] = None if mode == "-" else int(mode, 8)
    elif kind == "marker" and len(words) == 3:
        out.markers[decode(words[1]).decode(errors="replace")] = decode(words[2]).decode(errors="replace")
    elif kind == "skip" and len(words) == 2:
        out.skipped.add(int(words[1]))
    elif kind == "check" and len(words) == 7:
        stdout, stderr = (decode(w).decode(errors="replace") for w in words[5:7])
        seconds = max(0.0, float(words[4]) - float(words[3]))
        out.runs[int(words[1])] = CheckRun(int(words[2]), stdout, stderr, seconds)
    else:
        raise ValueError(kind)


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(str(exc)) from None


def _hex(text: str) -> bytes:
    return bytes.fromhex(text)
