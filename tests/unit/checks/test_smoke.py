"""run_smoke and check_metadata against a fake Engine: no Docker."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from fake_runner import answer, decode_args, is_runner

from baseimages.catalog.spec import CommandTest, FileTest, MetadataTest, SmokeSpec
from baseimages.checks.smoke import RUNS_WHEN_OUTPUT_LOST, check_metadata, run_smoke
from baseimages.core.results import Status
from baseimages.engine.client import RunRequest, RunResult

IMAGE = "localhost:5000/baseimages/uv@sha256:" + "0" * 64


class FakeEngine:
    """Answers the check runner's run as the runner would (tests/unit/fake_runner.py).

    FILES maps an absolute path to (octal mode text, content) for paths that exist in the image. COMMANDS
    maps a command tuple to its RunResult; anything else exits 127. RUNNER_FAILS: the runner's container
    fails before the runner prints anything.
    """

    def __init__(
        self,
        commands: Mapping[tuple[str, ...], RunResult] | None = None,
        files: Mapping[str, tuple[str, str]] | None = None,
        runner_fails: bool = False,
    ) -> None:
        self.commands = dict(commands or {})
        self.files = {path: (int(mode, 8), content) for path, (mode, content) in (files or {}).items()}
        self.runner_fails = runner_fails
        self.requests: list[RunRequest] = []
        self.ran: list[tuple[str, ...]] = []

    def respond(self, command: tuple[str, ...]) -> RunResult:
        self.ran.append(command)
        if command in self.commands:
            return self.commands[command]
        return RunResult(127, "", f"{command[0]}: not found")

    def run(self, request: RunRequest) -> RunResult:
        self.requests.append(request)
        assert is_runner(request.command), request.command
        if self.runner_fails:
            return RunResult(126, "", "exec format error")
        return answer(request.command, self.respond, self.files)

    def commands_run(self) -> list[tuple[str, ...]]:
        return list(self.ran)


def _only_check(result):
    assert len(result.checks) == 1, result.checks
    return result.checks[0]


# --------------------------------------------------------------------------- command tests


def test_exit_code_mismatch_fails_the_command_test():
    engine = FakeEngine({("python", "--version"): RunResult(1, "", "boom")})
    spec = SmokeSpec(commands=(CommandTest("python", ("python", "--version")),))
    result = run_smoke(engine, IMAGE, spec, "linux/amd64")
    check = _only_check(result)
    assert check.status is Status.FAILED
    assert "exit code 1, expected 0" in check.detail
    assert result.status is Status.FAILED


def test_expected_nonzero_exit_code_passes():
    engine = FakeEngine({("false",): RunResult(1, "", "")})
    spec = SmokeSpec(commands=(CommandTest("false fails", ("false",), exit_code=1),))
    assert _only_check(run_smoke(engine, IMAGE, spec, "linux/amd64")).status is Status.PASSED


def test_stdout_regex_match_passes_and_mismatch_fails():
    engine = FakeEngine({("python", "--version"): RunResult(0, "Python 3.11.9\n", "")})
    passing = SmokeSpec(commands=(CommandTest("py", ("python", "--version"), stdout=r"^Python 3\.11\."),))
    failing = SmokeSpec(commands=(CommandTest("py", ("python", "--version"), stdout=r"^Python 3\.12\."),))
    ok = _only_check(run_smoke(engine, IMAGE, passing, "linux/amd64"))
    assert ok.status is Status.PASSED
    assert ok.detail == "Python 3.11.9"
    bad = _only_check(run_smoke(engine, IMAGE, failing, "linux/amd64"))
    assert bad.status is Status.FAILED
    assert "stdout does not match" in bad.detail


def test_stdout_regex_spans_lines_like_the_catalog_expects():
    command = ("python", "-c", "print(prefix)")
    engine = FakeEngine({command: RunResult(0, "/opt/venv\nTrue\n", "")})
    spec = SmokeSpec(commands=(CommandTest("venv", command, stdout=r"^/opt/venv\nTrue$"),))
    assert _only_check(run_smoke(engine, IMAGE, spec, "linux/amd64")).status is Status.PASSED


def test_stderr_regex_is_checked_against_stderr():
    command = ("uv", "pip", "install", "x")
    engine = FakeEngine({command: RunResult(0, "", "Installed 1 package in 3ms\n")})
    good = SmokeSpec(commands=(CommandTest("uv", command, stderr="Installed 1 package"),))
    wrong_stream = SmokeSpec(commands=(CommandTest("uv", command, stdout="Installed 1 package"),))
    assert _only_check(run_smoke(engine, IMAGE, good, "linux/amd64")).status is Status.PASSED
    assert _only_check(run_smoke(engine, IMAGE, wrong_stream, "linux/amd64")).status is Status.FAILED


def test_stdout_excludes_match_fails_the_command_test():
    command = ("sh", "-c", "ls /opt/venv/bin")
    engine = FakeEngine({command: RunResult(0, "python\npip\n", "")})
    spec = SmokeSpec(commands=(CommandTest("no pip", command, stdout_excludes=r"^pip$"),))
    check = _only_check(run_smoke(engine, IMAGE, spec, "linux/amd64"))
    assert check.status is Status.FAILED
    assert "stdout matches excluded" in check.detail
    clean = FakeEngine({command: RunResult(0, "python\n", "")})
    assert _only_check(run_smoke(clean, IMAGE, spec, "linux/amd64")).status is Status.PASSED


def test_command_test_restricted_to_amd64_is_not_run_on_arm64():
    amd64_only = ("uname", "-m")
    everywhere = ("true",)
    engine = FakeEngine({amd64_only: RunResult(0, "x86_64\n", ""), everywhere: RunResult(0, "", "")})
    spec = SmokeSpec(
        commands=(
            CommandTest("arch", amd64_only, stdout="x86_64", platforms=("linux/amd64",)),
            CommandTest("true", everywhere),
        )
    )
    arm = run_smoke(engine, IMAGE, spec, "linux/arm64")
    assert [c.name for c in arm.checks] == ["true"]
    assert engine.commands_run() == [everywhere]
    amd = run_smoke(engine, IMAGE, spec, "linux/amd64")
    assert [(c.name, c.status) for c in amd.checks] == [("arch", Status.PASSED), ("true", Status.PASSED)]


def test_all_checks_of_a_platform_run_in_one_container_of_the_tested_image_on_the_tested_platform():
    engine = FakeEngine(
        {("true",): RunResult(0, "", ""), ("false",): RunResult(1, "", "")}, files={"/bin/sh": ("755", "")}
    )
    spec = SmokeSpec(
        commands=(CommandTest("true", ("true",)), CommandTest("false", ("false",), exit_code=1)),
        files=(FileTest("/bin/sh"),),
    )
    result = run_smoke(engine, IMAGE, spec, "linux/arm64")
    assert [(c.name, c.status) for c in result.checks] == [
        ("/bin/sh exists", Status.PASSED),
        ("true", Status.PASSED),
        ("false", Status.PASSED),
    ]
    [request] = engine.requests
    assert (request.image, request.platform) == (IMAGE, "linux/arm64")
    assert engine.commands_run() == [("true",), ("false",)]


def test_a_command_test_keeps_the_seconds_the_runner_measured():
    engine = FakeEngine({("true",): RunResult(0, "", "")})
    check = _only_check(run_smoke(engine, IMAGE, SmokeSpec(commands=(CommandTest("true", ("true",)),)), "linux/amd64"))
    assert check.seconds == pytest.approx(0.25)  # fake_runner's start 100.00, end 100.25


def test_skip_marker_on_an_allowed_platform_skips_with_both_reasons_and_degrades_the_platform():
    command = ("pytest", "--version")
    engine = FakeEngine(
        {command: RunResult(0, "pytest 8\n", ""), ("true",): RunResult(0, "", "")},
        files={"/etc/skip-pytest": ("644", "pytest is not installed on arm64\n")},
    )
    spec = SmokeSpec(
        commands=(CommandTest("pytest", command, skip_if_exists="/etc/skip-pytest"), CommandTest("true", ("true",)))
    )
    result = run_smoke(engine, IMAGE, spec, "linux/arm64", allowed_skip="no pytest wheel for arm64")
    check = result.checks[0]
    assert check.status is Status.SKIPPED
    assert check.detail == "pytest is not installed on arm64 (allowed here: no pytest wheel for arm64)"
    assert command not in engine.commands_run()
    assert result.status is Status.DEGRADED


def test_skip_marker_on_a_platform_the_catalog_does_not_allow_fails_the_check():
    command = ("pytest", "--version")
    engine = FakeEngine(
        {command: RunResult(0, "pytest 8\n", "")},
        files={"/etc/skip-pytest": ("644", "the index was unreachable\n")},
    )
    spec = SmokeSpec(commands=(CommandTest("pytest", command, skip_if_exists="/etc/skip-pytest"),))
    result = run_smoke(engine, IMAGE, spec, "linux/amd64", allowed_skip=None)
    check = _only_check(result)
    assert check.status is Status.FAILED
    assert "the index was unreachable" in check.detail and "skips_allowed" in check.detail
    assert result.status is Status.FAILED


def test_skip_if_exists_with_file_absent_runs_the_command():
    command = ("pytest", "--version")
    engine = FakeEngine({command: RunResult(0, "pytest 8\n", "")})
    spec = SmokeSpec(commands=(CommandTest("pytest", command, skip_if_exists="/etc/skip-pytest"),))
    check = _only_check(run_smoke(engine, IMAGE, spec, "linux/arm64"))
    assert check.status is Status.PASSED
    assert command in engine.commands_run()


# --------------------------------------------------------------------------- file tests


def test_file_test_for_an_absent_path_that_exists_fails():
    engine = FakeEngine(files={"/usr/bin/gcc": ("755", "")})
    spec = SmokeSpec(files=(FileTest("/usr/bin/gcc", exists=False),))
    check = _only_check(run_smoke(engine, IMAGE, spec, "linux/amd64"))
    assert check.status is Status.FAILED
    assert check.detail == "present"


def test_file_test_for_a_present_path_that_is_missing_fails_and_absent_path_passes():
    engine = FakeEngine()
    spec = SmokeSpec(files=(FileTest("/usr/local/bin/uv"), FileTest("/usr/bin/gcc", exists=False)))
    result = run_smoke(engine, IMAGE, spec, "linux/amd64")
    assert [(c.status, c.detail) for c in result.checks] == [(Status.FAILED, "missing"), (Status.PASSED, "")]


def test_file_mode_mismatch_fails_and_match_passes():
    engine = FakeEngine(files={"/usr/local/bin/uv": ("644", ""), "/usr/local/bin/python": ("755", "")})
    spec = SmokeSpec(files=(FileTest("/usr/local/bin/uv", mode=0o755), FileTest("/usr/local/bin/python", mode=0o755)))
    uv, python = run_smoke(engine, IMAGE, spec, "linux/amd64").checks
    assert uv.status is Status.FAILED
    assert uv.detail == "mode is 0644"
    assert python.status is Status.PASSED


def test_all_files_are_probed_by_the_one_runner_container():
    engine = FakeEngine(files={"/a": ("755", ""), "/b": ("600", "")})
    spec = SmokeSpec(files=(FileTest("/a"), FileTest("/b", mode=0o600), FileTest("/c", exists=False)))
    result = run_smoke(engine, IMAGE, spec, "linux/amd64")
    assert [c.status for c in result.checks] == [Status.PASSED] * 3
    [request] = engine.requests
    paths, markers, checks = decode_args(request.command[4:])
    assert (paths, markers, checks) == (["/a", "/b", "/c"], [], [])


def test_a_runner_container_that_fails_to_start_fails_every_check_and_says_why():
    engine = FakeEngine({("true",): RunResult(0, "", "")}, runner_fails=True)
    spec = SmokeSpec(commands=(CommandTest("true", ("true",)),), files=(FileTest("/a"),))
    result = run_smoke(engine, IMAGE, spec, "linux/arm64")
    assert [(c.name, c.status) for c in result.checks] == [
        ("/a exists", Status.FAILED),
        ("true", Status.FAILED),
        ("check runner", Status.FAILED),
    ]
    runner = result.checks[-1].detail
    assert "output was incomplete" in runner and "exit code 126" in runner and "exec format error" in runner
    assert result.status is Status.FAILED


def test_a_runner_cut_short_keeps_the_checks_it_finished_and_fails_the_rest():
    class CutShort(FakeEngine):
        def run(self, request: RunRequest) -> RunResult:
            whole = super().run(request).stdout
            return RunResult(137, whole[: whole.index("check 1 ")], "Killed")

    commands = {("true",): RunResult(0, "yes\n", ""), ("sh", "-c", "kill -9 $PPID"): RunResult(137, "", "")}
    spec = SmokeSpec(commands=(CommandTest("true", ("true",)), CommandTest("kills", ("sh", "-c", "kill -9 $PPID"))))
    result = run_smoke(CutShort(commands), IMAGE, spec, "linux/amd64")
    assert [(c.name, c.status) for c in result.checks] == [
        ("true", Status.PASSED),
        ("kills", Status.FAILED),
        ("check runner", Status.FAILED),
    ]
    assert result.checks[1].detail.startswith("no result")
    assert "no end marker" in result.checks[2].detail


class LosesOutput(FakeEngine):
    """An engine that drops all of the runner's stdout in its first LOSSES runs (the runner exited 0)."""

    def __init__(self, losses: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.losses = losses

    def run(self, request: RunRequest) -> RunResult:
        whole = super().run(request)
        if len(self.requests) <= self.losses:
            return RunResult(whole.exit_code, "", whole.stderr)
        return whole


def test_a_runner_whose_output_the_engine_lost_runs_again_and_its_checks_are_judged_on_the_new_run():
    engine = LosesOutput(2, commands={("true",): RunResult(0, "yes\n", "")})
    spec = SmokeSpec(commands=(CommandTest("true", ("true",), stdout="yes"),))
    result = run_smoke(engine, IMAGE, spec, "linux/amd64")
    assert len(engine.requests) == RUNS_WHEN_OUTPUT_LOST == 3
    assert [(c.name, c.status) for c in result.checks] == [("true", Status.PASSED)]


def test_output_lost_in_every_run_fails_the_checks_and_says_the_engine_lost_it():
    engine = LosesOutput(99, commands={("true",): RunResult(0, "", "")})
    result = run_smoke(engine, IMAGE, SmokeSpec(commands=(CommandTest("true", ("true",)),)), "linux/amd64")
    assert len(engine.requests) == RUNS_WHEN_OUTPUT_LOST
    assert [(c.name, c.status) for c in result.checks] == [("true", Status.FAILED), ("check runner", Status.FAILED)]
    said = result.checks[-1].detail
    assert "no header" in said and "the Docker engine lost its output, in each of 3 runs" in said


def test_a_runner_that_failed_is_not_run_again():
    engine = FakeEngine({("true",): RunResult(0, "", "")}, runner_fails=True)
    run_smoke(engine, IMAGE, SmokeSpec(commands=(CommandTest("true", ("true",)),)), "linux/amd64")
    assert len(engine.requests) == 1


def test_more_markers_are_read_in_the_same_container_for_later_stages():
    engine = FakeEngine(files={"/m/present": ("644", "why\n")})
    seen: dict[str, str | None] = {"/m/present": None, "/m/absent": None}
    result = run_smoke(engine, IMAGE, SmokeSpec(), "linux/amd64", markers=seen)
    assert seen == {"/m/present": "why\n", "/m/absent": None}
    assert len(engine.requests) == 1 and result.checks == []


def test_no_container_runs_when_there_is_nothing_to_check_in_one():
    engine = FakeEngine()
    run_smoke(engine, IMAGE, SmokeSpec(metadata=MetadataTest(workdir="/srv")), "linux/amd64", config=CONFIG)
    assert engine.requests == []


# --------------------------------------------------------------------------- metadata


CONFIG = {
    "Env": ["PATH=/opt/venv/bin:/usr/bin", "VIRTUAL_ENV=/opt/venv", "EMPTY="],
    "Labels": {"org.opencontainers.image.title": "uv"},
    "User": "app",
    "WorkingDir": "/app",
}


def test_metadata_matching_config_passes():
    test = MetadataTest(
        env={"VIRTUAL_ENV": "/opt/venv", "EMPTY": ""},
        labels={"org.opencontainers.image.title": "uv"},
        user="app",
        workdir="/app",
    )
    results = check_metadata(test, CONFIG)
    assert len(results) == 5
    assert all(r.status is Status.PASSED for r in results)


def test_metadata_env_mismatch_fails():
    results = check_metadata(MetadataTest(env={"VIRTUAL_ENV": "/venv", "MISSING": "x"}), CONFIG)
    assert [(r.name, r.status) for r in results] == [("env VIRTUAL_ENV", Status.FAILED), ("env MISSING", Status.FAILED)]
    assert results[0].detail == "is '/opt/venv', expected '/venv'"
    assert results[1].detail == "is None, expected 'x'"


def test_metadata_workdir_and_user_mismatch_fail():
    results = check_metadata(MetadataTest(workdir="/srv", user="root"), CONFIG)
    assert {r.name: r.status for r in results} == {"workdir": Status.FAILED, "user": Status.FAILED}
    empty = check_metadata(MetadataTest(workdir="/app"), {"Env": None})
    assert empty[0].status is Status.FAILED


def test_metadata_without_image_config_fails():
    results = check_metadata(MetadataTest(env={"A": "b"}), None)
    assert [r.status for r in results] == [Status.FAILED]


def test_run_smoke_includes_metadata_checks_with_the_given_config():
    spec = SmokeSpec(metadata=MetadataTest(workdir="/srv"))
    result = run_smoke(FakeEngine(), IMAGE, spec, "linux/amd64", config=CONFIG)
    check = _only_check(result)
    assert (check.name, check.status) == ("workdir", Status.FAILED)
    assert result.status is Status.FAILED
