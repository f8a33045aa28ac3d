"""The crash tests' lab: a tiny image of their own, the pushes they run through their own proxy, the tags
those pushes leave, and the results file of a module's runs."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
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


def said(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"


def write_results(crash: CrashLab, root: Path, seconds: float) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    path = root / "crash-results.json"
    payload = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "commit": commit,
               "seconds": round(seconds, 1), "cases": crash.results}  # fmt: skip
    path.write_text(json.dumps(payload, indent=1))
    print(f"\ncrash results ({round(seconds)} s in all): {path}")
    for case in crash.results:
        print("  " + ", ".join(f"{k}={v}" for k, v in case.items() if k not in ("leftovers",)))
