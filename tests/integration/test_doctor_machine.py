"""`python -m baseimages doctor` on this machine, as an operator runs it (a subprocess, JSON out): the right
verdict with the engine up, with dockerd unreachable (DOCKER_HOST at a socket nobody serves: the shared
dockerd is never stopped), with the registry unreachable (a closed 127.0.0.1 port), and with a catalog image
whose context holds a large file. Reads only: nothing is pulled, built, pruned or pushed."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from baseimages.engine.client import DockerEngine

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ("python311-uv", "python311-ml", "python311-security")


def doctor(*args: str, project: Path = ROOT, **env: str) -> tuple[int, dict[str, Any]]:
    """Run doctor --json in PROJECT with ENV added; its exit code and its JSON report."""
    environ = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"} | env
    done = subprocess.run(
        [sys.executable, "-m", "baseimages", "doctor", "--json", "--project", str(project), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )
    assert done.stderr == "", done.stderr
    report = json.loads(done.stdout)
    assert report["exit_code"] == done.returncode
    return done.returncode, report


def verdicts(report: dict[str, Any]) -> dict[str, str]:
    """'check subject' -> verdict."""
    return {f"{f['check']} {f['subject']}".strip(): f["verdict"] for f in report["findings"]}


def failed(report: dict[str, Any]) -> list[str]:
    return [key for key, verdict in verdicts(report).items() if verdict == "fail"]


def test_engine_up_every_check_passes(engine: DockerEngine) -> None:
    code, report = doctor()
    found = verdicts(report)
    assert (code, failed(report)) == (0, []), report
    server = subprocess.run(["docker", "version", "-f", "{{.Server.Version}}"], capture_output=True, text=True)
    expected_ok = [
        "buildx",
        "engine",
        "image store",
        "builder default",
        "qemu linux/arm64",
        "registry localhost:5000",
        "base python:3.11-slim",
        *(f"context {name}" for name in IMAGES),
        *(f"dockerfile {name}" for name in IMAGES),
        "dockerfile python311-uv contract",
    ]
    assert {key: found.get(key) for key in expected_ok} == dict.fromkeys(expected_ok, "ok")
    assert found["build cache"] in ("ok", "warn")  # a warning on a shared machine's disk is still exit 0
    summaries = {f"{f['check']} {f['subject']}".strip(): f["summary"] for f in report["findings"]}
    assert f"dockerd {server.stdout.strip()} at " in summaries["engine"]
    assert "linux/arm64" in summaries["builder default"]


def test_dockerd_unreachable_fails_the_engine_and_still_checks_the_rest(engine: DockerEngine) -> None:
    socket_path = f"/tmp/baseimages-doctor-{uuid.uuid4().hex[:8]}.sock"  # nothing serves it
    code, report = doctor(DOCKER_HOST=f"unix://{socket_path}")
    found = verdicts(report)
    assert (code, failed(report)) == (1, ["engine"])
    engine_finding = next(f for f in report["findings"] if f["check"] == "engine")
    assert (
        socket_path in engine_finding["summary"] and "Cannot connect to the Docker daemon" in engine_finding["summary"]
    )
    assert "scripts/engine up" in engine_finding["fix"]
    assert {"image store", "builder default", "build cache"}.isdisjoint(found)
    # buildx answers without a daemon; the registry and the mirror from daemon.json are still asked
    assert found["buildx"] == found["registry localhost:5000"] == found["base python:3.11-slim"] == "ok"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_registry_unreachable_fails_only_the_registry(engine: DockerEngine) -> None:
    address = f"127.0.0.1:{_closed_port()}"
    code, report = doctor("--registry", address)
    assert (code, failed(report)) == (1, [f"registry {address}"])
    finding = next(f for f in report["findings"] if f["check"] == "registry")
    assert "cannot be reached" in finding["summary"] and "Connection refused" in finding["summary"]
    assert verdicts(report)["engine"] == "ok"


def test_large_file_in_a_context_fails_until_dockerignore_excludes_it(
    engine: DockerEngine, tmp_path: Path, catalog_copy: Callable[[Path, list[str]], Path]
) -> None:
    project = catalog_copy(tmp_path / "project", ["python311-uv"])
    folder = project / "images" / "python311-uv"
    with open(folder / "model-weights.bin", "wb") as handle:
        handle.truncate(150 * 10**6)  # sparse: 150 MB to Docker and to the fingerprint, nothing on this disk
    code, report = doctor(project=project)
    assert (code, failed(report)) == (1, ["context python311-uv"])
    finding = next(f for f in report["findings"] if f["check"] == "context")
    assert finding["summary"].startswith("150.0 MB in ")
    assert finding["details"][0].split() == ["150.0", "MB", "model-weights.bin"]
    assert finding["fix"].startswith(f"add model-weights.bin to {folder / '.dockerignore'}")

    with open(folder / ".dockerignore", "a") as ignore:
        ignore.write("model-weights.bin\n")
    code, report = doctor(project=project)
    assert (code, failed(report)) == (0, [])
    assert "model-weights.bin" not in json.dumps(next(f for f in report["findings"] if f["check"] == "context"))
