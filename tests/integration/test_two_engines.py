"""Two engines on one machine: linux/arm64 mapped to a second dockerd (scripts/node2, a Docker context of
the `docker` driver), linux/amd64 on the main engine's default builder. python311-uv and its child
python311-security are pushed; each platform must have been built by the engine it is mapped to, the
child's arm64 build from its parent's candidate, and the merged index smoke-tested on both.

Which engine built what is read from node2 itself, which starts empty (`scripts/node2 reset`): its
content store holds the base image's arm64 layers and nothing that only an amd64 manifest has (of the
base or of either image), and its BuildKit cache holds the RUN steps of both images and the child's
parent pulled by digest from the registry (pushing) or read from the parent's OCI layout (a build run)."""

from __future__ import annotations

import dataclasses
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from baseimages import Event, Factory, ImageStatus, RunOptions, RunReport, Settings, Status, load_catalog, make_plan
from baseimages.cli.main import main
from baseimages.core.reference import parse_reference
from baseimages.engine.client import DockerEngine
from baseimages.pipeline.factory import registry_client as client_for
from baseimages.registry.client import RegistryClient

ROOT = Path(__file__).resolve().parents[2]
NODE2 = "baseimages-node2"
NODE2_CONTAINERD = "/run/bi-node2/exec/containerd/containerd.sock"
PLATFORMS = ["linux/amd64", "linux/arm64"]
IMAGES = ["python311-uv", "python311-security"]


def _node2(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ROOT / "scripts" / "node2"), command], capture_output=True, text=True, timeout=300)


def _main_network() -> tuple[list[str], list[str]]:
    """The main engine's own network: docker0's addresses and the iptables rules of docker0 (those of
    published ports, in the DOCKER chain, left out: other tests start and stop containers meanwhile)."""
    docker0 = subprocess.run(["ip", "-br", "addr", "show", "docker0"], capture_output=True, text=True, check=True)
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout.splitlines()
    own = sorted(rule for rule in rules if "docker0" in rule and not rule.startswith("-A DOCKER "))
    return docker0.stdout.split()[2:], own


@pytest.fixture(scope="module")
def node2(engine: DockerEngine) -> Iterator[str]:
    """A fresh second engine (empty image store and BuildKit cache), removed with its data at the end. The
    main engine's bridge and iptables rules must be the same after `up` and after the final `reset`."""
    reset = _node2("reset")
    assert reset.returncode == 0, reset.stdout + reset.stderr
    before = _main_network()
    up = _node2("up")
    if up.returncode != 0:
        pytest.fail(f"scripts/node2 up failed:\n{up.stdout}{up.stderr}")
    assert _main_network() == before  # docker0 untouched by node2's start (its own bridge, --iptables=false)
    yield NODE2
    done = _node2("reset")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _main_network() == before


