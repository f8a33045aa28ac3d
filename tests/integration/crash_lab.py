"""The crash tests' lab: a tiny image of their own, the pushes they run through their own proxy, the tags
those pushes leave, and the results file of a module's runs."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate_proxy import GateProxy
from killed_run import Lab

from baseimages.core.reference import parse_reference
from baseimages.registry.client import RegistryClient

IMAGE = "crashling"
VERSION = "1.0.0"
TIMEOUT = 600  # seconds for one run


def write_image(folder: Path, generation: int, platforms: list[str]) -> None:
    image = folder / "images" / IMAGE
    image.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(f'"{p}"' for p in platforms)
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "crash-lab"\nversion = "0.0.1"\n\n[tool.baseimages]\nplatforms = [{listed}]\n'
    )
    (image / "payload.txt").write_text(f"generation {generation}\n")
    (image / "Dockerfile").write_text(
        "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\nCOPY payload.txt /usr/share/crashling/payload.txt\n"
    )
    (image / "image.yaml").write_text(
        f"name: {IMAGE}\nversion: {VERSION}\ndescription: a tiny image whose pushes the crash tests kill\n"
        "parent: python:3.11-slim\nsmoke:\n  commands:\n    - name: the payload is in place\n"
        "      command: [sh, -c, 'sleep 2 && cat /usr/share/crashling/payload.txt']\n"
        "      stdout: '^generation [0-9]+$'\n"
    )


@dataclass
class CrashLab:
    lab: Lab
    proxy: GateProxy
    upstream: str  # localhost:PORT of the registry behind the proxy
    key: Any  # conftest.SigningKey
    generation: int = 1
    passed: set[str] = field(default_factory=set)  # digests some run tested and passed
    results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def repository(self) -> str:
        return f"{self.upstream}/{self.lab.namespace}/{IMAGE}"

    def next_generation(self) -> None:
        self.generation += 1
        (self.lab.project / "images" / IMAGE / "payload.txt").write_text(f"generation {self.generation}\n")

    def push(self, name: str, *extra: str, **env: str) -> tuple[subprocess.CompletedProcess[str], dict, float]:
        report = self.lab.tmp.parent / f"{name}.json"
        started = time.monotonic()
        done = subprocess.run(
            self.lab.argv(*extra, report=report), env=self.lab.env(**env), capture_output=True, text=True,
            timeout=TIMEOUT,
        )  # fmt: skip
        seconds = time.monotonic() - started
        data = json.loads(report.read_text()) if report.exists() else {"images": []}
        for image in data["images"]:
            if image["status"] in ("promoted", "unchanged") and image["digest"]:
                self.passed.add(image["digest"])
        return done, data, seconds

    def signing(self, password: str | None = None) -> tuple[list[str], dict[str, str]]:
        return ["--sign-key", str(self.key.private)], {"BASEIMAGES_SIGN_PASSWORD": password or self.key.password}

    def tags(self, client: RegistryClient) -> dict[str, str | None]:
        url = f"http://{self.upstream}/v2/{self.lab.namespace}/{IMAGE}/tags/list"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=30) as answer:
            names = json.loads(answer.read())["tags"] or []
        return {tag: client.digest(parse_reference(f"{self.repository}:{tag}")) for tag in names}


def released(tags: dict[str, str | None]) -> dict[str, str | None]:
    """The tags a promotion moves (immutable, rolling, monthly): no candidate, cosign artifact or cache ref."""
    return {t: d for t, d in tags.items() if not t.startswith(("candidate-", "sha256-", "buildcache", "cache"))}


# The results of the module's last run: outside pytest's own temporary folders (which it rotates), never
# in the checkout.
RESULTS = Path(tempfile.gettempdir()) / "baseimages-test-crash" / "crash-results.json"


def _machine() -> dict[str, object]:
    """What the figures were measured on: cores, memory, kernel, Docker and buildx."""
    memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    version = ["docker", "version", "--format", "{{.Server.Version}}"]
    buildx = subprocess.run(["docker", "buildx", "version"], capture_output=True, text=True).stdout.split()
    return {
        "cores": os.cpu_count(),
        "memory_gib": memory // 1024 // 1024,
        "kernel": platform.release(),
        "docker": subprocess.run(version, capture_output=True, text=True).stdout.strip(),
        "buildx": buildx[1] if len(buildx) > 1 else "?",
    }


def write_results(crash: CrashLab, seconds: float) -> None:
    here = Path(__file__).parent
    git = ["git", "-C", str(here), "rev-parse", "--short", "HEAD"]
    commit = subprocess.run(git, capture_output=True, text=True).stdout.strip()
    path = RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "commit": commit,
               "machine": _machine(), "seconds": round(seconds, 1), "cases": crash.results}  # fmt: skip
    path.write_text(json.dumps(payload, indent=1))
    print(f"\ncrash results ({round(seconds)} s in all, commit {commit}): {path}")
    for case in crash.results:
        print(f"  {case['case']:<40} {summary(case)}")


PROBLEMS = ("disagreeing_tags", "untested_tags", "processes_left", "containers_left", "work_folders_left")


def summary(case: dict[str, Any]) -> str:
    """One line: when the run was killed, what its rerun did, and what was wrong afterwards."""
    if "rerun_exit" not in case:
        error = f": {case['error'][:160]}" if case.get("error") else ""
        return f"exit {case.get('exit')} in {case.get('seconds')} s{error}"
    said = f"killed at {case['killed_after_s']} s; rerun exit {case['rerun_exit']}, {case['rerun_status']}"
    said += f" in {case['rerun_s']} s"
    wrong = [f"{key.replace('_', ' ')} {case[key]}" for key in PROBLEMS if case.get(key)]
    if case.get("audit_exit"):
        wrong.append(f"audit exit {case['audit_exit']}")
    return said + ("; " + "; ".join(wrong) if wrong else "; all agree, nothing left")
