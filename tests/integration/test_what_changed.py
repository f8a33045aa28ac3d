"""What changed, and who must rebuild: the real CLI (`python -m baseimages` in a subprocess) on the real engine
and the suite's registry, with a tiny image of the test's own under a namespace of its own.

The image (FROM python:3.11-slim, linux/amd64 and linux/arm64) holds one hand-written Python distribution,
`six`, in /opt/venv (the stand-in base has no pip). Build 1 pins six 1.16.0. Build 2 adds one Debian package
(`less`, apt-get from Debian's archive) and moves the pin to six 1.17.0: its push's JSON and Markdown reports,
`diff` and `history` show exactly those, on both platforms. A service repository pinned to build 1 (an
immutable tag, a digest and a rolling tag) is behind until `bump` rewrites its pins to build 2. Every push has
`--notify-url` of a webhook the test runs on 127.0.0.1: build 2's POST carries the summary of its changelog and
build 1's digest as the previous.

Build 3 changes only a comment in build 2's Dockerfile: its push builds (the inputs' fingerprint changed),
tests, reads the changelog, finds nothing inside changed on either platform, and keeps build 2's digest: no new
immutable tag, no tag moved.

Only build 2's apt-get runs under QEMU (build 3 reuses its cached steps).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from killed_run import remove_local_images
from lab_tools import released, said
from webhook import serve_hook

from baseimages.registry.client import RegistryClient

IMAGE = "whatit"
VERSION = "1.0.0"
PLATFORMS = ["linux/amd64", "linux/arm64"]
PACKAGE = "less"
PIN_OLD, PIN_NEW = "1.16.0", "1.17.0"
SITE = "/opt/venv/lib/python3.11/site-packages"
TIMEOUT = 900  # seconds for one command: build 2 runs apt-get under QEMU for arm64
IMMUTABLE = re.compile(rf"^{re.escape(VERSION)}-\d{{8}}\.\d+$")

_HEAD = "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\n"
# Reproducible as the catalog's images are: apt's lists, caches and logs (which hold the time) are left out.
_APT = (
    f"RUN apt-get update && apt-get install -y --no-install-recommends {PACKAGE} && rm -rf /var/lib/apt/lists/* "
    "/var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log /var/log/alternatives.log /var/cache/ldconfig/aux-cache\n"
)
_PINS = f"COPY site-packages/ {SITE}/\n"
_COMMENT = "# the same image: only this comment is new\n"
DOCKERFILES = {1: _HEAD + _PINS, 2: _HEAD + _APT + _PINS, 3: _HEAD + _APT + _COMMENT + _PINS}
# The labels two builds differ in by design: when and from which commit each was built, its inputs' fingerprint.
BUILD_LABELS = {
    "org.opencontainers.image.created",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.base.name",
    "org.opencontainers.image.base.digest",
    "io.baseimages.fingerprint",
}


@dataclass
class Lab:
    project: Path
    registry: str
    namespace: str
    client: RegistryClient
    hook: str  # the webhook's URL
    received: list[dict[str, Any]] = field(default_factory=list)  # what was POSTed to it, in order

    @property
    def repository(self) -> str:
        return f"{self.registry}/{self.namespace}/{IMAGE}"

    def write(self, build: int) -> None:
        """The image as build BUILD has it: its Dockerfile, and six's METADATA at the build's pin."""
        image = self.project / "images" / IMAGE
        pin = PIN_OLD if build == 1 else PIN_NEW  # build 3 keeps build 2's
        site = image / "site-packages"
        for old in site.glob("*.dist-info/METADATA"):
            old.unlink()
            old.parent.rmdir()
        (site / f"six-{pin}.dist-info").mkdir(parents=True)
        # What `pip install six==PIN` leaves: the METADATA the changelog reads.
        (site / f"six-{pin}.dist-info" / "METADATA").write_text(f"Metadata-Version: 2.1\nName: six\nVersion: {pin}\n")
        (image / "Dockerfile").write_text(DOCKERFILES[build])

    def cli(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "baseimages", *map(str, args)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("BASEIMAGES_")}
        return subprocess.run(
            argv, cwd=self.project, env={**env, "NO_COLOR": "1"}, capture_output=True, text=True, timeout=TIMEOUT
        )

    def push(self, name: str) -> tuple[dict[str, Any], str]:
        """Push the project; (its JSON report's image entry, its Markdown report)."""
        report, markdown = self.project.parent / f"{name}.json", self.project.parent / f"{name}.md"
        done = self.cli("push", "--project", self.project, "--lock-dir", self.project.parent / "locks",
                        "--report", report, "--report-md", markdown, "--notify-url", self.hook)  # fmt: skip
        assert done.returncode == 0, said(done)
        [image] = json.loads(report.read_text())["images"]
        return image, markdown.read_text()

    def released(self) -> dict[str, str | None]:
        """Every tag of the repository but the candidate, with the digest it names."""
        return released(self.client, self.registry, f"{self.namespace}/{IMAGE}")


@dataclass
class Builds:
    lab: Lab
    first: dict[str, Any]  # build 1's JSON report entry
    second: dict[str, Any]  # build 2's
    markdown: str  # build 2's Markdown report
    service: Path  # the service repository, pinned to build 1
    notified: list[dict[str, Any]]  # the webhook's bodies of builds 1 and 2

    @property
    def tag1(self) -> str:
        return immutable(self.first)

    @property
    def tag2(self) -> str:
        return immutable(self.second)


def immutable(image: dict[str, Any]) -> str:
    [tag] = [tag for tag in image["tags"] if IMMUTABLE.match(tag)]
    return tag


def service_dockerfile(repository: str, immutable_tag: str, digest: str) -> str:
    return (
        "# syntax=docker/dockerfile:1\n"
        f"FROM {repository}:{immutable_tag} AS builder\n"
        "RUN echo building\n"
        "\n"
        f"FROM {repository}@{digest} AS runtime\n"
        "COPY --from=builder /etc/hostname /srv/built-by\n"
        "\n"
        f"FROM {repository}:{VERSION} AS debug\n"
    )


@pytest.fixture(scope="module")
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A webhook on 127.0.0.1: its URL, and what was POSTed to it ({"path", "body"})."""
    with serve_hook() as served:
        yield served


@pytest.fixture(scope="module")
def builds(
    engine: object,
    test_registry: str,
    tmp_path_factory: pytest.TempPathFactory,
    registry_client: RegistryClient,
    hook: tuple[str, list[dict[str, Any]]],
) -> Iterator[Builds]:
    root = tmp_path_factory.mktemp("what-changed")
    project = root / "project"
    image = project / "images" / IMAGE
    image.mkdir(parents=True)
    namespace = f"whatit-{uuid.uuid4().hex[:8]}"
    listed = ", ".join(f'"{p}"' for p in PLATFORMS)
    (project / "pyproject.toml").write_text(
        f'[tool.baseimages]\nregistry = "{test_registry}"\nnamespace = "{namespace}"\nplatforms = [{listed}]\n'
        "build-cache = false\n"
    )
    (image / "image.yaml").write_text(
        f"name: {IMAGE}\nversion: {VERSION}\ndescription: a tiny image whose changes the tests follow\n"
        "parent: python:3.11-slim\nsmoke:\n  commands:\n    - name: six is in the venv\n"
        f"      command: [ls, {SITE}]\n      stdout: '^six-1\\.1[67]\\.0\\.dist-info$'\n"
    )
    lab = Lab(project, test_registry, namespace, registry_client, hook[0], hook[1])
    try:
        lab.write(1)
        first, _ = lab.push("build-1")
        assert first["status"] == "promoted", first
        service = root / "service"
        service.mkdir()
        (service / "Dockerfile").write_text(service_dockerfile(lab.repository, immutable(first), first["digest"]))
        lab.write(2)
        second, markdown = lab.push("build-2")
        assert second["status"] == "promoted", second
        yield Builds(lab, first, second, markdown, service, [post["body"] for post in lab.received])
    finally:
        remove_local_images(f"{lab.repository}:")  # the refs its pushes left in the shared engine's store


def _installed_version(builds: Builds) -> str:
    """The version of PACKAGE build 2 added, as the JSON report's changelog says on its first platform."""
    platform = builds.second["changelog"]["platforms"][PLATFORMS[0]]
    [package] = [p for p in platform["packages"] if p["name"] == PACKAGE]
    return str(package["new"])


def _assert_exactly_the_change(platforms: dict[str, Any], version: str) -> None:
    """On both platforms: PACKAGE added at VERSION, six moved from PIN_OLD to PIN_NEW, and nothing else but
    the build labels."""
    assert sorted(platforms) == PLATFORMS
    for name, platform in platforms.items():
        assert platform["state"] == "changed", name
        assert platform["packages"] == [{"name": PACKAGE, "change": "added", "old": None, "new": version}], name
        assert platform["python"] == [
            {"environment": "/opt/venv", "name": "six", "change": "changed", "old": PIN_OLD, "new": PIN_NEW}
        ], name
        others = [c for c in platform["config"] if not (c["field"] == "label" and c["name"] in BUILD_LABELS)]
        assert others == [], name
        assert platform["size"]["new"] > platform["size"]["old"], name
        assert platform["files"]["added"] > 0 and platform["files"]["changed"] > 0, name  # less, dpkg's database


@pytest.mark.integration
def test_the_push_reports_carry_exactly_the_added_package_and_the_moved_pin_on_both_platforms(builds: Builds):
    lab = builds.lab
    assert builds.tag1 != builds.tag2
    assert builds.first["changelog"]["first"] is True
    assert {p["state"] for p in builds.first["changelog"]["platforms"].values()} == {"first"}
    log = builds.second["changelog"]
    assert log["schema"] == "baseimages.changelog/v1" and log["first"] is False and log["differs"] is True
    assert log["old"] == {"reference": f"{lab.repository}:{VERSION}", "digest": builds.first["digest"]}
    assert log["new"]["digest"] == builds.second["digest"]
    version = _installed_version(builds)
    assert re.fullmatch(r"[0-9][0-9A-Za-z.+~:-]*", version), version
    _assert_exactly_the_change(log["platforms"], version)

    section = builds.markdown.split("### Changelogs", 1)[1]
    headings = re.findall(r"^##### (linux/\w+): (\w+)$", section, flags=re.MULTILINE)
    assert headings == [(platform, "changed") for platform in PLATFORMS]
    for platform_section in section.split("##### ")[1:]:
        rows = [line for line in platform_section.splitlines() if line.startswith("| ") and "---" not in line]
        labels = [row for row in rows if row.startswith("| ~ | `label ")]
        assert {row.split("`")[1].removeprefix("label ") for row in labels} <= BUILD_LABELS
        assert [row for row in rows if row != "| | name | old | new |" and row not in labels] == [
            f"| + | `{PACKAGE}` |  | `{version}` |",
            f"| ~ | `six (/opt/venv)` | `{PIN_OLD}` | `{PIN_NEW}` |",
        ]


@pytest.mark.integration
def test_diff_of_the_two_immutable_tags_shows_the_package_and_the_pin_as_text_and_json(builds: Builds):
    lab = builds.lab
    old, new = f"{lab.repository}:{builds.tag1}", f"{lab.repository}:{builds.tag2}"
    version = _installed_version(builds)

    as_json = lab.cli("diff", "--json", "--project", lab.project, old, new)
    assert as_json.returncode == 1, said(as_json)
    doc = json.loads(as_json.stdout)
    assert doc["old"] == {"reference": old, "digest": builds.first["digest"]}
    assert doc["new"] == {"reference": new, "digest": builds.second["digest"]}
    _assert_exactly_the_change(doc["platforms"], version)
    assert doc["platforms"] == builds.second["changelog"]["platforms"]  # the push read the same

    text = lab.cli("diff", "--project", lab.project, old, new)
    assert text.returncode == 1, said(text)
    lines = text.stdout.splitlines()
    assert lines[0] == f"{old} ({builds.first['digest'][7:19]}) -> {new} ({builds.second['digest'][7:19]})"
    for platform in PLATFORMS:
        start = lines.index(f"{platform}: changed")
        block = lines[start + 1 : start + 6]
        assert block == ["  packages:", f"    + {PACKAGE} {version}", "  python (/opt/venv):",
                         f"    ~ six {PIN_OLD} -> {PIN_NEW}", "  config:"], said(text)  # fmt: skip


@pytest.mark.integration
def test_a_service_pinned_to_build_one_is_behind_until_bump_rewrites_its_pins_to_build_two(builds: Builds):
    lab = builds.lab
    family = ["--project", lab.project, "--registry", lab.registry, "--namespace", lab.namespace]
    dockerfile = builds.service / "Dockerfile"
    written = dockerfile.read_text()
    version = _installed_version(builds)

    behind = lab.cli("dependents", "--json", "--fail-if-behind", *family, builds.service)
    assert behind.returncode == 1, said(behind)
    doc = json.loads(behind.stdout)
    assert (doc["total"], doc["behind"]) == (3, 2)
    pins = {pin["pin"]: pin for pin in doc["pins"]}
    assert sorted(pins) == ["digest", "immutable", "rolling"]
    assert [pins[p]["line"] for p in ("immutable", "digest", "rolling")] == [2, 5, 8]
    assert pins["rolling"]["behind"] is False
    for kind in ("immutable", "digest"):
        pin = pins[kind]
        assert pin["behind"] is True and pin["tag_line"] == VERSION, pin
        assert pin["pinned_digest"] == builds.first["digest"], pin
        assert pin["promoted"] == {"tag": builds.tag2, "digest": builds.second["digest"]}, pin
        assert f"    + {PACKAGE} {version}" in pin["changelog"].splitlines(), pin["changelog"]
        assert f"    ~ six {PIN_OLD} -> {PIN_NEW}" in pin["changelog"].splitlines(), pin["changelog"]
    text = lab.cli("dependents", "--fail-if-behind", *family, builds.service)
    assert text.returncode == 1 and f"BEHIND {VERSION}: promoted now {builds.tag2}" in text.stdout, said(text)
    assert f"+ {PACKAGE} {version}" in text.stdout, said(text)

    bumped = lab.cli("bump", *family, builds.service)
    assert bumped.returncode == 0, said(bumped)
    assert bumped.stdout.startswith("bumped 2 pins in 1 files\n"), said(bumped)
    assert dockerfile.read_text() == service_dockerfile(lab.repository, builds.tag2, builds.second["digest"])
    assert dockerfile.read_text() == written.replace(builds.tag1, builds.tag2).replace(
        builds.first["digest"], builds.second["digest"]
    )

    current = lab.cli("dependents", "--json", "--fail-if-behind", *family, builds.service)
    assert current.returncode == 0, said(current)
    assert json.loads(current.stdout)["behind"] == 0
    again = lab.cli("bump", *family, builds.service)
    assert again.returncode == 0, said(again)
    assert again.stdout.startswith("nothing to bump"), said(again)
    assert dockerfile.read_text() == service_dockerfile(lab.repository, builds.tag2, builds.second["digest"])


@pytest.mark.integration
def test_history_lists_build_two_then_build_one_and_build_twos_changelog_names_the_package(builds: Builds):
    lab = builds.lab
    version = _installed_version(builds)
    done = lab.cli("history", "--json", "--project", lab.project, lab.repository)
    assert done.returncode == 0, said(done)
    doc = json.loads(done.stdout)
    assert doc["schema"] == "baseimages.history/v1" and doc["repository"] == lab.repository
    assert (doc["total"], doc["shown"]) == (2, 2)
    newest, oldest = doc["builds"]
    assert (newest["tag"], newest["digest"], newest["previous"]) == (builds.tag2, builds.second["digest"], builds.tag1)
    assert (oldest["tag"], oldest["digest"], oldest["previous"]) == (builds.tag1, builds.first["digest"], None)
    assert newest["platforms"] == PLATFORMS and oldest["platforms"] == PLATFORMS
    _assert_exactly_the_change(newest["changelog"]["platforms"], version)
    assert oldest["changelog"]["first"] is True

    text = lab.cli("history", "--project", lab.project, lab.repository)
    assert text.returncode == 0, said(text)
    assert text.stdout.index(f"{builds.tag2}  ") < text.stdout.index(f"{builds.tag1}  "), said(text)
    assert text.stdout.count(f"    + {PACKAGE} {version}") == 2, said(text)  # once per platform


@pytest.mark.integration
def test_the_webhook_is_told_of_build_two_with_build_one_as_previous_and_its_changelog_summary(builds: Builds):
    assert [body["digest"] for body in builds.notified] == [builds.first["digest"], builds.second["digest"]]
    body = builds.notified[1]
    assert (body["schema"], body["image"], body["version"]) == ("baseimages.notify/v1", IMAGE, VERSION)
    assert body["repository"] == builds.lab.repository
    assert body["previous_digest"] == builds.first["digest"]
    assert body["tags"] == builds.second["tags"] and body["tags"][0] == builds.tag2
    assert body["platforms"] == PLATFORMS
    summary = body["changelog"]
    assert (summary["first"], summary["differs"]) == (False, True)
    for name, platform in builds.second["changelog"]["platforms"].items():
        said_of = summary["platforms"][name]
        assert said_of["state"] == "changed"
        assert said_of["packages"] == {"added": 1, "removed": 0, "changed": 0}
        assert said_of["python"] == {"added": 0, "removed": 0, "changed": 1}
        assert said_of["config"] == len(platform["config"])
        assert said_of["size"]["old"] == platform["size"]["old"] and said_of["size"]["new"] == platform["size"]["new"]


@dataclass
class Settled:
    before: dict[str, str | None]  # every released tag after build 2
    after: dict[str, str | None]  # and after build 3's push
    image: dict[str, Any]  # build 3's JSON report entry
    markdown: str


@pytest.fixture(scope="module")
def settled(builds: Builds) -> Settled:
    """Build 3, a comment-only change of build 2, pushed."""
    lab = builds.lab
    before = lab.released()
    lab.write(3)
    image, markdown = lab.push("build-3")
    return Settled(before, lab.released(), image, markdown)


@pytest.mark.integration
def test_a_rebuild_with_only_a_comment_changed_keeps_the_published_digest_and_writes_no_tag(
    builds: Builds, settled: Settled
):
    # (That the tags which lag, a new month's, move onto the kept digest is a unit test's: a month cannot pass here.)
    image = settled.image
    assert image["status"] == "unchanged" and image["digest"] == builds.second["digest"], image
    assert any(reason.startswith("nothing inside changed") for reason in image["reasons"]), image["reasons"]
    assert any(reason.startswith("inputs changed: Dockerfile") for reason in image["reasons"]), image["reasons"]
    assert settled.after == settled.before  # no new immutable tag, no tag moved
    assert builds.tag2 in image["tags"]
    log = image["changelog"]
    assert log["old"]["digest"] == builds.second["digest"] and log["new"]["digest"] != builds.second["digest"]
    for name, platform in log["platforms"].items():
        assert platform["state"] == "rebuilt", (name, platform)
        assert platform["files"] == {"added": 0, "removed": 0, "changed": 0, "paths": []}, name
        assert {c["name"] for c in platform["config"]} <= BUILD_LABELS, name
        assert "io.baseimages.fingerprint" in {c["name"] for c in platform["config"]}, name
    assert "nothing inside changed" in settled.markdown
