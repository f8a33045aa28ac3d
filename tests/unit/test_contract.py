"""The contract: the service built FROM the candidate on every platform, its commands run in it; a build
failure, a failing command and a skip where the catalog allows none each fail, per platform."""

from __future__ import annotations

from pathlib import Path

from baseimages.catalog import CommandTest, ContractSpec
from baseimages.contract import run_contract, service_tag
from baseimages.engine import BuildRequest, RunRequest, RunResult
from baseimages.errors import BuildError
from baseimages.report import Status

MARKER = "/usr/share/baseimages/torch-unavailable"
BASE = "localhost:5000/ns/ml:candidate-1.0.0"
PLATFORMS = ["linux/amd64", "linux/arm64"]


class Engine:
    """Builds succeed unless FAIL_BUILD; the base has MARKER on MARKED platforms; the service's command
    prints `ok` (exit 0) unless the platform is in FAILING."""

    def __init__(self, marked=(), failing=(), fail_build=False) -> None:
        self.marked, self.failing, self.fail_build = set(marked), set(failing), fail_build
        self.builds: list[BuildRequest] = []
        self.runs: list[RunRequest] = []

    def build(self, request: BuildRequest, image: str, on_line=None) -> str:
        self.builds.append(request)
        if self.fail_build:
            raise BuildError(image, "docker buildx build failed (exit 1): ERROR: uv pip sync failed")
        return "sha256:" + "c" * 64

    def run(self, request: RunRequest) -> RunResult:
        self.runs.append(request)
        if request.command[0] == "cat":
            present = request.platform in self.marked
            return RunResult(0, "no torch wheel\n", "") if present else RunResult(1, "", "No such file")
        if request.platform in self.failing:
            return RunResult(1, "", "ImportError: torch")
        return RunResult(0, "ok\n", "")


def _contract(tmp_path: Path, skip: str | None = None) -> ContractSpec:
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE\n")
    command = CommandTest("app runs", ("python", "/srv/app.py"), stdout="^ok$")
    return ContractSpec(tmp_path, "python:3.11-slim", (command,), skip_if_exists=skip)


def _run(engine, contract, skips_allowed=None):
    return run_contract(
        engine, "ml", contract, BASE, "python:3.11-slim@sha256:" + "b" * 64, PLATFORMS, skips_allowed=skips_allowed
    )


def test_the_service_builds_from_the_candidate_and_its_commands_pass_on_every_platform(tmp_path):
    engine = Engine()
    checks = _run(engine, _contract(tmp_path))
    assert engine.builds[0].build_args["BASE_IMAGE"] == BASE and list(engine.builds[0].platforms) == PLATFORMS
    for platform in PLATFORMS:
        assert [(c.name, c.status) for c in checks[platform]] == [
            ("service contract: build", Status.PASSED),
            ("service contract: app runs", Status.PASSED),
        ]
    assert {r.image for r in engine.runs} == {service_tag("ml")}


def test_a_service_that_does_not_build_fails_the_contract_on_every_platform(tmp_path):
    checks = _run(Engine(fail_build=True), _contract(tmp_path))
    for platform in PLATFORMS:
        [check] = checks[platform]
        assert check.status is Status.FAILED and "uv pip sync failed" in check.detail


def test_a_command_failing_on_one_platform_fails_only_there(tmp_path):
    checks = _run(Engine(failing={"linux/arm64"}), _contract(tmp_path))
    assert checks["linux/amd64"][-1].status is Status.PASSED
    assert checks["linux/arm64"][-1].status is Status.FAILED and "ImportError" in checks["linux/arm64"][-1].detail


def test_the_contract_is_skipped_only_where_the_catalog_allows_and_fails_elsewhere(tmp_path):
    engine = Engine(marked={"linux/amd64", "linux/arm64"})
    checks = _run(engine, _contract(tmp_path, skip=MARKER), skips_allowed={"linux/arm64": "no aarch64 wheel"})
    [arm64] = checks["linux/arm64"]
    assert arm64.status is Status.SKIPPED and "no torch wheel" in arm64.detail and "no aarch64 wheel" in arm64.detail
    [amd64] = checks["linux/amd64"]
    assert amd64.status is Status.FAILED and "skips_allowed" in amd64.detail
    assert engine.builds == []  # nothing left to build the service for
