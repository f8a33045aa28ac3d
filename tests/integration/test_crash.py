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
its image or with its run's label, no work folder (`baseimages-*` in its TMPDIR). `audit` must pass,
and after the signing case `verify` must pass on `latest`. There are no test hooks in the product.

The signer's failures come next, on the same image: a wrong key password, and the proxy answering 403 to
the signature's or an attestation's upload; then an image whose every check on one platform is skipped.

The measured durations and what each rerun found go to /tmp/baseimages-test-crash/crash-results.json
(crash_lab.RESULTS), whose path and a line per case the summary prints. The builds do not use the registry build cache
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
from pathlib import Path
from typing import Any

import pytest
from crash_lab import IMAGE, TIMEOUT, VERSION, CrashLab, released, write_image, write_results
from gate_proxy import GateProxy
from killed_run import (
    Lab,
    Watched,
    by_name,
    containers_of,
    containers_of_run,
    remove_containers,
    remove_local_images,
    still_there,
    work_folders,
)
from lab_tools import said

from baseimages.registry.client import RegistryClient

AUDIT = [sys.executable, "-m", "baseimages", "audit"]


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
    crash.results.append({"case": "first push", "exit": done.returncode, "seconds": round(seconds, 1)})
    yield crash
    proxy.stop()
    write_results(crash, time.monotonic() - started)
    remove_local_images(f"{proxy.address}/{lab.namespace}/")


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
        deadline = time.monotonic() + 20  # the smoke command sleeps 2 s: its container is there that long
        while not (running := containers_of(prefix)) and time.monotonic() < deadline:
            time.sleep(0.05)
        seen += f"; containers: {running}"
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
    crash.proxy.reset()
    holds = {"upload": ("blob-upload", 0), "sign": ("signature", 0), "promote": ("tag", 3)}
    if stage in holds:
        crash.proxy.hold(*holds[stage])
    argv, env = crash.signing() if stage == "sign" else ([], {})
    folders = set(work_folders(crash.lab.tmp))  # what earlier cases left is theirs
    watched = Watched.start(crash.lab.argv(*argv), crash.lab.env(**env))
    try:
        seen = _kill_when(crash, stage, watched)
    finally:
        crash.proxy.reset()
        if watched.process.poll() is None:
            watched.kill()
    early = stage in ("build", "upload", "smoke")
    got_past = [line for line in watched.lines if re.search(r"\b(promoted|unchanged)\b", line)]
    got_past += [line for line in watched.lines if early and SMOKE_PASSED.search(line)]
    if got_past:
        watched.end_survivors()
        pytest.fail(f"killed too late: the run got past {stage}: {got_past}")
    time.sleep(1)  # a `docker create` the run had started finishes on its own
    prefix = f"{crash.lab.registry}/{crash.lab.namespace}/"
    left_by_kill = by_name(containers_of(prefix), containers_of_run(watched.pid))
    killed_digest = next((m.group(1) for line in watched.lines if (m := MERGED.search(line))), None)
    if killed_digest and any(SMOKE_PASSED.search(line) for line in watched.lines):
        crash.passed.add(killed_digest)  # tested before it was killed: a tag may name it
    half = released(crash.tags(registry_client))

    done, data, seconds = crash.push(f"rerun-{stage}", *argv, **env)
    image = (data["images"] or [{}])[0]
    found = _what_the_rerun_left(crash, watched, registry_client, image.get("digest"), left_by_kill, folders)
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
        remove_containers(still_there(left_by_kill) + containers_of(f"{crash.lab.registry}/{crash.lab.namespace}/"))


def _what_the_rerun_left(
    crash: CrashLab,
    watched: Watched,
    client: RegistryClient,
    reported: str | None,
    left_by_kill: list[str],
    folders_before: set[str],
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
        "containers_when_killed": left_by_kill,
        "containers_left": by_name(
            still_there(left_by_kill),
            containers_of(f"{crash.lab.registry}/{crash.lab.namespace}/"),
            containers_of_run(watched.pid),
        ),
        "work_folders_left": [f for f in work_folders(crash.lab.tmp) if f not in folders_before],
    }
    argv = [*AUDIT, "--project", str(crash.lab.project), "--registry", crash.lab.registry, "--namespace",
            crash.lab.namespace]  # fmt: skip
    audit = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=crash.lab.env())
    found["audit_exit"], found["audit"] = audit.returncode, (audit.stdout + audit.stderr)[-2000:]
    return found


def _grouped(tags: dict[str, str | None]) -> dict[str, list[str]]:
    """digest (short) -> the tags naming it."""
    groups: dict[str, list[str]] = {}
    for tag, digest in sorted(tags.items()):
        groups.setdefault((digest or "none")[:19], []).append(tag)
    return groups


# --------------------------------------------------------------------------- the signer fails: nothing promotes


