"""Fresh when a fix exists: the real CLI (`python -m baseimages` in a subprocess) on the real engine and the
suite's registry, with a project of the test's own and the tests' own Debian repository (apt_repo.py).

Two tiny images FROM python:3.11-slim (the stand-in), linux/amd64 and linux/arm64 (QEMU): `probed` and
`plain`. Both replace the stand-in's apt sources by the test repository alone (Debian's archive is never
consulted, so no update but the test's own can appear); `probed` installs `baseimages-probe` 1.0 from it,
`plain` installs nothing. The repository's suite is `probe-security`: a security suite by its name, so the
default `refresh-updates = security` is the policy that acts.

The story, in order: both pushed with the probe at 1.0; `updates` finds nothing installable; 1.1 published;
`updates` finds the probe 1.0 -> 1.1 for `probed` on both platforms and nothing for `plain` (and records when
it first saw it in the `updates-state` file); with the suite gone from the repository for a moment, `updates`
exits 3 with each image's error and the state keeps what it knew; `plan` and the dry run with `--refresh
updates` rebuild `probed` only, naming the package; `push --refresh updates` rebuilds `probed` afresh (its
changelog shows the probe landing at 1.1 on both platforms) and leaves `plain` as it was; `updates` then finds
nothing, and the state forgets the update.

Apart from the story: the stand-in's own sources, Debian's real archives, read by `updates` without error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from apt_repo import PACKAGE, PAYLOAD, AptRepo, serve_apt_repo
from killed_run import remove_local_images
from lab_tools import released, said

from baseimages.registry.client import RegistryClient

PLATFORMS = ["linux/amd64", "linux/arm64"]
VERSION = "1.0.0"
SUITE = "probe-security"  # what `updates` counts as a security suite: the default refresh-updates acts on it
TIMEOUT = 900  # seconds for one command: a push runs apt-get under QEMU for arm64
_HEAD = "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\n"
# Reproducible as the catalog's images are: apt's lists, caches and logs (which hold the time) are left out.
_CLEAN = (
    "rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log /var/log/alternatives.log "
    "/var/cache/ldconfig/aux-cache"
)


def sources_step(line: str) -> str:
    """Only LINE as the image's apt sources: the stand-in's own (Debian's archive) are removed."""
    return f'RUN rm -f /etc/apt/sources.list.d/* && echo "{line}" > /etc/apt/sources.list\n'


def image_yaml(name: str, command: list[str], stdout: str) -> str:
    return (
        f"name: {name}\nversion: {VERSION}\ndescription: a tiny image whose installable updates the tests follow\n"
        f"parent: python:3.11-slim\nsmoke:\n  commands:\n    - name: {name} is as built\n"
        f"      command: {json.dumps(command)}\n      stdout: '{stdout}'\n"
    )


@dataclass
class Lab:
    project: Path
    registry: str
    namespace: str
    client: RegistryClient
    state: Path  # the updates-state file every command is given
    no_proxy: str  # hosts of this machine no proxy may stand in front of

    def write(self, name: str, dockerfile: str, smoke: list[str], stdout: str) -> None:
        folder = self.project / "images" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Dockerfile").write_text(_HEAD + dockerfile)
        (folder / "image.yaml").write_text(image_yaml(name, smoke, stdout))

    def cli(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "baseimages", *map(str, args), "--project", str(self.project),
                "--updates-state", str(self.state)]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("BASEIMAGES_")}
        hosts = ",".join(filter(None, [env.get("no_proxy") or env.get("NO_PROXY"), self.no_proxy]))
        env = {**env, "NO_COLOR": "1", "no_proxy": hosts, "NO_PROXY": hosts}
        return subprocess.run(argv, cwd=self.project, env=env, capture_output=True, text=True, timeout=TIMEOUT)

    def updates(self, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, dict[str, Any]]]:
        """`updates --json ARGS`: the run, and its document's images by name."""
        done = self.cli("updates", "--json", *args)
        images = {image["image"]: image for image in json.loads(done.stdout)["images"]} if done.stdout else {}
        return done, images

    def push(self, name: str, *args: str) -> dict[str, Any]:
        """Push the project with ARGS; its JSON report, with the image entries by name."""
        report = self.project.parent / f"{name}.json"
        done = self.cli("push", "--lock-dir", self.project.parent / "locks", "--report", report, *args)
        assert done.returncode == 0, said(done, 6000)
        doc: dict[str, Any] = json.loads(report.read_text())
        return {**doc, "images": {image["name"]: image for image in doc["images"]}}

    def released(self, image: str) -> dict[str, str | None]:
        """Every tag of IMAGE's repository but the candidate, with the digest it names."""
        return released(self.client, self.registry, f"{self.namespace}/{image}")

    def state_of(self, image: str) -> dict[str, dict[str, Any]]:
        """What the updates-state file records of IMAGE: platform -> update key -> entry."""
        return dict(json.loads(self.state.read_text())["images"].get(image, {}))


