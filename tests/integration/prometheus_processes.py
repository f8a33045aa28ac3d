"""The real Prometheus parts from Debian (scripts/monitoring-tools installs them), each started by a test as
its own process on a 127.0.0.1 port it picks, with its state in the test's temporary directory, and stopped
by it: a Pushgateway, a node_exporter reading only a textfile directory, and a Prometheus scraping them.

A process the tests started records its pid in STATE; one that a killed test session left running is
stopped before new ones start (only if it is still that program with that state directory).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

STATE = Path(tempfile.gettempdir()) / "baseimages-test-prometheus"  # pid files of the processes started here
INSTALL = "run scripts/monitoring-tools (scripts/test does) to install it from Debian"


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: {INSTALL}")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return bytes(resp.read())


def _alive(pid: int) -> bool:
    """PID runs (a zombie, killed and not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def clear_stale() -> None:
    """Stop what an earlier test session started and left running when it was killed: a process whose
    starter is gone, if it is still the program that was started (its state directory in its command line)."""
    STATE.mkdir(parents=True, exist_ok=True)
    for pidfile in STATE.glob("*.pid"):
        try:
            pid_text, owner_text, workdir = pidfile.read_text().split("\n", 2)
            pid, owner = int(pid_text), int(owner_text)
        except (OSError, ValueError):
            pidfile.unlink(missing_ok=True)
            continue
        if _alive(owner):
            continue  # a running test session's: not ours to stop
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            if workdir and workdir in cmdline:
                os.kill(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)


class Server:
    """One server process: started with ARGV (which names WORKDIR), ready once READY answers."""

    def __init__(self, name: str, argv: Sequence[str], workdir: Path, port: int, ready: str) -> None:
        self.name, self.workdir, self.port = name, workdir, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = workdir / f"{name}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )
        self.pidfile = STATE / f"{name}-{self.process.pid}.pid"
        self.pidfile.write_text(f"{self.process.pid}\n{os.getpid()}\n{workdir}")
        self.wait_until(lambda: self._answers(ready), 30, f"{name} did not answer on {self.url}{ready}")

    def _answers(self, path: str) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.log.read_text()[-2000:]}")
        try:
            get(self.url + path, timeout=2)
        except OSError:
            return False
        return True

    def wait_until(self, check: Callable[[], Any], seconds: float, failure: str) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.2)
        pytest.fail(f"{failure} within {seconds:g} s; its log:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.pidfile.unlink(missing_ok=True)


@contextlib.contextmanager
def pushgateway(workdir: Path) -> Iterator[Server]:
    """A Pushgateway whose state is in WORKDIR (nothing shared with a system one)."""
    clear_stale()
    port = free_port()
    # Debian's default persistence file is the system's (/var/lib/prometheus): this one's is its own.
    argv = [
        binary("prometheus-pushgateway"),
        f"--web.listen-address=127.0.0.1:{port}",
        f"--persistence.file={workdir / 'pushgateway.data'}",
        "--log.level=warn",
    ]
    server = Server("pushgateway", argv, workdir, port, "/-/ready")
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def node_exporter(workdir: Path, textfiles: Path) -> Iterator[Server]:
    """A node_exporter with only its textfile collector, reading TEXTFILES."""
    clear_stale()
    port = free_port()
    argv = [
        binary("prometheus-node-exporter"),
        f"--web.listen-address=127.0.0.1:{port}",
        "--collector.disable-defaults",
        "--collector.textfile",
        f"--collector.textfile.directory={textfiles}",
        "--log.level=warn",
    ]
    server = Server("node-exporter", argv, workdir, port, "/metrics")
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def prometheus(workdir: Path, targets: dict[str, Server], rule_files: Sequence[Path] = ()) -> Iterator[Prometheus]:
    """A Prometheus scraping each of TARGETS (job name -> server) every second, honouring pushed labels."""
    clear_stale()
    port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": [
            {"job_name": job, "honor_labels": True, "static_configs": [{"targets": [f"127.0.0.1:{server.port}"]}]}
            for job, server in targets.items()
        ],
    }
    (workdir / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    argv = [
        binary("prometheus"),
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    server = Prometheus("prometheus", argv, workdir, port, "/-/ready")
    try:
        yield server
    finally:
        server.stop()


class Prometheus(Server):
    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector EXPR gives now, through the HTTP API."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        answer = json.loads(get(url))
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def label_values(self, label: str, match: str) -> list[str]:
        url = f"{self.url}/api/v1/label/{label}/values?" + urllib.parse.urlencode({"match[]": match})
        values: list[str] = json.loads(get(url))["data"]
        return values

    def values(self, expr: str, *labels: str) -> dict[tuple[str, ...], float]:
        """EXPR's series now, by the values of LABELS."""
        return {tuple(r["metric"].get(label, "") for label in labels): float(r["value"][1]) for r in self.query(expr)}

    def wait_for(self, expr: str, count: int = 1, seconds: float = 60) -> list[dict[str, Any]]:
        """EXPR's result once it holds at least COUNT series (scrapes come every second)."""
        result: list[dict[str, Any]] = self.wait_until(
            lambda: (lambda r: r if len(r) >= count else None)(self.query(expr)),
            seconds,
            f"{expr} did not give {count} series",
        )
        return result
