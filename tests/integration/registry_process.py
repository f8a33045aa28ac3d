"""Debian's `docker-registry` (distribution 2.8, installed by `scripts/engine up`) as a process of the test's
own: its own storage root in a temporary directory, its own free port on 127.0.0.1, deletes enabled or
not, stopped afterwards. It never touches the shared registry on localhost:5000.

A registry a killed test session left running is found by its pid file (in STATE, with the config it
serves) and stopped before new ones start; nothing else is ever stopped.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

STATE = Path(tempfile.gettempdir()) / "baseimages-test-registries"


def registry_binary() -> str:
    found = shutil.which("docker-registry") or (
        "/usr/bin/docker-registry" if Path("/usr/bin/docker-registry").exists() else None
    )
    if found is None:
        pytest.fail("Debian's docker-registry is not installed; run `scripts/engine up` (scripts/test does)")
    return found


def clear_stale() -> None:
    """Stop the registries an earlier, killed session of these tests left behind, and remove their state."""
    for pidfile in STATE.glob("*.pid"):
        pid_text, _, config = pidfile.read_text().partition(" ")
        with contextlib.suppress(OSError, ValueError):
            cmdline = Path(f"/proc/{int(pid_text)}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "docker-registry" in cmdline and config.strip() in cmdline:
                os.kill(int(pid_text), signal.SIGTERM)
        pidfile.unlink(missing_ok=True)
        shutil.rmtree(Path(config.strip()).parent, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RegistryProcess:
    """One `docker-registry serve` on 127.0.0.1:<port>; `address` is how baseimages and dockerd name it."""

    deletes: bool
    directory: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="registry-", dir=_state_dir())))
    port: int = field(default_factory=free_port)
    _process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"localhost:{self.port}"

    @property
    def config(self) -> Path:
        return self.directory / "config.yml"

    @property
    def root(self) -> Path:
        return self.directory / "data"

    def start(self) -> RegistryProcess:
        self.config.write_text(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {self.root}\n  delete:\n    enabled: {str(self.deletes).lower()}\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n"
        )
        log = (self.directory / "registry.log").open("ab")
        self._process = subprocess.Popen(
            [registry_binary(), "serve", str(self.config)], stdout=log, stderr=log, start_new_session=True
        )
        (STATE / f"{self.port}.pid").write_text(f"{self._process.pid} {self.config}")
        deadline = time.monotonic() + 20
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"docker-registry did not answer on {self.address}: {self.log()[-2000:]}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None
        (STATE / f"{self.port}.pid").unlink(missing_ok=True)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def garbage_collect(self) -> str:
        """`docker-registry garbage-collect CONFIG`, with the registry stopped (as its documentation asks)."""
        assert self._process is None, "stop the registry first"
        done = subprocess.run(
            [registry_binary(), "garbage-collect", str(self.config)], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def storage(self) -> dict[str, str]:
        """Every file of the registry's storage (relative path -> sha256 of its bytes): what it holds, byte for byte."""
        return {
            str(p.relative_to(self.root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in self.root.rglob("*")
            if p.is_file()
        }

    def manifests(self, repository: str) -> set[str]:
        """The digests of the manifests REPOSITORY holds, from the registry's own revision links."""
        revisions = self.root / "docker/registry/v2/repositories" / repository / "_manifests/revisions/sha256"
        # a deleted manifest leaves its directory behind, without its link
        return {f"sha256:{p.parent.name}" for p in revisions.glob("*/link")}

    def blobs(self) -> int:
        return sum(1 for _ in (self.root / "docker/registry/v2/blobs").rglob("data"))

    def log(self) -> str:
        path = self.directory / "registry.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/v2/", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False


def _state_dir() -> Path:
    STATE.mkdir(parents=True, exist_ok=True)
    return STATE