def new_lab(root: Path, registry: str, client: RegistryClient, no_proxy: str) -> Lab:
    project = root / "project"
    project.mkdir(parents=True)
    namespace = f"freshit-{uuid.uuid4().hex[:8]}"
    listed = ", ".join(f'"{p}"' for p in PLATFORMS)
    (project / "pyproject.toml").write_text(
        f'[tool.baseimages]\nregistry = "{registry}"\nnamespace = "{namespace}"\nplatforms = [{listed}]\n'
        "build-cache = false\n"
    )
    return Lab(project, registry, namespace, client, root / "updates-state.json", no_proxy)


@dataclass
class Story:
    lab: Lab
    repo: AptRepo
    first: dict[str, dict[str, Any]]  # the first push's report's image entries (the probe at 1.0)
    before: tuple[subprocess.CompletedProcess[str], dict[str, dict[str, Any]]]  # `updates` before 1.1
    after: tuple[subprocess.CompletedProcess[str], dict[str, dict[str, Any]]]  # `updates` once 1.1 is out
    quiet: subprocess.CompletedProcess[str]  # `updates --fail-if-updates` (text) before 1.1
    failing: subprocess.CompletedProcess[str]  # `updates --fail-if-updates` (text) once 1.1 is out
    state_seen: dict[str, dict[str, Any]]  # the state's record of probed after that look
    missing: tuple[subprocess.CompletedProcess[str], dict[str, dict[str, Any]]]  # `updates`, the suite gone
    state_kept: dict[str, dict[str, Any]]  # the state's record of probed after that failed look
    plan: subprocess.CompletedProcess[str]  # `plan --json --refresh updates`
    dry: subprocess.CompletedProcess[str]  # `push --dry-run --refresh updates`
    commands: subprocess.CompletedProcess[str]  # `push --dry-run=commands --refresh updates`
    released: dict[str, dict[str, str | None]]  # each image's tags before the refresh
    refresh: dict[str, Any]  # the `push --refresh updates` report (its image entries by name)
    released_after: dict[str, dict[str, str | None]]
    final: tuple[subprocess.CompletedProcess[str], dict[str, dict[str, Any]]]  # `updates` after the refresh


