"""Crash anywhere, lose nothing: a real `python -m baseimages push` SIGKILLed at each stage, then a plain push.

One small image of the test's own (FROM python:3.11-slim, one file, one smoke command) in a catalog of its
own, pushed through a proxy of the test's own (gate_proxy) to the suite's registry, under a namespace of
its own. The first push promotes generation 1, so that every later push has a previous promotion to
disagree with. Each case then changes the image's file (a new digest) and starts a push, waits for the
stage to start, read from the run's own progress lines or seen at the proxy, and SIGKILLs it:

- during the build (its `building on` line);
- during the upload (the proxy holds the first blob upload);
- during the smoke tests (its `smoke testing` line, once its container exists);
- during signing, with a cosign key (the proxy holds the PUT of the signature manifest);
- between two tag PUTs of the promotion (the proxy answers three tag PUTs and holds the fourth).

Then a plain push must exit 0 and leave every tag agreeing with the newest promoted build, no tag on a
digest that was not tested, and nothing of the killed run: no process of its session, no container of
its image, no work folder. There are no test hooks in the product. Where the `audit` command exists, it
must pass too.

The measured durations and what each rerun found go to `crash-results.json` in a temporary directory of
the module's own, whose path the summary prints. The builds do not use the registry build cache
(`--no-build-cache`): what is killed is the push, and BuildKit's own cache keeps the builds short.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gate_proxy import GateProxy
from killed_run import Lab, Watched, containers_of, remove_containers, work_folders

from baseimages.core.reference import parse_reference
from baseimages.registry.client import RegistryClient

IMAGE = "crashling"
VERSION = "1.0.0"
TIMEOUT = 600  # seconds for one run
# Whether this checkout has the `audit` command: where it does, every rerun must pass it too.
AUDIT = [sys.executable, "-m", "baseimages", "audit"]
AUDIT_HELP = subprocess.run([*AUDIT, "--help"], capture_output=True).returncode == 0


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
        "      command: [cat, /usr/share/crashling/payload.txt]\n      stdout: '^generation [0-9]+$'\n"
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


@pytest.fixture(scope="module")
def crash_lab(
    engine: object, test_registry: str, tmp_path_factory: pytest.TempPathFactory, signing_key_factory, registry_client
) -> Iterator[CrashLab]:
    root = tmp_path_factory.mktemp("crash")
    (root / "tmp").mkdir()
    write_image(root / "project", 1, ["linux/amd64"])
    proxy = GateProxy(int(test_registry.rsplit(":", 1)[1]))
    lab = Lab(root / "project", proxy.address, f"crash-{uuid.uuid4().hex[:8]}", root / "tmp")
    crash = CrashLab(lab, proxy, test_registry, signing_key_factory(root / "key", "crash-key-password"))
    started = time.monotonic()
    done, data, seconds = crash.push("first")
    assert done.returncode == 0, said(done)
    crash.results.append({"case": "first push", "seconds": round(seconds, 1), "status": data["images"][0]["status"]})
    yield crash
    proxy.stop()
    _write_results(crash, root, time.monotonic() - started)
    prefix = f"{proxy.address}/{lab.namespace}/"
    subprocess.run(
        f"docker image ls --format '{{{{.Repository}}}}:{{{{.Tag}}}}' | grep '^{prefix}' | xargs -r docker image rm",
        shell=True, capture_output=True, timeout=120,
    )  # fmt: skip


def _write_results(crash: CrashLab, root: Path, seconds: float) -> None:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    path = root / "crash-results.json"
    payload = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "commit": commit,
               "seconds": round(seconds, 1), "cases": crash.results}  # fmt: skip
    path.write_text(json.dumps(payload, indent=1))
    print(f"\ncrash results ({round(seconds)} s in all): {path}")
    for case in crash.results:
        print("  " + ", ".join(f"{k}={v}" for k, v in case.items() if k not in ("leftovers",)))


# --------------------------------------------------------------------------- killing at each stage

BUILDING = r"building \[linux/amd64\]\s+building on"
SMOKE = r"smoke testing \[linux/amd64\]\s*$"
MERGED = re.compile(r"merged \d+ platforms?: (sha256:[0-9a-f]{64})")
SMOKE_PASSED = re.compile(r"smoke testing \[(\S+)\]\s+passed")


def _kill_when(crash: CrashLab, stage: str, watched: Watched) -> str:
    """Wait for STAGE to be under way in WATCHED, then SIGKILL it. What was seen when it was killed."""
    prefix = f"{crash.lab.registry}/{crash.lab.namespace}/"
    if stage == "build":
        seen = watched.wait_line(BUILDING, TIMEOUT)
    elif stage == "upload":
        watched.wait_line(r"crashling\s+pushing", TIMEOUT)
        held = crash.proxy.wait_held("blob-upload", TIMEOUT)
        seen = f"blob upload held: {held.ref if held else None}"
    elif stage == "smoke":
        seen = watched.wait_line(SMOKE, TIMEOUT)
        deadline = time.monotonic() + 30
        while not containers_of(prefix) and time.monotonic() < deadline:
            time.sleep(0.1)
        seen += f"; containers: {containers_of(prefix)}"
    elif stage == "sign":
        watched.wait_line(r"crashling\s+signing", TIMEOUT)
        held = crash.proxy.wait_held("signature", TIMEOUT)
        seen = f"signature PUT held: {held.ref if held else None}"
    else:
        watched.wait_line(r"crashling\s+promoting", TIMEOUT)
        held = crash.proxy.wait_held("tag", TIMEOUT)
        seen = f"tag PUTs answered {crash.proxy.tags_answered()}, held {held.ref if held else None}"
    watched.kill()
    return seen


@pytest.mark.parametrize("stage", ["build", "upload", "smoke", "sign", "promote"])
def test_a_push_killed_at_each_stage_is_finished_by_the_next_plain_push(
    crash_lab: CrashLab, stage: str, registry_client: RegistryClient
) -> None:
    crash = crash_lab
    crash.next_generation()
    holds = {"upload": ("blob-upload", 0), "sign": ("signature", 0), "promote": ("tag", 3)}
    if stage in holds:
        crash.proxy.hold(*holds[stage])
    argv, env = crash.signing() if stage == "sign" else ([], {})
    watched = Watched.start(crash.lab.argv(*argv), crash.lab.env(**env))
    try:
        seen = _kill_when(crash, stage, watched)
    finally:
        crash.proxy.reset()
        if watched.process.poll() is None:
            watched.kill()
    killed_digest = next((m.group(1) for line in watched.lines if (m := MERGED.search(line))), None)
    if killed_digest and any(SMOKE_PASSED.search(line) for line in watched.lines):
        crash.passed.add(killed_digest)  # tested before it was killed: a tag may name it
    half = released(crash.tags(registry_client))

    done, data, seconds = crash.push(f"rerun-{stage}", *argv, **env)
    image = (data["images"] or [{}])[0]
    found = _what_the_rerun_left(crash, watched, registry_client, image.get("digest"))
    crash.results.append({
        "case": f"killed during {stage}", "killed_after_s": round(watched.killed_at or 0, 1), "seen": seen,
        "tags_when_killed": _grouped(half), "rerun_exit": done.returncode, "rerun_s": round(seconds, 1),
        "rerun_status": image.get("status"), "rerun_reasons": image.get("reasons"), **found,
    })  # fmt: skip
    try:
        assert done.returncode == 0, said(done)
        assert found["disagreeing_tags"] == {}, found
        assert found["untested_tags"] == {}, found
        assert found["processes_left"] == [] and found["containers_left"] == [], found
        assert found["work_folders_left"] == [], found
        if AUDIT_HELP:
            assert found["audit_exit"] == 0, found["audit"]
        if stage == "sign":
            verify = subprocess.run(
                [sys.executable, "-m", "baseimages", "verify", f"{crash.repository}:latest", "--key",
                 str(crash.key.public)],
                capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert verify.returncode == 0, said(verify)
    finally:
        watched.end_survivors()
        remove_containers(containers_of(f"{crash.lab.registry}/{crash.lab.namespace}/"))


def _what_the_rerun_left(
    crash: CrashLab, watched: Watched, client: RegistryClient, reported: str | None
) -> dict[str, Any]:
    """After the rerun: which tags disagree with the newest build, which name an untested digest, and
    what of the killed run is still there."""
    tags = released(crash.tags(client))
    monthly = dt.datetime.now(dt.UTC).strftime("%Y.%m")
    rolling = [VERSION, VERSION.rsplit(".", 1)[0], VERSION.split(".")[0], "latest", monthly]
    immutable = sorted((t for t in tags if re.fullmatch(rf"{re.escape(VERSION)}-\d{{8}}\.\d+", t)),
                       key=lambda t: (t.split("-")[1].split(".")[0], int(t.rsplit(".", 1)[1])))  # fmt: skip
    newest = tags.get(immutable[-1]) if immutable else None
    disagreeing = {t: tags.get(t) for t in [*rolling, *immutable[-1:]] if tags.get(t) != newest or newest is None}
    if reported != newest:
        disagreeing["(the rerun's report)"] = reported
    found: dict[str, Any] = {
        "newest_build": newest,
        "disagreeing_tags": disagreeing,
        "untested_tags": {t: d for t, d in tags.items() if d not in crash.passed},
        "processes_left": watched.survivors(),
        "containers_left": containers_of(f"{crash.lab.registry}/{crash.lab.namespace}/"),
        "work_folders_left": work_folders(crash.lab.tmp),
        "audit_exit": None,
    }
    if AUDIT_HELP:
        argv = [*AUDIT, "--project", str(crash.lab.project), "--registry",
                crash.lab.registry, "--namespace", crash.lab.namespace]  # fmt: skip
        audit = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=crash.lab.env())
        found["audit_exit"], found["audit"] = audit.returncode, (audit.stdout + audit.stderr)[-2000:]
    return found


def _grouped(tags: dict[str, str | None]) -> dict[str, list[str]]:
    """digest (short) -> the tags naming it."""
    groups: dict[str, list[str]] = {}
    for tag, digest in sorted(tags.items()):
        groups.setdefault((digest or "none")[:19], []).append(tag)
    return groups
