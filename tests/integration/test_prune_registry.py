"""`prune` on real registries: Debian's docker-registry, started by these tests as processes of their own
(deletes enabled, and one without), holding a year of simulated monthly builds made from one real
two-platform image that the factory built and pushed. After `prune --apply` every kept tag is whole and
still pulls and passes `test` on both platforms, every removed tag is gone, a digest shared by a kept and a
removed tag survives, a second run changes nothing, the registry's garbage collection afterwards keeps
every kept image whole, and a push that holds the run lock is waited for, not disturbed."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from prune_history import MANIFEST, RealHistory, canonical, month_start, push_blob, retired_image
from registry_process import RegistryProcess, clear_stale

from baseimages import Factory, ImageStatus, RunOptions, Status, load_catalog, load_settings, make_plan
from baseimages.catalog.fingerprint import CREATED_KEY
from baseimages.cli.main import main
from baseimages.core.reference import Reference, parse_reference
from baseimages.engine.client import DockerEngine, PullRequest
from baseimages.oci.documents import INDEX_TYPES, MANIFEST_TYPES, digest_of
from baseimages.prune.local import DockerLocalStore, LocalAction, LocalKind
from baseimages.prune.pruner import Pruner
from baseimages.registry.client import RegistryClient

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = ["linux/amd64", "linux/arm64"]
RETENTION = {"keep-dated": 4, "keep-dated-months": 6, "keep-monthly-months": 6, "candidate-days": 7}


def write_tiny_project(directory: Path, name: str) -> Path:
    """A catalog of one tiny image FROM the stand-in python:3.11-slim: a COPY, no RUN (quick on both platforms)."""
    folder = directory / "images" / name
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(
        "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\nCOPY marker.txt /etc/prune-test\n"
    )
    (folder / "marker.txt").write_text(f"{name}\n")
    (folder / "image.yaml").write_text(
        f"name: {name}\nversion: 1.0.0\nparent: python:3.11-slim\nsmoke:\n  commands:\n"
        "    - name: python runs\n      command: [python, --version]\n      stdout: '^Python 3\\.11'\n"
        "    - name: the marker is there\n      command: [cat, /etc/prune-test]\n"
        f"      stdout: '^{name}$'\n"
    )
    return directory


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def whole(client: RegistryClient, repository: Reference, tag: str) -> bool:
    """TAG's manifest, every manifest it lists and every blob those name are in the registry: it pulls.
    A BuildKit cache ref is an index whose entries are blobs (cache config, layers), not manifests."""
    top = client.manifest(replace(repository, tag=tag))
    if top is None:
        return False
    docs, blobs = [top.doc], []
    for entry in top.doc.get("manifests", []):
        if entry.get("mediaType") not in INDEX_TYPES + MANIFEST_TYPES:
            blobs.append(entry)
            continue
        child = client.manifest(replace(repository, digest=entry["digest"]))
        if child is None:
            return False
        docs.append(child.doc)
    for doc in docs:
        blobs += ([doc["config"]] if "config" in doc else []) + doc.get("layers", [])
    for blob in blobs:
        head = client.call("HEAD", repository, f"/v2/{repository.path}/blobs/{blob['digest']}", expect=(200, 404))
        if head.status != 200:
            return False
    return True


def remove_local_images(repository: str) -> None:
    """Remove what these tests left in the shared engine's image store under REPOSITORY (a name only they
    use): the candidates builds made, the tags and digests pulls made."""
    from python_on_whales import DockerClient
    from python_on_whales.exceptions import DockerException

    docker = DockerClient()
    for image in docker.image.list(repository):
        with contextlib.suppress(DockerException):  # an image removed with an earlier reference is gone
            for ref in [*image.repo_tags, *image.repo_digests]:
                if ref.startswith((f"{repository}:", f"{repository}@")):
                    docker.image.remove(ref)


@dataclass
class Year:
    """The registry, the project pruning it, and what the year of builds holds and prune must do."""

    registry: RegistryProcess
    project: Path
    name: str
    repository: Reference
    retired: Reference
    client: RegistryClient
    pushed: str  # the digest of the real build
    builds: dict[int, str] = field(default_factory=dict)  # months back -> index digest
    tags: dict[str, str] = field(default_factory=dict)  # every tag of the image's repository -> digest
    removed: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)  # manifests prune deletes
    stays: set[str] = field(default_factory=set)  # manifests a removed tag names that must stay
    release: str = ""
    cache: str = ""

    @property
    def kept(self) -> set[str]:
        return set(self.tags) - self.removed

    def current_tags(self, repository: Reference | None = None) -> dict[str, str]:
        repo = repository or self.repository
        out = {}
        for tag in self.client.tags(repo):
            digest = self.client.digest(replace(repo, tag=tag))
            assert digest is not None
            out[tag] = digest
        return out


@pytest.fixture(scope="module")
def deletable() -> Iterator[RegistryProcess]:
    clear_stale()
    registry = RegistryProcess(deletes=True).start()
    yield registry
    registry.remove()


@pytest.fixture(scope="module")
def year(engine: DockerEngine, deletable: RegistryProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Year]:
    name = f"prunetest-{uuid.uuid4().hex[:6]}"
    namespace = f"p{uuid.uuid4().hex[:8]}"
    project = write_tiny_project(tmp_path_factory.mktemp("prune"), name)
    retention = "".join(f"{key} = {value}\n" for key, value in RETENTION.items())
    (project / "pyproject.toml").write_text(
        f'[tool.baseimages]\nregistry = "{deletable.address}"\nnamespace = "{namespace}"\n'
        f'lock-dir = "{project / "locks"}"\n\n[tool.baseimages.retention]\n{retention}keep-storage = "3GB"\n'
    )
    settings = load_settings(project)
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    report = Factory(settings, catalog, engine=engine).run(make_plan(catalog, settings), RunOptions(push=True))
    result = report.image(name)
    assert result.status is ImageStatus.PROMOTED, result.error
    client = RegistryClient()
    repository = parse_reference(settings.repository(name))
    year = Year(
        deletable,
        project,
        name,
        repository,
        replace(repository, path=f"{namespace}/retired"),
        client,
        result.digest or "",
    )
    _make_history(year, RealHistory.of(client, repository, year.pushed))
    year.tags = year.current_tags()
    yield year
    remove_local_images(str(repository))


def _make_history(year: Year, history: RealHistory) -> None:
    """12 monthly builds back from today (see the module's docstring), with what prune must do to each."""
    today = dt.date.today()
    version = {k: "0.8.0" if k >= 9 else "0.9.0" if k >= 5 else "1.0.0" for k in range(1, 13)}
    k6_kept = today.day == 1  # a build of the 1st, six months back, is within 6 months only on the 1st
    for k in range(12, 0, -1):
        day = month_start(today, k)
        dated, monthly = f"{version[k]}-{day:%Y%m%d}.1", f"{day:%Y.%m}"
        digest = history.build(day, [dated, monthly], unique=k >= 7, attestation=k in (3, 10))
        year.builds[k] = digest
        if k >= 6:
            year.removed.add(monthly)
        if k >= 7 or (k == 6 and not k6_kept):
            year.removed.add(dated)
            if k != 9:  # 9 stays: its rolling tags 0.8.0 and 0.8 reach it
                year.gone |= {digest, *(history.children(digest) if k >= 7 else [])}
    year.gone -= set(history.children(year.pushed))  # month 6 shares the real platform manifests
    for tag in ("0.8.0", "0.8", "candidate-0.8.0"):
        history.tag(tag, year.builds[9])
    for tag in ("0.9.0", "0.9", "0", "candidate-0.9.0"):
        history.tag(tag, year.builds[5])
    stale = history.build(today - dt.timedelta(days=20), ["candidate-1.1.0"], unique=True)
    history.build(today - dt.timedelta(days=2), ["candidate-1.2.0"], unique=True)
    history.sign(year.builds[1], "month 1")
    gone_signature = history.sign(year.builds[11], "month 11")
    year.removed |= {"candidate-0.8.0", "candidate-0.9.0", "candidate-1.0.0", "candidate-1.1.0"}
    year.removed.add(year.builds[11].replace(":", "-") + ".sig")
    year.gone |= {stale, *history.children(stale), gone_signature}
    year.stays = {year.builds[9], *history.children(year.builds[9]), year.pushed, year.builds[5]}
    year.release, year.cache = retired_image(history, year.retired)


# --------------------------------------------------------------------------- the tests, in the order they run


def test_a_dry_run_says_what_would_go_and_why_and_changes_nothing(year: Year) -> None:
    before = year.registry.storage()
    code, out, err = cli("prune", "--project", str(year.project))
    assert code == 0, err
    assert year.registry.storage() == before
    text = " ".join(out.split())
    assert "remove candidate-1.1.0 candidate: not promoted, built 20 days ago (limit 7)" in text
    assert "untag candidate-1.0.0 (candidate: its build promoted" in text
    assert f"still reached by kept tag 0.8.0); its manifest {year.builds[9][:19]} stays" in text
    assert "delete manifest without a platform (attestation)" in text
    assert "cache ref of an image no longer in the catalog" in text
    assert "dry run: nothing changed" in out


def test_apply_removes_every_removed_tag_and_keeps_every_kept_tag_whole(year: Year) -> None:
    code, out, err = cli("prune", "--project", str(year.project), "--apply")
    assert code == 0, err + out
    now = year.current_tags()
    assert set(now) == year.kept, set(now) ^ year.kept
    assert all(now[tag] == year.tags[tag] for tag in now)  # no kept tag moved
    assert all(whole(year.client, year.repository, tag) for tag in year.kept)
    held = year.registry.manifests(year.repository.path)
    assert not (year.gone & held), "a removed manifest is still there"
    assert year.stays <= held, "a manifest a kept tag reaches was deleted"
    assert year.current_tags(year.retired) == {"1.0.0": year.release}
    assert whole(year.client, year.retired, "1.0.0") and year.cache not in year.registry.manifests(year.retired.path)


def test_a_digest_shared_by_a_kept_and_a_removed_tag_survives(year: Year) -> None:
    now = year.current_tags()
    k9 = year.builds[9]
    assert [t for t, d in year.tags.items() if d == k9 and t in year.removed]  # removed tags named it
    assert now["0.8.0"] == k9 and whole(year.client, year.repository, "0.8.0")
    assert now["latest"] == year.pushed and "candidate-1.0.0" not in now


def test_kept_tags_still_pull_and_pass_test_on_both_platforms(year: Year, engine: DockerEngine) -> None:
    settings = load_settings(year.project)
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    factory = Factory(settings, catalog, engine=engine)
    oldest_kept_dated = min(t for t in year.kept if t.startswith("0.9.0-"))
    for tag in ("latest", "0.8.0", oldest_kept_dated):  # the real build, a month's own manifests, a shared one
        result = factory.test(f"{year.repository}:{tag}", catalog[year.name])
        assert result.status is ImageStatus.TESTED, (tag, result.error)
        assert [p.platform for p in result.platforms] == PLATFORMS
        assert all(p.status is Status.PASSED for p in result.platforms), tag


def test_a_second_run_changes_nothing(year: Year) -> None:
    before = year.registry.storage()
    code, out, err = cli("prune", "--project", str(year.project), "--apply")
    assert code == 0, err
    assert "0 tags to remove (0 manifests to delete, 0 tags to take off manifests that stay)" in out
    assert year.registry.storage() == before


def test_the_registry_garbage_collection_after_prune_frees_blobs_and_keeps_every_kept_image_whole(year: Year) -> None:
    blobs = year.registry.blobs()
    year.registry.stop()
    try:
        year.registry.garbage_collect()
    finally:
        year.registry.start()
    assert year.registry.blobs() < blobs  # the deleted manifests and the cache ref's config
    assert all(whole(year.client, year.repository, tag) for tag in year.kept)
    assert whole(year.client, year.retired, "1.0.0")


def test_a_registry_that_does_not_allow_deletes_is_exit_code_3_and_nothing_changes(year: Year) -> None:
    refusing = RegistryProcess(deletes=False).start()
    try:
        client = RegistryClient()
        repository = Reference(refusing.address, f"refusing/{year.name}")
        config = push_blob(client, repository, canonical({"architecture": "amd64", "os": "linux"}))
        month_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        doc = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": config,
            "layers": [],
            "annotations": {CREATED_KEY: month_ago},
        }
        client.put_manifest(replace(repository, tag="candidate-0.1.0"), MANIFEST, canonical(doc))
        before = refusing.storage()
        common = ["--project", str(year.project), "--registry", refusing.address, "--namespace", "refusing"]
        code, out, _ = cli("prune", *common)
        assert code == 0 and "remove candidate-0.1.0" in out
        code, out, err = cli("prune", *common, "--apply")
        assert code == 3
        assert err.startswith("error: ") and "does not allow deletes" in err and len(err.splitlines()) == 1
        assert refusing.storage() == before
        assert client.digest(replace(repository, tag="candidate-0.1.0")) == digest_of(canonical(doc))
    finally:
        refusing.remove()


