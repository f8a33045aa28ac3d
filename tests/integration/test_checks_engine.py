"""The check runner on the real engine: one container per platform (amd64 natively, arm64 under QEMU)
brings back every check's own exit code, stdout and stderr; and a contract's checks run inside its
service's build, whose `type=local` output holds only their results, per platform, nothing exported."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from baseimages.catalog.spec import CommandTest, ContractSpec
from baseimages.checks.contract import run_contract, service_tag
from baseimages.checks.runner import RunnerCheck, parse_output, runner_request
from baseimages.core.results import Status
from baseimages.engine.client import DockerEngine, PullRequest

IMAGE = "localhost:5000/library/python:3.11-slim"  # the stand-in `scripts/engine up` seeds, both platforms
PLATFORMS = ["linux/amd64", "linux/arm64"]
MACHINE = {"linux/amd64": "x86_64", "linux/arm64": "aarch64"}
GARBAGE = "".join(f"\\{n:03o}" for n in range(256))  # every byte, as printf octal escapes


@pytest.fixture(scope="module")
def pulled(engine: DockerEngine) -> DockerEngine:
    for platform in PLATFORMS:
        engine.pull(PullRequest(IMAGE, platform))
    return engine


@pytest.mark.parametrize("platform", PLATFORMS)
def test_one_container_brings_back_each_checks_own_result(pulled: DockerEngine, platform: str) -> None:
    checks = [
        RunnerCheck(("uname", "-m")),
        RunnerCheck(("sh", "-c", f"printf '{GARBAGE}'; printf 'end 0\\n' >&2; exit 3")),
        RunnerCheck(("no-such-command",)),
        RunnerCheck(("sh", "-c", "echo gone; kill -9 $$")),
        RunnerCheck(("echo", "skipped"), "/etc/debian_version"),
        RunnerCheck(("sh", "-c", 'pwd; id -u; cat; echo "[${T:-}]"')),
    ]
    paths = ["/bin/sh", "/usr/bin/gcc", "/etc/debian_version"]
    run = pulled.run(runner_request(IMAGE, platform, paths, ["/etc/debian_version"], checks))
    output = parse_output(run.stdout)
    assert output.problem == "" and output.count == len(checks), (run.exit_code, run.stderr, run.stdout[-300:])
    assert output.runs[0].stdout == MACHINE[platform] + "\n"
    assert output.runs[1].exit_code == 3 and output.runs[1].stderr == "end 0\n"
    assert output.runs[1].stdout == bytes(range(256)).decode(errors="replace")
    assert output.runs[2].exit_code == 127 and "not found" in output.runs[2].stderr
    assert (output.runs[3].exit_code, output.runs[3].stdout) == (137, "gone\n")
    assert output.skipped == {4} and output.markers["/etc/debian_version"].strip()
    assert output.runs[5].stdout == "/\n0\n[]\n"  # the image's workdir and user, stdin empty, no runner variables
    assert output.paths["/bin/sh"] is not None and output.paths["/usr/bin/gcc"] is None


def test_a_contract_runs_its_checks_in_its_build_per_platform_and_exports_nothing(
    pulled: DockerEngine, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nARG RUNTIME_IMAGE\n"
        "FROM ${BASE_IMAGE} AS builder\nRUN echo built > /built\n"
        "FROM ${RUNTIME_IMAGE}\nCOPY --from=builder /built /srv/built\nENV GREETING=hi\nWORKDIR /srv\n"
    )
    commands = (
        CommandTest("built file is there", ("cat", "/srv/built"), stdout="^built$"),
        CommandTest("env and workdir of the service", ("sh", "-c", "echo $GREETING; pwd"), stdout="^hi\n/srv$"),
        CommandTest("machine", ("uname", "-m"), stdout="^(x86_64|aarch64)$"),
        CommandTest("fails", ("sh", "-c", "echo no >&2; exit 1")),
    )
    name = f"checks-{uuid.uuid4().hex[:8]}"
    contract = ContractSpec(tmp_path, IMAGE, commands)
    checks = run_contract(pulled, name, contract, IMAGE, IMAGE, PLATFORMS)
    for platform in PLATFORMS:
        found = {c.name: c for c in checks[platform]}
        assert [c.name for c in checks[platform]][0] == "service contract: build"
        assert found["service contract: build"].status is Status.PASSED
        assert found["service contract: built file is there"].status is Status.PASSED
        assert found["service contract: env and workdir of the service"].status is Status.PASSED
        assert found["service contract: machine"].detail == MACHINE[platform]  # each platform's own folder
        failed = found["service contract: fails"]
        assert failed.status is Status.FAILED and "exit code 1, expected 0" in failed.detail and "no" in failed.detail
        assert "service contract: check runner" not in found
    assert pulled.local_digest(service_tag(name)) is None  # nothing went to the image store


def test_a_contract_built_for_one_platform_reads_its_results_too(pulled: DockerEngine, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE\nARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n")
    contract = ContractSpec(tmp_path, IMAGE, (CommandTest("machine", ("uname", "-m")),))
    checks = run_contract(pulled, "one-platform", contract, IMAGE, IMAGE, ["linux/arm64"])
    assert [(c.name, c.status, c.detail) for c in checks["linux/arm64"]][1:] == [
        ("service contract: machine", Status.PASSED, "aarch64")
    ]
