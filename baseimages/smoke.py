"""Smoke tests: run an image's declared checks on one platform and return the results as data.

Command tests run the command with the entrypoint replaced (as container-structure-test does) and
check exit code, stdout/stderr regexes and excluded output. File tests check existence and
permission bits with one probe container. Metadata tests compare the image config (env, labels,
user, workdir) of that platform. Non-native platforms run under QEMU like any other.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Mapping
from typing import Any

from .catalog import CommandTest, MetadataTest, SmokeSpec
from .engine import Engine, RunRequest
from .report import CheckResult, PlatformResult, Status

ConfigLookup = Callable[[str], Mapping[str, Any] | None]  # platform -> image config ("config" section)

# Prints "<path>\t<octal mode>" or "<path>\t-" per argument. Needs only sh and stat (coreutils/busybox).
_PROBE = (
    'for p in "$@"; do if [ -e "$p" ] || [ -L "$p" ]; then printf "%s\\t%s\\n" "$p" "$(stat -c %a "$p")"; '
    'else printf "%s\\t-\\n" "$p"; fi; done'
)
_OUTPUT_LIMIT = 400


def run_smoke(
    engine: Engine,
    image: str,
    spec: SmokeSpec,
    platform: str,
    config: Mapping[str, Any] | None = None,
    allowed_skip: str | None = None,
) -> PlatformResult:
    """Run every check of SPEC that applies to PLATFORM against IMAGE (a reference, pinned by digest).

    ALLOWED_SKIP is the catalog's reason why a check may be skipped on PLATFORM (`skips_allowed`); without
    it, a command whose `skip_if_exists` marker is in the image fails instead of being skipped."""
    started = time.monotonic()
    result = PlatformResult(platform=platform)
    found: dict[str, int | None] = {}
    probe_request = file_probe(image, spec, platform)
    if probe_request is not None:
        probe = engine.run(probe_request)
        if probe.exit_code != 0:
            result.checks.append(
                CheckResult("file probe", "file", Status.FAILED, f"probe container failed: {_clip(probe.stderr)}")
            )
            result.seconds = time.monotonic() - started
            return result
        for line in probe.stdout.splitlines():
            path, _, bits = line.partition("\t")
            found[path] = None if bits == "-" else int(bits, 8)

    for test in spec.files:
        mode = found.get(test.path)
        exists = mode is not None
        name = f"{test.path} {'exists' if test.exists else 'is absent'}"
        if exists != test.exists:
            result.checks.append(CheckResult(name, "file", Status.FAILED, "present" if exists else "missing"))
        elif test.exists and test.mode is not None and mode is not None and (mode & 0o7777) != test.mode:
            result.checks.append(
                CheckResult(f"{test.path} mode {test.mode:04o}", "file", Status.FAILED, f"mode is {mode:04o}")
            )
        else:
            result.checks.append(CheckResult(name, "file", Status.PASSED))

    for command in spec.commands:
        if command.platforms and platform not in command.platforms:
            continue
        if command.skip_if_exists and found.get(command.skip_if_exists) is not None:
            marker = engine.run(RunRequest(image, ["cat", command.skip_if_exists], platform)).stdout.strip()
            result.checks.append(skip_check(command.name, "command", command.skip_if_exists, marker, allowed_skip))
            continue
        result.checks.append(_run_command(engine, image, command, platform))

    if spec.metadata is not None:
        result.checks.extend(check_metadata(spec.metadata, config))
    result.seconds = time.monotonic() - started
    return result


def skip_check(name: str, kind: str, path: str, marker: str, allowed_skip: str | None) -> CheckResult:
    """The result of a check whose skip marker PATH (content MARKER) is in the image: skipped where the
    catalog allows it (ALLOWED_SKIP is its reason), failed anywhere else."""
    said = marker or f"{path} exists in the image"
    if allowed_skip is not None:
        return CheckResult(name, kind, Status.SKIPPED, f"{said} (allowed here: {allowed_skip})")
    problem = f"would be skipped ({said}), but image.yaml's skips_allowed does not name this platform"
    return CheckResult(name, kind, Status.FAILED, problem)


def file_probe(image: str, spec: SmokeSpec, platform: str) -> RunRequest | None:
    """The one container run that checks every path the file tests and skip conditions name."""
    paths = sorted({f.path for f in spec.files} | {c.skip_if_exists for c in spec.commands if c.skip_if_exists})
    return RunRequest(image, ["sh", "-c", _PROBE, "sh", *paths], platform) if paths else None


def command_runs(image: str, spec: SmokeSpec, platform: str) -> list[RunRequest]:
    """The command-test runs on PLATFORM (before skips decided at run time)."""
    return [
        RunRequest(image, list(test.command), platform)
        for test in spec.commands
        if not test.platforms or platform in test.platforms
    ]


def _run_command(engine: Engine, image: str, test: CommandTest, platform: str) -> CheckResult:
    started = time.monotonic()
    request = RunRequest(image, list(test.command), platform)
    run = engine.run(request)
    problems: list[str] = []
    if run.exit_code != test.exit_code:
        problems.append(f"exit code {run.exit_code}, expected {test.exit_code}")
    for label, pattern, text, must in (
        ("stdout", test.stdout, run.stdout, True),
        ("stderr", test.stderr, run.stderr, True),
        ("stdout", test.stdout_excludes, run.stdout, False),
        ("stderr", test.stderr_excludes, run.stderr, False),
    ):
        if pattern is None:
            continue
        matched = re.search(pattern, text, re.MULTILINE) is not None
        if must and not matched:
            problems.append(f"{label} does not match /{pattern}/")
        elif not must and matched:
            problems.append(f"{label} matches excluded /{pattern}/")
    seconds = time.monotonic() - started
    if not problems:
        return CheckResult(test.name, "command", Status.PASSED, _clip(run.stdout.strip()), seconds)
    detail = (
        "; ".join(problems)
        + f" [$ {shlex.join(test.command)}] stdout: {_clip(run.stdout)!r} stderr: {_clip(run.stderr)!r}"
    )
    return CheckResult(test.name, "command", Status.FAILED, detail, seconds)


def check_metadata(test: MetadataTest, config: Mapping[str, Any] | None) -> list[CheckResult]:
    """Compare an image config's `config` section (Env, Labels, User, WorkingDir) with TEST."""
    if config is None:
        return [CheckResult("image config", "metadata", Status.FAILED, "image config could not be read")]
    out: list[CheckResult] = []
    env = dict(item.partition("=")[::2] for item in (config.get("Env") or []))
    for key, want in test.env.items():
        got = env.get(key)
        out.append(_compare(f"env {key}", got, want))
    labels = config.get("Labels") or {}
    for key, want in test.labels.items():
        out.append(_compare(f"label {key}", labels.get(key), want))
    if test.user is not None:
        out.append(_compare("user", config.get("User") or "", test.user))
    if test.workdir is not None:
        out.append(_compare("workdir", config.get("WorkingDir") or "", test.workdir))
    return out


def _compare(name: str, got: str | None, want: str) -> CheckResult:
    if got == want:
        return CheckResult(name, "metadata", Status.PASSED, want)
    return CheckResult(name, "metadata", Status.FAILED, f"is {got!r}, expected {want!r}")


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _OUTPUT_LIMIT else text[:_OUTPUT_LIMIT] + "..."