def test_prune_waits_for_a_push_that_holds_the_lock_and_does_not_disturb_it(year: Year, tmp_path: Path) -> None:
    report = tmp_path / "push.json"
    push = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "baseimages",
            "push",
            "--project",
            str(year.project),
            "--force",
            "--no-cache",  # every step runs: a push that holds the lock while prune waits (a forced rebuild
            # of the published inputs alone would settle from the registry cache at once)
            "--report",
            str(report),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    lines: list[str] = []

    def read() -> None:  # so that the push never blocks on a full pipe
        for line in push.stderr or []:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + 120
        while not any(" building" in line for line in lines) and push.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert push.poll() is None, "".join(lines)
        code, out, err = cli("prune", "--project", str(year.project), "--apply")
        assert code == 5 and f"pid {push.pid}" in err and out == ""
        started = time.monotonic()
        code, out, err = cli("prune", "--project", str(year.project), "--apply", "--wait-lock", "600")
        waited = time.monotonic() - started
        assert push.wait(timeout=600) == 0, "".join(lines)
    finally:
        if push.poll() is None:
            push.kill()
    assert code == 0, err
    assert waited > 1
    pushed = json.loads(report.read_text())["images"][0]
    # a forced rebuild promotes a new digest, or (reproducible builds) settles on the published one
    assert pushed["status"] in ("promoted", "unchanged"), pushed
    now = year.current_tags()
    assert now["latest"] == pushed["digest"] and pushed["tags"]
    assert all(whole(year.client, year.repository, tag) for tag in pushed["tags"])
    assert "candidate-1.0.0" not in now  # the push's candidate had promoted before prune planned


