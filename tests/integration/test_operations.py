"""Running the job for real: a registry that needs a login, two runs at once, and Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from baseimages.cli.main import main
from baseimages.core.lock import RunLock
from baseimages.core.reference import parse_reference
from baseimages.engine.client import DockerEngine, children_of
from baseimages.registry.client import RegistryClient
from baseimages.settings.config import Credentials

ROOT = Path(__file__).resolve().parents[2]
AUTH_USER, AUTH_PASSWORD = "factory", "s3cret-Pa55word"  # as docker-compose.yml starts registry-auth


def _cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_login_from_environment_pushes_to_a_protected_registry_and_the_password_appears_nowhere(
    engine: DockerEngine, auth_registry: str, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASEIMAGES_REGISTRY_USER", AUTH_USER)
    monkeypatch.setenv("BASEIMAGES_REGISTRY_PASSWORD", AUTH_PASSWORD)
    report_file = tmp_path / "report.json"
    common = [
        "--project",
        str(project),
        "--registry",
        auth_registry,
        "--namespace",
        "auth",
        "--lock-dir",
        str(tmp_path),
    ]
    code, out, err = _cli("push", *common, "--report", str(report_file), "-v")
    assert code == 0, err[-3000:]
    dry_code, dry_out, dry_err = _cli("push", *common, "--dry-run")
    assert dry_code == 0
    report = json.loads(report_file.read_text())
    assert report["images"][0]["status"] == "promoted"
    digest = report["images"][0]["digest"]
    for text in (out, err, dry_out, dry_err, report_file.read_text()):
        assert AUTH_PASSWORD not in text
    # Nor in the image: config, history, labels of every platform.
    client = RegistryClient(credentials={auth_registry: Credentials(AUTH_USER, AUTH_PASSWORD)})
    ref = parse_reference(f"{auth_registry}/auth/python311-uv@{digest}")
    index = client.index(ref)
    assert len(index.manifests) == 2
    for manifest in index.manifests:
        assert AUTH_PASSWORD not in json.dumps(client.blob_json(ref, manifest.config_digest))
    history = subprocess.run(
        ["docker", "history", "--no-trunc", f"{auth_registry}/auth/python311-uv:candidate-1.0.0"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert AUTH_PASSWORD not in history.stdout


def test_wrong_credentials_fail_with_a_clear_error_and_exit_3(
    engine: DockerEngine, auth_registry: str, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASEIMAGES_REGISTRY_USER", AUTH_USER)
    monkeypatch.setenv("BASEIMAGES_REGISTRY_PASSWORD", "not-the-password")
    code, out, err = _cli(
        "push",
        "--project",
        str(project),
        "--registry",
        auth_registry,
        "--namespace",
        "denied",
        "--lock-dir",
        str(tmp_path),
    )
    assert code == 3
    assert "access denied (HTTP 401)" in out + err
    assert "credentials" in out + err
    assert "not-the-password" not in out + err


def _slow_project(tmp_path: Path, seconds: int, smoke: str = '["true"]') -> Path:
    """A one-image catalog whose build takes SECONDS (a RUN sleep), to catch a run mid-build; SMOKE is its
    smoke test's command (e.g. a sleep, to catch it mid-test)."""
    folder = tmp_path / "slow" / "images" / "slowpoke"
    folder.mkdir(parents=True)
    marker = uuid.uuid4().hex  # never cached
    (folder / "Dockerfile").write_text(
        f"ARG BASE_IMAGE=python:3.11-slim\nFROM ${{BASE_IMAGE}}\nRUN echo {marker} && sleep {seconds}\n"
    )
    (folder / "image.yaml").write_text(
        "name: slowpoke\nversion: 1.0.0\nparent: python:3.11-slim\nplatforms: [linux/amd64]\n"
        f"smoke:\n  commands:\n    - command: {smoke}\n"
    )
    return tmp_path / "slow"