@pytest.fixture(scope="module")
def story(
    engine: object, test_registry: str, tmp_path_factory: pytest.TempPathFactory, registry_client: RegistryClient
) -> Iterator[Story]:
    root = tmp_path_factory.mktemp("fresh-updates")
    with serve_apt_repo(root / "apt-repo", "1.0", suite=SUITE) as repo:
        lab = new_lab(root, test_registry, registry_client, repo.host)
        install = f"RUN apt-get update -q && apt-get install -y -q --no-install-recommends {PACKAGE} && {_CLEAN}\n"
        lab.write("probed", sources_step(repo.sources_line) + install, ["cat", f"/{PAYLOAD}"], "^1\\.[01]$")
        lab.write("plain", sources_step(repo.sources_line), ["cat", "/etc/apt/sources.list"], SUITE)
        try:
            first = lab.push("first")["images"]
            before = lab.updates()
            quiet = lab.cli("updates", "--fail-if-updates")
            repo.publish("1.1")
            after = lab.updates()
            failing = lab.cli("updates", "--fail-if-updates")
            state_seen = lab.state_of("probed")
            (repo.root / "dists").rename(repo.root / "gone")  # a mirror without the suite: no image can be read
            missing = lab.updates()
            (repo.root / "gone").rename(repo.root / "dists")
            state_kept = lab.state_of("probed")
            plan = lab.cli("plan", "--json", "--refresh", "updates")
            dry = lab.cli("push", "--dry-run", "--refresh", "updates")
            commands = lab.cli("push", "--dry-run=commands", "--refresh", "updates")
            released = {name: lab.released(name) for name in ("probed", "plain")}
            refresh = lab.push("refresh", "--refresh", "updates")
            released_after = {name: lab.released(name) for name in ("probed", "plain")}
            final = lab.updates()
            yield Story(lab, repo, first, before, after, quiet, failing, state_seen, missing, state_kept, plan, dry,
                        commands, released, refresh, released_after, final)  # fmt: skip
        finally:
            remove_local_images(f"{lab.registry}/{lab.namespace}/")  # the refs its pushes left in the engine's store


def probe_updates(platform: dict[str, Any]) -> list[dict[str, Any]]:
    return [update for update in platform["debian"] if update["package"] == PACKAGE]


@pytest.mark.integration
def test_updates_finds_nothing_at_first_then_the_probe_1_0_to_1_1_on_both_platforms_of_probed_only(story: Story):
    assert {name: image["status"] for name, image in story.first.items()} == {"probed": "promoted", "plain": "promoted"}
    done, images = story.before
    assert done.returncode == 0, said(done, 6000)
    assert json.loads(done.stdout)["installable"] is False
    assert story.quiet.returncode == 0, said(story.quiet, 6000)  # --fail-if-updates: none is installable
    assert story.quiet.stdout.splitlines()[-1] == "0 installable update(s) in 2 image(s)", said(story.quiet, 6000)
    for name in ("probed", "plain"):
        image = images[name]
        assert image["error"] is None and image["digest"] == story.first[name]["digest"], image
        assert [p["platform"] for p in image["platforms"]] == PLATFORMS, image
        for platform in image["platforms"]:
            assert (platform["debian"], platform["python"]) == ([], []), platform
            assert platform["sources"] == [f"{story.repo.url.rstrip('/')} {SUITE} main"], platform
            assert platform["skipped"] == [], platform

    done, images = story.after
    assert done.returncode == 0, said(done, 6000)  # a report, updates or not
    assert json.loads(done.stdout)["installable"] is True
    probed, plain = images["probed"], images["plain"]
    assert [p["platform"] for p in probed["platforms"]] == PLATFORMS, probed
    for platform in probed["platforms"]:
        [update] = platform["debian"]
        assert {k: update[k] for k in ("package", "installed", "candidate", "suite", "security")} == {
            "package": PACKAGE, "installed": "1.0", "candidate": "1.1", "suite": SUITE, "security": True
        }, update  # fmt: skip
        assert update["first_seen"] is not None and platform["python"] == [], platform
    assert plain["error"] is None and [p["platform"] for p in plain["platforms"]] == PLATFORMS, plain
    assert all((p["debian"], p["python"]) == ([], []) for p in plain["platforms"]), plain

    assert story.failing.returncode == 1, said(story.failing, 6000)  # --fail-if-updates: one is installable
    lines = story.failing.stdout.splitlines()
    shown = [line for line in lines if line.startswith(f"    ! {PACKAGE} 1.0 -> 1.1 ({SUITE}, waiting ")]
    assert len(shown) == 2, said(story.failing, 6000)  # `!`: from a security suite; once per platform
    assert lines[-1] == "2 installable update(s) in 2 image(s)", said(story.failing, 6000)