def test_local_prune_removes_this_catalog_s_candidate_and_contract_images_and_names_the_builder_prune(
    year: Year, engine: DockerEngine
) -> None:
    from python_on_whales import DockerClient

    settings = load_settings(year.project)
    candidate = f"{settings.repository(year.name)}:candidate-1.0.0"
    contract = f"baseimages-contract/{year.name}:candidate"  # a name only this test uses
    DockerClient().image.tag(candidate, contract)
    code, out, _ = cli("prune", "--project", str(year.project), "--local")
    assert code == 0
    assert "docker builder prune --force --keep-storage 3GB  # BuildKit cache above 3GB" in out
    store = DockerLocalStore()
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    plan = Pruner(settings, catalog, local=store).plan(local=True)
    builder, *removals = plan.local
    assert builder.argv() == ["docker", "builder", "prune", "--force", "--keep-storage", "3GB"]
    assert {a.target for a in removals} == {candidate, contract}
    for action in removals:  # the shared builder cache is never pruned for real here
        assert action.kind is LocalKind.REMOVE_IMAGE
        store.run(action)
    assert store.image_tags(settings.repository(year.name)) == []
    assert store.image_tags(f"baseimages-contract/{year.name}") == []


# --------------------------------------------------------------------------- after the whole suite


def _catalog_of(directory: Path, names: set[str]) -> Path:
    """A project whose catalog names NAMES (what prune needs of a catalog: which images are in it)."""
    for name in sorted(names):
        folder = directory / "images" / name
        folder.mkdir(parents=True)
        (folder / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
        (folder / "image.yaml").write_text(
            f"name: {name}\nversion: 1.0.0\nparent: python:3.11-slim\n"
            "smoke:\n  commands:\n    - name: python runs\n      command: [python, --version]\n"
        )
    return directory


@pytest.mark.after_suite
def test_prune_on_the_registry_the_suite_leaves_removes_the_candidates_and_keeps_every_image_pullable(
    engine: DockerEngine, test_registry: str, tmp_path: Path
) -> None:
    """Runs after every other test (tests/conftest.py sorts it last) on the suite's registry, with whatever
    the other tests pushed there, and with an image of its own so that it proves the same when run alone:
    a promoted build and a candidate that never promoted."""
    name = f"prunetest-{uuid.uuid4().hex[:6]}"
    own = write_tiny_project(tmp_path / "own", name)
    settings = load_settings(own).with_overrides(registry=test_registry, namespace=f"p{uuid.uuid4().hex[:8]}")
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    factory = Factory(settings, catalog, engine=engine)
    pushed = factory.run(make_plan(catalog, settings), RunOptions(push=True)).image(name)
    assert pushed.status is ImageStatus.PROMOTED, pushed.error
    client = RegistryClient()
    mine = parse_reference(settings.repository(name))
    RealHistory.of(client, mine, pushed.digest or "").build(dt.date.today(), ["candidate-1.1.0"], unique=True)
    try:
        _prune_every_namespace(client, test_registry, tmp_path, engine)
        result = factory.test(f"{mine}:latest", catalog[name])
        assert result.status is ImageStatus.TESTED and all(p.status is Status.PASSED for p in result.platforms)
    finally:
        remove_local_images(str(mine))


def _prune_every_namespace(client: RegistryClient, test_registry: str, tmp_path: Path, engine: DockerEngine) -> None:
    """`prune --apply --candidate-days 0` of every namespace on the registry; then no candidate is left,
    every tag is whole, and each image's latest pulls on each of its platforms."""
    namespaces: dict[str, set[str]] = {}
    for path in client.repositories(test_registry):
        namespace, _, image = path.partition("/")
        if image and "/" not in image:
            namespaces.setdefault(namespace, set()).add(image)
    for namespace, names in sorted(namespaces.items()):
        project = _catalog_of(tmp_path / "ns" / namespace, names)
        common = ["--project", str(project), "--registry", test_registry, "--namespace", namespace]
        code, out, err = cli(
            "prune", *common, "--lock-dir", str(tmp_path / "locks"), "--candidate-days", "0", "--apply"
        )
        assert code == 0, err + out
    sampled: set[str] = set()
    for namespace, names in sorted(namespaces.items()):
        for image in sorted(names):
            repository = Reference(test_registry, f"{namespace}/{image}")
            tags = client.tags(repository)
            assert not [t for t in tags if t.startswith("candidate-")], (repository, tags)
            assert all(whole(client, repository, tag) for tag in tags), repository
            if "latest" in tags and image not in sampled:  # a pull of each image, on each of its platforms
                sampled.add(image)
                latest = replace(repository, tag="latest")
                had = str(latest) in DockerLocalStore().image_tags(str(repository))
                for platform in client.index(latest).platforms:
                    engine.pull(PullRequest(str(latest), platform))
                if not had:  # the tag this pull made, and only that
                    DockerLocalStore().run(LocalAction(LocalKind.REMOVE_IMAGE, str(latest), "pulled by this test"))
