"""Release safety on a real registry: skip what is unchanged, promote only what passed, rerun what did not."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from baseimages import Factory, ImageStatus, RunOptions, load_catalog, make_plan
from baseimages.core.reference import parse_reference
from baseimages.engine.client import DockerEngine
from baseimages.registry.client import RegistryClient

CHILD_DOCKERFILE = """ARG BASE_IMAGE=python311-uv
FROM ${BASE_IMAGE}
COPY marker.txt /etc/marker.txt
"""


def _add_child(project: Path, name: str, smoke_stdout: str) -> None:
    folder = project / "images" / name
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text(CHILD_DOCKERFILE)
    (folder / "marker.txt").write_text(f"{name}\n")
    (folder / "image.yaml").write_text(
        f"name: {name}\nversion: 1.0.0\nparent: python311-uv\n"
        "smoke:\n  commands:\n"
        "    - name: the marker is there\n"
        "      command: [cat, /etc/marker.txt]\n"
        f"      stdout: '{smoke_stdout}'\n"
    )


@pytest.fixture
def family(tmp_path: Path, catalog_copy, fresh_settings, test_registry: str):
    """uv plus two small children: sibling-ok passes, sibling-bad fails its smoke test on purpose."""
    project = catalog_copy(tmp_path / "family", ["python311-uv"])
    _add_child(project, "sibling-ok", "^sibling-ok$")
    _add_child(project, "sibling-bad", "^something else$")
    return project, fresh_settings(project, test_registry)


def _run(settings, engine, only=(), platforms=(), force=False):
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    factory = Factory(settings, catalog, engine=engine)
    return factory.run(make_plan(catalog, settings, only=only, platforms=platforms), RunOptions(push=True, force=force))


def _tags(client: RegistryClient, repository: str, tags: list[str]) -> dict[str, str | None]:
    return {tag: client.digest(parse_reference(f"{repository}:{tag}")) for tag in tags}


def test_failed_image_blocks_nothing_but_itself_and_rerun_builds_only_what_did_not_promote(
    family, engine: DockerEngine, registry_client: RegistryClient
) -> None:
    project, settings = family
    first = _run(settings, engine)
    statuses = {i.name: i.status for i in first.images}
    assert statuses == {
        "python311-uv": ImageStatus.PROMOTED,
        "sibling-bad": ImageStatus.FAILED,
        "sibling-ok": ImageStatus.PROMOTED,
    }
    assert first.exit_code == 1
    bad = first.image("sibling-bad")
    assert _tags(registry_client, bad.repository, ["latest", "1.0.0"]) == {"latest": None, "1.0.0": None}

    # Fix the broken image; the rerun builds it alone and leaves the others' tags untouched.
    spec = project / "images" / "sibling-bad" / "image.yaml"
    spec.write_text(spec.read_text().replace("^something else$", "^sibling-bad$"))
    promoted_before = {
        name: _tags(registry_client, first.image(name).repository, ["latest", "1.0.0"])
        for name in ("python311-uv", "sibling-ok")
    }
    second = _run(settings, engine)
    statuses = {i.name: i.status for i in second.images}
    assert statuses == {
        "python311-uv": ImageStatus.UNCHANGED,
        "sibling-bad": ImageStatus.PROMOTED,
        "sibling-ok": ImageStatus.UNCHANGED,
    }
    assert second.image("sibling-bad").reasons == ["new: 1.0.0 is not in the registry"]
    assert second.exit_code == 0
    for name, tags in promoted_before.items():
        assert _tags(registry_client, second.image(name).repository, ["latest", "1.0.0"]) == tags


def test_failed_parent_blocks_its_children_and_moves_no_tags(
    family, engine: DockerEngine, registry_client: RegistryClient
) -> None:
    project, settings = family
    spec = project / "images" / "python311-uv" / "image.yaml"
    spec.write_text(spec.read_text().replace("stdout: '^Python 3\\.11\\.'", "stdout: '^Python 2'"))
    report = _run(settings, engine)
    assert report.image("python311-uv").status is ImageStatus.FAILED
    # Children build while their parent is tested; then they wait, and are not promoted.
    ok = report.image("sibling-ok")
    assert ok.status is ImageStatus.BLOCKED
    assert ok.error == "built and tested, not promoted: parent python311-uv failed"
    # Its own smoke tests run before it waits for its parent, and fail: its own failure is what it reports.
    assert report.image("sibling-bad").status is ImageStatus.FAILED
    assert "smoke tests failed" in (report.image("sibling-bad").error or "")
    assert report.exit_code == 1
    for image in report.images:
        assert _tags(registry_client, image.repository, ["latest", "1.0.0"]) == {"latest": None, "1.0.0": None}


def test_unchanged_family_is_a_no_op_that_touches_no_tags_and_starts_no_docker(
    family, engine: DockerEngine, registry_client: RegistryClient
) -> None:
    project, settings = family
    bad = project / "images" / "sibling-bad" / "image.yaml"
    bad.write_text(bad.read_text().replace("^something else$", "^sibling-bad$"))
    first = _run(settings, engine)
    assert first.exit_code == 0, [i.error for i in first.images]
    names = [i.name for i in first.images]
    before = {i.name: _tags(registry_client, i.repository, list(i.tags) + ["candidate-1.0.0"]) for i in first.images}

    class NoEngine:
        def __getattr__(self, name: str):
            raise AssertionError(f"the no-op path must not touch Docker (called {name})")

    started = time.monotonic()
    second = _run(settings, NoEngine())
    seconds = time.monotonic() - started
    print(f"no-op push of {len(names)} images: {seconds:.2f} s")
    assert [i.status for i in second.images] == [ImageStatus.UNCHANGED] * len(names)
    assert all(i.reasons == ["unchanged"] for i in second.images)
    assert second.exit_code == 0
    after = {i.name: _tags(registry_client, i.repository, list(before[i.name])) for i in second.images}
    assert after == before

    # The CLI's no-op path imports no python-on-whales and starts no process at all.
    probe = (
        "import subprocess, sys\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError(f'process started: {args[0] if args else kwargs}')\n"
        "subprocess.Popen = refuse\n"
        "from baseimages.cli.main import main\n"
        f"code = main(['push', '--project', {str(project)!r}, '--registry', {settings.registry!r},"
        f" '--namespace', {settings.namespace!r}, '--lock-dir', {str(project / 'locks')!r}])\n"
        "assert code == 0, code\n"
        "assert 'python_on_whales' not in sys.modules, 'python-on-whales was imported'\n"
        "print('no-op ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no-op ok" in done.stdout and done.stdout.count("unchanged") == len(names)


def test_a_parent_rebuilt_the_same_day_gives_every_build_its_own_immutable_tag_and_the_family_stays_green(
    family, engine: DockerEngine, registry_client: RegistryClient
) -> None:
    project, settings = family
    bad = project / "images" / "sibling-bad" / "image.yaml"
    bad.write_text(bad.read_text().replace("^something else$", "^sibling-bad$"))
    first = _run(settings, engine)
    assert first.exit_code == 0, [i.error for i in first.images]
    immutable = {i.name: (i.repository, i.tags[0]) for i in first.images}
    assert all(tag.endswith(".1") for _, tag in immutable.values()), immutable

    # The parent alone, forced, same inputs: every step is in the registry cache its published build exported,
    # so it settles there without exporting and nothing moves.
    forced = _run(settings, engine, force=True, only=["python311-uv"])
    reproduced = forced.image("python311-uv")
    assert reproduced.status is ImageStatus.UNCHANGED and reproduced.digest == first.image("python311-uv").digest
    assert reproduced.reasons[-1].startswith("every step in the registry cache its published build exported")

    # The parent changed the same day without a version bump (its description label): a new digest.
    spec = project / "images" / "python311-uv" / "image.yaml"
    spec.write_text(spec.read_text().replace("description: ", "description: (rebuilt) ", 1))
    changed = _run(settings, engine, only=["python311-uv"])
    uv = changed.image("python311-uv")
    assert uv.status is ImageStatus.PROMOTED and uv.digest != first.image("python311-uv").digest
    assert uv.tags[0] == immutable["python311-uv"][1][:-2] + ".2"

    # The family again: the children rebuild on the moved parent and promote under their next build number.
    third = _run(settings, engine)
    assert third.exit_code == 0, [i.error for i in third.images]
    assert third.image("python311-uv").status is ImageStatus.UNCHANGED
    for child in ("sibling-ok", "sibling-bad"):
        result = third.image(child)
        assert result.status is ImageStatus.PROMOTED, result.error
        assert result.reasons == ["parent python311-uv has a new digest"]
        assert result.tags[0].endswith(".2")
    # Every immutable tag of the first run still points where it pointed.
    for name, (repository, tag) in immutable.items():
        assert registry_client.digest(parse_reference(f"{repository}:{tag}")) == first.image(name).digest
    # The unchanged parent's report says where it is: its digest and the tags that name it.
    unchanged = third.image("python311-uv")
    assert unchanged.digest == uv.digest
    assert uv.tags[0] in unchanged.tags and "latest" in unchanged.tags
    assert immutable["python311-uv"][1] not in unchanged.tags


def test_ml_without_torch_on_amd64_fails_with_the_reason_and_moves_no_tag(
    tmp_path: Path, catalog_copy, fresh_settings, test_registry: str, engine: DockerEngine, registry_client
) -> None:
    import dataclasses

    project = catalog_copy(tmp_path / "ml", ["python311-uv", "python311-ml"])
    spec_file = project / "images" / "python311-ml" / "image.yaml"
    # No wheelhouse and a torch index that refuses connections: the Dockerfile writes its marker.
    spec_file.write_text(
        spec_file.read_text().replace(
            'TORCH_VERSION: "2.13.0"', 'TORCH_VERSION: "2.13.0"\n  TORCH_INDEX_URL: "http://127.0.0.1:9/simple"'
        )
    )
    settings = dataclasses.replace(fresh_settings(project, test_registry), wheelhouse=None)
    report = _run(settings, engine, only=["python311-ml"], platforms=["linux/amd64"])
    ml = report.image("python311-ml")
    assert report.image("python311-uv").status is ImageStatus.PROMOTED
    assert ml.status is ImageStatus.FAILED and report.exit_code == 1
    amd64 = ml.platforms[0]
    assert amd64.platform == "linux/amd64" and amd64.status.value == "failed"
    torch = next(c for c in amd64.checks if c.name == "torch imports at the pinned version")
    assert torch.status.value == "failed"
    assert "127.0.0.1:9/simple is unreachable" in torch.detail and "skips_allowed" in torch.detail
    assert _tags(registry_client, ml.repository, ["latest", "1.0.0"]) == {"latest": None, "1.0.0": None}