@pytest.mark.integration
def test_the_look_records_when_the_update_was_first_seen_in_the_updates_state(story: Story):
    _, images = story.after
    for platform in images["probed"]["platforms"]:
        [update] = probe_updates(platform)
        entry = story.state_seen[platform["platform"]][f"deb:{PACKAGE}"]
        assert entry == {"candidate": "1.1", "first_seen": update["first_seen"], "security": True}, entry
    # The push's own look (refresh `updates`) found the same update: its report keeps the time first seen.
    looked = {image["image"]: image for image in story.refresh["updates"]["images"]}
    assert [p["platform"] for p in looked["probed"]["platforms"]] == PLATFORMS
    for platform in looked["probed"]["platforms"]:
        [update] = probe_updates(platform)
        assert update["first_seen"] == story.state_seen[platform["platform"]][f"deb:{PACKAGE}"]["first_seen"]
    assert all(p["debian"] == [] for p in looked["plain"]["platforms"]), looked["plain"]


@pytest.mark.integration
def test_an_archive_without_the_suite_is_each_images_one_line_error_exit_3_and_the_state_keeps_the_update(
    story: Story,
):
    done, images = story.missing
    assert done.returncode == 3, said(done, 6000)
    where = f"{story.repo.url}dists/{SUITE}: no InRelease nor Release file (HTTP 404)"
    for name in ("plain", "probed"):  # each image is still in the report, with its error
        assert images[name]["platforms"] == [] and where in images[name]["error"], images[name]
        [line] = [line for line in done.stderr.splitlines() if line.startswith(f"error: {name}: ")]
        assert where in line, said(done, 6000)
    assert story.state_kept == story.state_seen  # an image that could not be read keeps what was known


@pytest.mark.integration
def test_plan_and_the_dry_run_with_refresh_updates_rebuild_probed_naming_the_probe_and_leave_plain(story: Story):
    assert story.plan.returncode == 0, said(story.plan, 6000)
    planned = {image["name"]: image for image in json.loads(story.plan.stdout)["images"]}
    reason = f"installable security update: {PACKAGE} 1.0 -> 1.1 ({SUITE})"
    assert (planned["probed"]["action"], planned["probed"]["reasons"]) == ("build", [reason]), planned["probed"]
    assert planned["plain"]["action"] == "skip", planned["plain"]
    assert "no installable security update" in planned["plain"]["reasons"], planned["plain"]

    assert story.dry.returncode == 0, said(story.dry, 6000)
    lines = story.dry.stdout.splitlines()
    assert f"  why: build: {reason}" in lines, said(story.dry, 6000)
    assert "  why: skip: unchanged; no installable security update" in lines, said(story.dry, 6000)
    # Built afresh (every step again: a cached apt-get step would install 1.0 again), and only probed.
    assert story.commands.returncode == 0, said(story.commands, 6000)
    builds = [line for line in story.commands.stdout.splitlines() if line.startswith("docker buildx build ")]
    assert len(builds) == len(PLATFORMS), said(story.commands, 6000)
    assert all(" --no-cache " in line and "/images/probed" in line for line in builds), said(story.commands, 6000)


@pytest.mark.integration
def test_push_refresh_updates_promotes_probed_with_the_probe_at_1_1_on_both_platforms_and_leaves_plain(story: Story):
    probed, plain = story.refresh["images"]["probed"], story.refresh["images"]["plain"]
    assert probed["status"] == "promoted", probed
    assert probed["digest"] != story.first["probed"]["digest"], probed
    assert probed["reasons"] == [f"installable security update: {PACKAGE} 1.0 -> 1.1 ({SUITE})"], probed
    log = probed["changelog"]
    assert log["old"]["digest"] == story.first["probed"]["digest"] and log["new"]["digest"] == probed["digest"]
    assert sorted(log["platforms"]) == PLATFORMS
    for name, platform in log["platforms"].items():
        assert platform["state"] == "changed", (name, platform)
        assert platform["packages"] == [{"name": PACKAGE, "change": "changed", "old": "1.0", "new": "1.1"}], name
    assert story.released_after["probed"]["latest"] == probed["digest"]

    assert plain["status"] == "unchanged" and plain["digest"] == story.first["plain"]["digest"], plain
    assert plain["reasons"] == ["unchanged", "no installable security update"], plain
    assert story.released_after["plain"] == story.released["plain"]  # no tag moved, none written