def _node2_evidence() -> tuple[set[str], str]:
    """The digests in node2's content store (its containerd, in its own namespace), and its BuildKit cache
    records as `buildx du --verbose` describes them."""
    listed = subprocess.run(
        ["ctr", "--address", NODE2_CONTAINERD, "--namespace", "bi-node2", "content", "ls", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    du = subprocess.run(
        ["docker", "--context", NODE2, "buildx", "du", "--verbose"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(listed.stdout.split()), du.stdout


@pytest.fixture(scope="module")
def pushed(
    node2: str, engine: DockerEngine, test_registry: str, tmp_path_factory: pytest.TempPathFactory, catalog_copy,
    fresh_settings,
) -> tuple[RunReport, list[Event], Settings, tuple[set[str], str]]:  # fmt: skip
    """python311-uv and python311-security pushed with linux/arm64 on node2: (report, events, settings,
    what node2 holds after the run)."""
    project = catalog_copy(tmp_path_factory.mktemp("two-engines"), IMAGES)
    settings = dataclasses.replace(fresh_settings(project, test_registry), builders={"linux/arm64": node2})
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    events: list[Event] = []
    report = Factory(settings, catalog, engine=engine, on_event=events.append).run(
        make_plan(catalog, settings), RunOptions(push=True)
    )
    return report, events, settings, _node2_evidence()


def test_the_family_promotes_smoke_tested_on_both_platforms_each_naming_its_builder(pushed) -> None:
    report, events, _, _ = pushed
    assert report.exit_code == 0, [(i.name, i.error) for i in report.images]
    for image in report.images:
        assert image.status is ImageStatus.PROMOTED
        assert image.builders == {"linux/amd64": "default", "linux/arm64": NODE2}
        assert [(p.platform, p.builder) for p in image.platforms] == [
            ("linux/amd64", "default"),
            ("linux/arm64", NODE2),
        ]
        for platform in image.platforms:
            assert platform.status is Status.PASSED and platform.executed >= 3, (image.name, platform)
        building = [(e.platform, e.detail) for e in events if e.image == image.name and e.platform is not None]
        assert ("linux/arm64", f"building on {NODE2}") in building
        assert ("linux/amd64", "built on default") in building


def test_the_merged_index_holds_both_platforms_and_the_annotations_change_detection_reads(
    pushed, registry_client: RegistryClient
) -> None:
    report, _, _, _ = pushed
    for image in report.images:
        index = registry_client.index(parse_reference(f"{image.repository}:latest"))
        assert index.digest == image.digest
        assert [m.platform for m in index.manifests] == PLATFORMS
        summary = registry_client.summary(parse_reference(f"{image.repository}:latest"))
        assert summary is not None
        assert summary[1]["io.baseimages.fingerprint"] == image.fingerprint


def _layers(registry: RegistryClient, image: str) -> dict[str, set[str]]:
    """The blobs (config and layers) of each platform's manifest of IMAGE (a reference by digest)."""
    ref = parse_reference(image)
    out = {}
    for entry in registry.index(ref).manifests:
        manifest = registry.manifest(dataclasses.replace(ref, tag=None, digest=entry.digest))
        assert manifest is not None
        out[entry.platform] = {layer["digest"] for layer in manifest.doc["layers"]} | {manifest.doc["config"]["digest"]}
    return out


def test_node2_built_arm64_of_both_images_and_nothing_of_amd64(pushed, registry_client: RegistryClient) -> None:
    report, _, settings, (blobs, cache) = pushed
    uv = report.image("python311-uv")
    base = _layers(client_for(settings), str(uv.parent_ref))  # python:3.11-slim@..., through dockerd's mirrors
    assert base["linux/arm64"] <= blobs  # node2 pulled the base's arm64 image for uv's arm64 build
    assert not (base["linux/amd64"] - base["linux/arm64"]) & blobs  # and never its amd64 image
    for image in report.images:
        layers = _layers(registry_client, f"{image.repository}@{image.digest}")
        assert not (layers["linux/amd64"] - layers["linux/arm64"]) & blobs, image.name  # nothing of amd64
    assert "/opt/uv-tool/bin/pip install" in cache  # uv's RUN steps ran on node2
    assert "python311-security/requirements.txt" in cache  # and security's
    # The child's arm64 build pulled its parent's uploaded candidate by digest, as a later run would.
    assert f"{uv.repository}:candidate-1.0.0@{uv.digest}" in cache


def test_a_build_run_reads_the_parent_on_node2_from_its_oci_layout_and_tests_both_platforms(
    pushed, engine: DockerEngine
) -> None:
    # Nothing is uploaded in a build run: the child's arm64 build on node2 gets its parent as an OCI layout.
    _, _, settings, _ = pushed
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    lines: list[tuple[str, str]] = []
    factory = Factory(settings, catalog, engine=engine, on_build_line=lambda image, line: lines.append((image, line)))
    report = factory.run(make_plan(catalog, settings), RunOptions(push=False))
    assert report.exit_code == 0, [(i.name, i.error) for i in report.images]
    assert all(i.status is ImageStatus.TESTED for i in report.images)
    uv, security = report.image("python311-uv"), report.image("python311-security")
    assert security.builders == {"linux/amd64": "default", "linux/arm64": NODE2}
    assert [(p.platform, p.status) for p in security.platforms] == [(p, Status.PASSED) for p in PLATFORMS]
    arm64 = "\n".join(line for image, line in lines if image == security.name and line.startswith("[linux/arm64]"))
    assert f"baseimages-parent@{uv.digest}" in arm64, arm64[-3000:]


def test_an_unknown_builder_fails_before_anything_builds_with_exit_4(
    project: Path, test_registry: str, node2: str
) -> None:
    out, err = io.StringIO(), io.StringIO()
    argv = ["push", "--project", str(project), "--registry", test_registry, "--namespace", "bi-unknown-builder"]
    code = main([*argv, "--builder", "linux/arm64=no-such-builder", "--lock-dir", str(project / "locks")], out, err)
    assert code == 4, out.getvalue() + err.getvalue()
    assert "builder 'no-such-builder', mapped to linux/arm64 by the `builders` setting" in err.getvalue()
    assert (
        RegistryClient().digest(parse_reference(f"{test_registry}/bi-unknown-builder/python311-uv:candidate-1.0.0"))
        is None
    )


def test_a_builder_without_the_mapped_platform_fails_before_anything_builds_with_exit_4(
    project: Path, test_registry: str, node2: str
) -> None:
    # linux/386 is a platform neither engine lists here (QEMU registers arm64 only).
    image_yaml = project / "images" / "python311-uv" / "image.yaml"
    text = image_yaml.read_text()
    image_yaml.write_text(text.replace("platforms: [linux/amd64, linux/arm64]", "platforms: [linux/amd64, linux/386]"))
    out, err = io.StringIO(), io.StringIO()
    argv = ["push", "--project", str(project), "--registry", test_registry, "--namespace", "bi-no-platform"]
    code = main([*argv, "--builder", f"linux/386={node2}", "--lock-dir", str(project / "locks")], out, err)
    assert code == 4, out.getvalue() + err.getvalue()
    assert f"builder '{node2}' cannot build linux/386" in err.getvalue()
    assert (
        RegistryClient().digest(parse_reference(f"{test_registry}/bi-no-platform/python311-uv:candidate-1.0.0")) is None
    )