def _start_push(project: Path, registry: str, namespace: str, lock_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "baseimages",
            "push",
            "--project",
            str(project),
            "--registry",
            registry,
            "--namespace",
            namespace,
            "--lock-dir",
            str(lock_dir),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _wait_for(proc: subprocess.Popen[str], word: str, timeout: float = 120) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if word in line:
            return lines
    raise AssertionError(f"{word!r} never appeared: {''.join(lines)}")


def test_second_run_on_the_same_registry_and_namespace_refuses_then_waits_for_the_lock(
    engine: DockerEngine, test_registry: str, tmp_path: Path
) -> None:
    project = _slow_project(tmp_path, seconds=15)
    first = _start_push(project, test_registry, "locked", tmp_path / "locks")
    common = ["--project", str(project), "--registry", test_registry, "--namespace", "locked"]
    common += ["--lock-dir", str(tmp_path / "locks")]
    try:
        _wait_for(first, "building")
        code, out, err = _cli("push", *common)
        assert code == 5
        assert "another baseimages run holds" in err and f"pid {first.pid}" in err
        started = time.monotonic()
        code, out, err = _cli("push", *common, "--wait-lock", "300")
        waited = time.monotonic() - started
        assert first.wait(timeout=300) == 0
        assert code == 0, err
        assert "unchanged" in out  # the first run built and promoted it; the second had nothing to do
        assert waited > 1
    finally:
        if first.poll() is None:
            first.kill()


@pytest.mark.parametrize(
    ("sig", "code", "stage"),
    [(signal.SIGINT, 130, "building"), (signal.SIGTERM, 143, "smoke testing")],
    ids=["sigint-while-building", "sigterm-while-smoke-testing"],
)
def test_a_stop_signal_stops_the_children_writes_the_report_moves_no_tags_and_leaves_nothing(
    engine: DockerEngine,
    test_registry: str,
    tmp_path: Path,
    registry_client: RegistryClient,
    sig: signal.Signals,
    code: int,
    stage: str,
) -> None:
    # Ctrl-C while buildx runs the RUN sleep; SIGTERM (a CI runner cancelling) while a smoke test sleeps.
    building = stage == "building"
    project = _slow_project(tmp_path, seconds=120 if building else 0, smoke='["sleep", "120"]')
    lock_dir = tmp_path / "locks"
    report = tmp_path / "report.json"
    namespace = f"interrupted-{sig.name.lower()}"
    run = _start_push(project, test_registry, namespace, lock_dir, "--platform", "linux/amd64", "--report", str(report))
    _wait_for(run, stage, timeout=300)
    time.sleep(3)  # buildx runs the RUN sleep now, or the smoke test's container its sleep
    children = _children(run.pid)
    assert any(("buildx" if building else "container") in cmd for cmd in children.values()), children
    started = time.monotonic()
    os.kill(run.pid, sig)  # to python only, as a supervisor would send it
    assert run.wait(timeout=60) == code
    assert time.monotonic() - started < 60
    assert run.stderr is not None and "Traceback" not in run.stderr.read()
    for pid in children:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), f"child {pid} still runs"
    with RunLock(lock_dir, test_registry, namespace):
        pass  # free again at once
    for tag in ("latest", "1.0.0"):
        assert registry_client.digest(parse_reference(f"{test_registry}/{namespace}/slowpoke:{tag}")) is None
    data = json.loads(report.read_text())
    assert data["interrupted"] == sig.name and data["exit_code"] == code
    assert data["images"][0]["status"] == "failed" and f"interrupted ({sig.name})" in data["images"][0]["error"]
    # Nothing of it is left: no container labelled with its run, no temporary folder named after it.
    labelled = subprocess.run(
        ["docker", "ps", "--all", "--filter", "label=io.baseimages.run", "--format", '{{.Label "io.baseimages.run"}}'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not [label for label in labelled if label.startswith(f"{run.pid}@")]
    assert not list(Path(tempfile.gettempdir()).glob(f"baseimages-*-{run.pid}-*"))


def _children(pid: int) -> dict[int, str]:
    out = {}
    for child in children_of(pid):
        try:
            out[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    return out


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "gone"