@pytest.mark.integration
def test_after_the_rebuild_updates_finds_nothing_for_probed_and_the_state_forgets_it(story: Story):
    done, images = story.final
    assert done.returncode == 0, said(done, 6000)
    probed = images["probed"]
    assert probed["digest"] == story.refresh["images"]["probed"]["digest"], probed
    assert [p["platform"] for p in probed["platforms"]] == PLATFORMS, probed
    assert all((p["debian"], p["python"]) == ([], []) for p in probed["platforms"]), probed
    assert json.loads(done.stdout)["installable"] is False
    assert all(not updates for updates in story.lab.state_of("probed").values()), story.lab.state_of("probed")


DEBIAN = "http://deb.debian.org/debian"
# Beside the stand-in's own one-line sources.list (bookworm main, from Debian's archive), what the official
# python:3.11-slim adds, in deb822 as it writes it: the point-release updates and the security suite.
REAL_SOURCES = f"""\
Types: deb
URIs: {DEBIAN}
Suites: bookworm-updates
Components: main

Types: deb
URIs: {DEBIAN}-security
Suites: bookworm-security
Components: main
"""


def debian_reachable() -> str | None:
    """None when Debian's archive answers over plain HTTP from here (through the environment's proxy, as
    `updates` goes), else why not."""
    url = f"{DEBIAN}/dists/bookworm/Release"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=30) as answer:
            return None if answer.status == 200 else f"{url} answered {answer.status}"
    except OSError as exc:
        return f"{url}: {exc}"


def found_lines(image: dict[str, Any]) -> list[str]:
    """What `updates` found for IMAGE, a line per platform and per update (printed, not asserted)."""
    lines = [f"{image['image']} ({image['digest']}):"]
    for platform in image["platforms"]:
        debian = platform["debian"]
        security = sum(1 for update in debian if update["security"])
        lines.append(f"  {platform['platform']}: {len(debian)} Debian update(s) ({security} security) "
                     f"from {', '.join(platform['sources'])}")  # fmt: skip
        lines += [f"    {'!' if u['security'] else '~'} {u['package']} {u['installed']} -> {u['candidate']} "
                  f"({u['suite']})" for u in debian]  # fmt: skip
    return lines


@pytest.mark.integration
def test_an_image_on_debians_real_archives_is_read_without_error_on_every_platform(
    engine: object, test_registry: str, tmp_path: Path, registry_client: RegistryClient
):
    unreachable = debian_reachable()
    if unreachable is not None:
        pytest.skip(f"Debian's archive is unreachable from this machine: {unreachable}")
    lab = new_lab(tmp_path, test_registry, registry_client, "")
    lab.write("archived", "COPY debian.sources /etc/apt/sources.list.d/\n",
              ["cat", "/etc/apt/sources.list.d/debian.sources"], "bookworm-security")  # fmt: skip
    (lab.project / "images" / "archived" / "debian.sources").write_text(REAL_SOURCES)
    try:
        pushed = lab.push("archived")["images"]["archived"]
        assert pushed["status"] == "promoted", pushed
        done, images = lab.updates()
    finally:
        remove_local_images(f"{lab.registry}/{lab.namespace}/")
    assert done.returncode == 0, said(done, 6000)  # a report, whether updates are installable or not
    image = images["archived"]
    assert image["error"] is None and image["digest"] == pushed["digest"], image
    assert [p["platform"] for p in image["platforms"]] == PLATFORMS, image
    for platform in image["platforms"]:
        assert platform["skipped"] == [], platform
        assert f"{DEBIAN}-security bookworm-security main" in platform["sources"], platform
        assert f"{DEBIAN} bookworm-updates main" in platform["sources"], platform
        assert any(" bookworm main" in source for source in platform["sources"]), platform  # the stand-in's own
    print("\n".join(["", "updates against Debian's archives:", *found_lines(image)]))
