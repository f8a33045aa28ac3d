"""Smoke tests: run an image's declared checks on one platform and return the results as data.

All of a platform's checks run in ONE container: the check runner (`baseimages.checks.runner`) probes the
paths the file tests and skip markers name, reads the skip markers, and runs each command test in its
own process (entrypoint replaced by its command, as container-structure-test does). Command tests check
the exit code, stdout/stderr regexes and excluded output; file tests existence and permission bits.
Metadata tests compare the image config (env, labels, user, workdir) of that platform. Non-native
platforms run under QEMU like any other.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

from ..catalog.spec import CommandTest, FileTest, MetadataTest, SmokeSpec
from ..core.results import CheckResult, PlatformResult, Status
from ..engine.client import Engine, RunRequest, RunResult
from .runner import CheckRun, RunnerCheck, RunnerOutput, parse_output, runner_request

ConfigLookup = Callable[[str], Mapping[str, Any] | None]  # platform -> image config ("config" section)

_OUTPUT_LIMIT = 400
NOT_RUN = "no result: the check runner stopped before it"
RUNS_WHEN_OUTPUT_LOST = 3  # runs of the check runner in all, when the engine loses its output


def run_smoke(
    engine: Engine,
    image: str,
    spec: SmokeSpec,
    platform: str,
    config: Mapping[str, Any] | None = None,
    allowed_skip: str | None = None,
    markers: MutableMapping[str, str | None] | None = None,
) -> PlatformResult:
    """Run every check of SPEC that applies to PLATFORM against IMAGE (a reference, pinned by digest), in
    one container.

    ALLOWED_SKIP is the catalog's reason why a check may be skipped on PLATFORM (`skips_allowed`); without
    it, a command whose `skip_if_exists` marker is in the image fails instead of being skipped. MARKERS:
    more marker paths to read on the way (e.g. the contract's); each is set to its content, None when the
    image does not have it (left out when the runner stopped before it)."""
    request = smoke_request(image, spec, platform, sorted(markers or {}))
    return smoke_result(engine, request, spec, platform, config, allowed_skip, markers)


def smoke_result(
    engine: Engine,
    request: RunRequest | None,
    spec: SmokeSpec,
    platform: str,
    config: Mapping[str, Any] | None = None,
    allowed_skip: str | None = None,
    markers: MutableMapping[str, str | None] | None = None,
) -> PlatformResult:
    """Run REQUEST (`smoke_request`'s for SPEC on PLATFORM, MARKERS included; None: no container) and
    judge every check of SPEC on what it recorded, as `run_smoke` does."""
    started = time.monotonic()
    result = PlatformResult(platform=platform)
    commands = applicable(spec.commands, platform)
    extra = sorted(markers or {})
    output = RunnerOutput() if request is None else run_checks(engine, request)
    result.checks.extend(check_files(spec.files, output))
    result.checks.extend(judge_commands(commands, output, allowed_skip))
    if output.problem:
        result.checks.append(CheckResult("check runner", "command", Status.FAILED, output.problem))
    if markers is not None:
        for path in extra:
            if path not in output.paths:
                del markers[path]
            else:
                markers[path] = None if output.paths[path] is None else output.markers.get(path, "")
    if spec.metadata is not None:
        result.checks.extend(check_metadata(spec.metadata, config))
    result.seconds = time.monotonic() - started
    return result


def check_names(spec: SmokeSpec, platform: str) -> list[str]:
    """The names of the checks SPEC runs on PLATFORM (file, command, then metadata checks), as a plan shows them."""
    names = [f"{f.path} {'exists' if f.exists else 'is absent'}" for f in spec.files]
    names += [c.name for c in applicable(spec.commands, platform)]
    meta = spec.metadata
    if meta is not None:
        names += [f"env {key}" for key in meta.env] + [f"label {key}" for key in meta.labels]
        names += [name for name, value in (("user", meta.user), ("workdir", meta.workdir)) if value is not None]
    return names


def applicable(commands: Sequence[CommandTest], platform: str) -> list[CommandTest]:
    """The command tests that run on PLATFORM."""
    return [c for c in commands if not c.platforms or platform in c.platforms]


def smoke_request(image: str, spec: SmokeSpec, platform: str, markers: Sequence[str] = ()) -> RunRequest | None:
    """The one container run of a platform's smoke tests (and of MARKERS, read for later stages); None
    when there is nothing to run."""
    commands = applicable(spec.commands, platform)
    if not (commands or spec.files or markers):
        return None
    skip_markers = {c.skip_if_exists for c in commands if c.skip_if_exists}
    paths = sorted({f.path for f in spec.files} | skip_markers | set(markers))
    checks = [RunnerCheck(tuple(c.command), c.skip_if_exists) for c in commands]
    return runner_request(image, platform, paths, sorted(skip_markers | set(markers)), checks)


def run_checks(engine: Engine, request: RunRequest) -> RunnerOutput:
    """Run the check runner's REQUEST and read its document. A run that the engine lost the output of
    runs again, in a new container, up to RUNS_WHEN_OUTPUT_LOST runs in all.

    The runner exits 0 only once it has written its end line, so an incomplete document with exit code 0
    was lost on its way from the container: under load dockerd waits at most 2 s after a container
    exits for its output to drain, then closes the pipe and drops the rest ("stream copy error: reading
    from a closed fifo" in its log), for `docker run` and `docker logs` alike. An incomplete document
    with any other exit code is what the runner did (it could not start, it was killed) and is kept."""
    for _ in range(RUNS_WHEN_OUTPUT_LOST):
        run = engine.run(request)
        output = runner_output(run)
        if not output.problem or run.exit_code != 0:
            return output
    output.problem += (
        f"; the runner finished (exit code 0), so the Docker engine lost its output, in each of "
        f"{RUNS_WHEN_OUTPUT_LOST} runs"
    )
    return output


def runner_output(run: RunResult) -> RunnerOutput:
    """The runner's document in RUN; when incomplete, its problem names the exit code and stderr."""
    output = parse_output(run.stdout)
    if output.problem:
        said = f"; stderr: {_clip(run.stderr)!r}" if run.stderr.strip() else ""
        output.problem += f" (exit code {run.exit_code}{said})"
    return output


def check_files(files: Sequence[FileTest], output: RunnerOutput) -> list[CheckResult]:
    """The file tests, judged on the runner's probe of their paths."""
    results = []
    for test in files:
        name = f"{test.path} {'exists' if test.exists else 'is absent'}"
        if test.path not in output.paths:
            results.append(CheckResult(name, "file", Status.FAILED, "no result: the check runner did not probe it"))
            continue
        mode = output.paths[test.path]
        exists = mode is not None
        if exists != test.exists:
            results.append(CheckResult(name, "file", Status.FAILED, "present" if exists else "missing"))
        elif test.exists and test.mode is not None and mode is not None and (mode & 0o7777) != test.mode:
            results.append(
                CheckResult(f"{test.path} mode {test.mode:04o}", "file", Status.FAILED, f"mode is {mode:04o}")
            )
        else:
            results.append(CheckResult(name, "file", Status.PASSED))
    return results


def judge_commands(
    commands: Sequence[CommandTest], output: RunnerOutput, allowed_skip: str | None, kind: str = "command"
) -> list[CheckResult]:
    """The command tests (in the order the runner got them), judged on what it recorded."""
    results = []
    for index, command in enumerate(commands):
        if index in output.skipped and command.skip_if_exists:
            marker = output.markers.get(command.skip_if_exists, "").strip()
            results.append(skip_check(command.name, kind, command.skip_if_exists, marker, allowed_skip))
        elif index in output.runs:
            results.append(judge_command(command, output.runs[index], kind))
        else:
            results.append(CheckResult(command.name, kind, Status.FAILED, NOT_RUN))
    return results


def skip_check(name: str, kind: str, path: str, marker: str, allowed_skip: str | None) -> CheckResult:
    """The result of a check whose skip marker PATH (content MARKER) is in the image: skipped where the
    catalog allows it (ALLOWED_SKIP is its reason), failed anywhere else."""
    said = marker or f"{path} exists in the image"
    if allowed_skip is not None:
        return CheckResult(name, kind, Status.SKIPPED, f"{said} (allowed here: {allowed_skip})")
    problem = f"would be skipped ({said}), but image.yaml's skips_allowed does not name this platform"
    return CheckResult(name, kind, Status.FAILED, problem)


def judge_command(test: CommandTest, run: CheckRun, kind: str = "command") -> CheckResult:
    """TEST's verdict on RUN: its exit code and its stdout and stderr against the expected patterns."""
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
    if not problems:
        return CheckResult(test.name, kind, Status.PASSED, _clip(run.stdout.strip()), run.seconds)
    detail = (
        "; ".join(problems)
        + f" [$ {shlex.join(test.command)}] stdout: {_clip(run.stdout)!r} stderr: {_clip(run.stderr)!r}"
    )
    return CheckResult(test.name, kind, Status.FAILED, detail, run.seconds)


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
