"""The contract: the service built FROM the candidate on every platform, its commands run in it; a build
failure, a failing command and a skip where the catalog allows none each fail, per platform."""

from __future__ import annotations

from pathlib import Path

from fake_runner import answer, answer_build

from baseimages.catalog.spec import CommandTest, ContractSpec
from baseimages.checks.contract import run_contract
from baseimages.core.errors import BuildError
from baseimages.core.results import Status
from baseimages.engine.client import BuildRequest, RunRequest, RunResult

MARKER = "/usr/share/baseimages/torch-unavailable"
BASE = "localhost:5000/ns/ml:candidate-1.0.0"
PLATFORMS = ["linux/amd64", "linux/arm64"]


class Engine:
    """Contract builds succeed unless FAIL_BUILD, their checks answered inside the build (as the check
    runner would): the service's command prints `ok` unless the platform is in FAILING. The base has
    MARKER on MARKED platforms (read by a runner container when the smoke tests did not)."""

    def __init__(self, marked=(), failing=(), fail_build=False) -> None:
        self.marked, self.failing, self.fail_build = set(marked), set(failing), fail_build
        self.builds: list[BuildRequest] = []
        self.dockerfiles: list[str] = []
        self.runs: list[RunRequest] = []

    def build(self, request: BuildRequest, image: str, on_line=None) -> str:
        raise AssertionError("a contract exports no image")

    def build_files(self, request: BuildRequest, image: str, on_line=None) -> None:
        self.builds.append(request)
        self.dockerfiles.append(request.dockerfile.read_text())
        if self.fail_build:
            raise BuildError(image, "docker buildx build failed (exit 1): ERROR: uv pip sync failed")
        answer_build(request.dockerfile, Path(request.output["dest"]), request.platforms, self.respond)

    def respond(self, platform: str, argv: tuple[str, ...]) -> RunResult:
        if platform in self.failing:
            return RunResult(1, "", "ImportError: torch")
        return RunResult(0, "ok\n", "")

    def run(self, request: RunRequest) -> RunResult:
        self.runs.append(request)
        files = {MARKER: (0o644, "no torch wheel\n")} if request.platform in self.marked else {}
        return answer(request.command, lambda argv: self.respond(request.platform, argv), files)


def _contract(tmp_path: Path, skip: str | None = None) -> ContractSpec:
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    command = CommandTest("app runs", ("python", "/srv/app.py"), stdout="^ok$")
    return ContractSpec(tmp_path, "python:3.11-slim", (command,), skip_if_exists=skip)


def _run(engine, contract, skips_allowed=None, markers=None):
    return run_contract(
        engine,
        "ml",
        contract,
        BASE,
        "python:3.11-slim@sha256:" + "b" * 64,
        PLATFORMS,
        skips_allowed=skips_allowed,
        markers=markers,
    )


def test_the_service_builds_from_the_candidate_and_its_commands_pass_inside_that_build_on_every_platform(tmp_path):
    engine = Engine()
    checks = _run(engine, _contract(tmp_path))
    [build] = engine.builds
    assert build.build_args["BASE_IMAGE"] == BASE and list(build.platforms) == PLATFORMS
    assert build.output["type"] == "local"  # the service is never exported to the image store
    for platform in PLATFORMS:
        assert [(c.name, c.status) for c in checks[platform]] == [
            ("service contract: build", Status.PASSED),
            ("service contract: app runs", Status.PASSED),
        ]
    assert engine.runs == []  # no container at all


def test_the_build_runs_the_checks_in_the_recipes_final_stage_and_outputs_only_their_results(tmp_path):
    engine = Engine()
    contract = _contract(tmp_path)
    contract.recipe.write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE} AS builder\nRUN make\nFROM ${BASE_IMAGE}\nCOPY --from=builder /a /a\n"
    )
    _run(engine, contract)
    dockerfile = engine.dockerfiles[0]
    assert "FROM ${BASE_IMAGE} AS baseimages-contract-service\nCOPY --from=builder /a /a\n" in dockerfile
    tail = dockerfile.split("COPY --from=builder /a /a\n", 1)[1]
    stages = [line for line in tail.splitlines() if line.startswith(("FROM", "RUN", "COPY"))]
    assert stages[0] == "FROM baseimages-contract-service AS baseimages-contract-checks"
    assert stages[1].startswith('RUN ["sh", "-c", ') and "python /srv/app.py" in stages[1]
    assert stages[2:] == ["FROM scratch", "COPY --from=baseimages-contract-checks /tmp/baseimages-contract-checks/ /"]


def test_each_build_gets_a_new_run_id_so_that_the_checks_never_come_from_the_cache(tmp_path):
    engine = Engine()
    contract = _contract(tmp_path)
    _run(engine, contract)
    _run(engine, contract)
    first, second = engine.dockerfiles
    assert first != second
    assert first.split("RUN ")[0] == second.split("RUN ")[0]


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
    assert len(engine.runs) == 2  # the smoke tests did not read the marker: one runner container per platform


def test_a_marker_the_smoke_tests_read_already_needs_no_container(tmp_path):
    engine = Engine()
    markers = {"linux/amd64": {MARKER: None}, "linux/arm64": {MARKER: "no torch wheel\n"}}
    checks = _run(engine, _contract(tmp_path, skip=MARKER), {"linux/arm64": "no aarch64 wheel"}, markers)
    assert engine.runs == []
    assert checks["linux/arm64"][0].status is Status.SKIPPED
    assert [c.status for c in checks["linux/amd64"]] == [Status.PASSED, Status.PASSED]
    assert list(engine.builds[0].platforms) == ["linux/amd64"]


def test_a_platform_whose_results_the_build_did_not_write_fails_every_check_there(tmp_path):
    class Lost(Engine):
        def build_files(self, request, image, on_line=None) -> None:
            super().build_files(request, image, on_line)
            (Path(request.output["dest"]) / "linux_arm64" / "stdout").unlink()

    checks = _run(Lost(), _contract(tmp_path))
    assert [c.status for c in checks["linux/amd64"]] == [Status.PASSED, Status.PASSED]
    arm64 = {c.name: (c.status, c.detail) for c in checks["linux/arm64"]}
    assert arm64["service contract: app runs"][0] is Status.FAILED
    assert "no check results" in arm64["service contract: check runner"][1]


def test_a_single_platform_build_reads_its_results_from_the_output_folder_itself(tmp_path):
    engine = Engine()
    checks = run_contract(engine, "ml", _contract(tmp_path), BASE, "python:3.11-slim", ["linux/arm64"])
    assert [c.status for c in checks["linux/arm64"]] == [Status.PASSED, Status.PASSED]