def _assert_failed_without_moving_a_tag(
    done: subprocess.CompletedProcess[str],
    data: dict,
    before: dict[str, str | None],
    after: dict[str, str | None],
    code: int,
) -> str:
    """The push exited CODE with the image failed and a one-line error, and no released tag moved; the error."""
    assert done.returncode == code, said(done)
    (image,) = data["images"]
    assert image["status"] == "failed" and data["exit_code"] == code, image
    error = image["error"] or ""
    assert error and "\n" not in error and "Traceback" not in done.stderr + done.stdout, said(done)
    assert f"error: {error}" in done.stdout, said(done)
    assert after == before
    return error


def test_a_wrong_key_password_fails_the_image_in_one_line_and_moves_no_tag(
    crash_lab: CrashLab, registry_client: RegistryClient
) -> None:
    crash = crash_lab
    crash.next_generation()
    before = released(crash.tags(registry_client))
    argv, env = crash.signing(password="not-the-key-password")
    done, data, seconds = crash.push("wrong-password", *argv, **env)
    after = released(crash.tags(registry_client))
    crash.results.append({"case": "wrong key password", "exit": done.returncode, "seconds": round(seconds, 1),
                          "error": (data["images"] or [{}])[0].get("error")})  # fmt: skip
    error = _assert_failed_without_moving_a_tag(done, data, before, after, code=1)  # the signer's failure
    assert error.startswith(f"signing {crash.lab.registry}/{crash.lab.namespace}/{IMAGE}@sha256:"), error


@pytest.mark.parametrize("refused", ["signature", "attestation"])
def test_a_registry_refusing_the_signature_or_an_attestation_fails_the_image_and_moves_no_tag(
    crash_lab: CrashLab, registry_client: RegistryClient, refused: str
) -> None:
    crash = crash_lab
    crash.next_generation()
    before = released(crash.tags(registry_client))
    crash.proxy.refuse(refused, 403)
    try:
        done, data, seconds = crash.push(f"refused-{refused}", *crash.signing()[0], **crash.signing()[1])
        refusals = [seen.ref for seen in crash.proxy.refused]
    finally:
        crash.proxy.reset()
    after = released(crash.tags(registry_client))
    crash.results.append({"case": f"registry refuses the {refused} (403)", "exit": done.returncode,
                          "seconds": round(seconds, 1), "refused": refusals,
                          "error": (data["images"] or [{}])[0].get("error")})  # fmt: skip
    assert refusals, f"no {refused} upload reached the proxy:\n{said(done)}"
    error = _assert_failed_without_moving_a_tag(done, data, before, after, code=3)  # a registry that refuses
    assert "DENIED: refused by the test proxy" in error, error


def test_an_image_whose_every_check_is_skipped_on_one_platform_fails_end_to_end_with_no_tags(
    crash_lab: CrashLab, test_registry: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    project = tmp_path / "project"
    write_image(project, 1, ["linux/amd64", "linux/arm64"])
    image = project / "images" / IMAGE
    (image / "not-checked.txt").write_text("the arm64 build is not checked in this test\n")
    (image / "Dockerfile").write_text(
        (image / "Dockerfile").read_text() + "COPY not-checked.txt /usr/share/crashling/not-checked\n"
    )
    spec = (
        (image / "image.yaml")
        .read_text()
        .replace("smoke:\n", "skips_allowed:\n  linux/arm64: the arm64 build is not checked in this test\nsmoke:\n")
    )
    spec += (
        "      platforms: [linux/amd64]\n"
        "    - name: the payload is in place on arm64\n"
        "      command: [cat, /usr/share/crashling/payload.txt]\n"
        "      platforms: [linux/arm64]\n"
        "      skip_if_exists: /usr/share/crashling/not-checked\n"
    )
    (image / "image.yaml").write_text(spec)
    lab = Lab(project, test_registry, f"skipped-{uuid.uuid4().hex[:8]}", tmp_path / "tmp")
    lab.tmp.mkdir()
    report = tmp_path / "report.json"
    request.addfinalizer(lambda: remove_local_images(f"{test_registry}/{lab.namespace}/"))
    started = time.monotonic()
    done = subprocess.run(lab.argv(report=report), env=lab.env(), capture_output=True, text=True, timeout=TIMEOUT)
    (result,) = json.loads(report.read_text())["images"] if report.exists() else [{}]
    seconds = round(time.monotonic() - started, 1)
    case = {"case": "every arm64 check skipped", "exit": done.returncode, "seconds": seconds}
    crash_lab.results.append({**case, "error": result.get("error")})
    assert done.returncode == 1, said(done)
    assert result["status"] == "failed", result
    arm64 = next(p for p in result["platforms"] if p["platform"] == "linux/arm64")
    assert (arm64["status"], arm64["problem"]) == ("failed", "no check ran"), arm64
    assert [c["status"] for c in arm64["checks"]] == ["skipped"]
    amd64 = next(p for p in result["platforms"] if p["platform"] == "linux/amd64")
    assert amd64["status"] == "passed", amd64
    assert result["tags"] == []
    url = f"http://{test_registry}/v2/{lab.namespace}/{IMAGE}/tags/list"
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=30) as answer:
        tags = json.loads(answer.read())["tags"] or []
    assert released(dict.fromkeys(tags)) == {}, tags
