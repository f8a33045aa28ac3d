"""python311-uv built for two platforms, smoke-tested on both, pushed and promoted on a real registry."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from secret_scan import MarkedBundle, host_only_needles, marked_ca_bundle

from baseimages import Factory, ImageStatus, RunOptions, Status, load_catalog, make_plan
from baseimages.cli.main import main
from baseimages.core.reference import parse_reference
from baseimages.engine.client import BuildRequest, DockerEngine, RunRequest
from baseimages.pipeline.factory import Event, Phase
from baseimages.registry.client import RegistryClient

PLATFORMS = ["linux/amd64", "linux/arm64"]


class RecordingEngine:
    """The real engine, noting every build request the factory makes (what buildx is given)."""

    def __init__(self, engine: DockerEngine, requests: list[BuildRequest]) -> None:
        self._engine = engine
        self.requests = requests  # the list of the module's `recorded`

    def build(self, request: BuildRequest, image: str, on_line=None) -> str:
        self.requests.append(request)
        return self._engine.build(request, image, on_line)

    def build_files(self, request: BuildRequest, image: str, on_line=None) -> None:
        self.requests.append(request)
        self._engine.build_files(request, image, on_line)

    def __getattr__(self, name: str) -> object:
        return getattr(self._engine, name)


@dataclass
class Recorded:
    """What the shared push was given: its CA bundle (with its marker) and every build request."""

    bundle: MarkedBundle | None = None
    requests: list[BuildRequest] = field(default_factory=list)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return Recorded()


@pytest.fixture(scope="module")
def pushed_uv(
    engine: DockerEngine,
    test_registry: str,
    tmp_path_factory: pytest.TempPathFactory,
    catalog_copy,
    fresh_settings,
    recorded: Recorded,
) -> tuple[Factory, object, list[Event]]:
    """One real push of python311-uv, shared by the tests that inspect its outcome. Its builds get a CA bundle
    (the machine's, if it has one, plus a marker certificate no image trusts) whatever the machine sets."""
    project = catalog_copy(tmp_path_factory.mktemp("uv"), ["python311-uv"])
    detected = fresh_settings(project, test_registry)
    recorded.bundle = marked_ca_bundle(tmp_path_factory.mktemp("ca"), detected.ca_bundle)
    settings = dataclasses.replace(detected, ca_bundle=recorded.bundle.path)
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    events: list[Event] = []
    factory = Factory(settings, catalog, engine=RecordingEngine(engine, recorded.requests), on_event=events.append)
    report = factory.run(make_plan(catalog, settings), RunOptions(push=True))
    return factory, report, events


def test_push_promotes_a_two_platform_index_smoke_tested_on_both(pushed_uv, registry_client: RegistryClient) -> None:
    factory, report, _ = pushed_uv
    result = report.image("python311-uv")
    assert result.status is ImageStatus.PROMOTED, result.error
    assert report.exit_code == 0
    index = registry_client.index(parse_reference(f"{result.repository}:latest"))
    assert index.digest == result.digest
    assert sorted(index.platforms) == PLATFORMS
    assert [p.platform for p in result.platforms] == PLATFORMS
    for platform in result.platforms:
        assert platform.status is Status.PASSED
        commands = [c for c in platform.checks if c.kind == "command"]
        assert len(commands) >= 4 and all(c.status is Status.PASSED for c in commands)
        assert platform.compressed_bytes and platform.compressed_bytes > 10_000_000


def test_every_planned_tag_points_at_the_tested_digest(pushed_uv, registry_client: RegistryClient) -> None:
    _, report, _ = pushed_uv
    result = report.image("python311-uv")
    assert set(result.tags) >= {"latest", "1.0.0", "1.0", "1"}
    for tag in result.tags:
        assert registry_client.digest(parse_reference(f"{result.repository}:{tag}")) == result.digest, tag


def test_image_carries_oci_labels_with_the_base_pinned_by_digest(pushed_uv, registry_client: RegistryClient) -> None:
    factory, report, _ = pushed_uv
    result = report.image("python311-uv")
    base_digest = factory.registry.digest(parse_reference("python:3.11-slim"))
    assert result.parent_ref == f"python:3.11-slim@{base_digest}"
    ref = parse_reference(f"{result.repository}@{result.digest}")
    index = registry_client.index(ref)
    for manifest in index.manifests:
        labels = registry_client.blob_json(ref, manifest.config_digest)["config"]["Labels"]
        assert labels["org.opencontainers.image.version"] == "1.0.0"
        assert labels["org.opencontainers.image.base.name"] == "python:3.11-slim"
        assert labels["org.opencontainers.image.base.digest"] == base_digest
        assert labels["org.opencontainers.image.created"].endswith("Z")


def test_a_configured_ca_bundle_is_given_to_every_build_as_a_secret_and_lands_in_no_layer(
    pushed_uv, recorded: Recorded, engine: DockerEngine, registry_client
) -> None:
    factory, report, _ = pushed_uv
    bundle = factory.settings.ca_bundle
    assert recorded.bundle is not None and bundle == recorded.bundle.path
    assert recorded.requests, "the push built nothing"
    for request in recorded.requests:
        assert f"id=ca-bundle,src={bundle}" in request.secrets, request.secrets
        assert not [value for value in request.build_args.values() if "CERTIFICATE" in value or str(bundle) in value]
    result = report.image("python311-uv")
    ref = f"{result.repository}@{result.digest}"
    run = engine.run(RunRequest(ref, ["sh", "-c", "ls -A /run/secrets 2>/dev/null | wc -l"], "linux/amd64"))
    assert run.exit_code == 0 and run.stdout.strip() == "0"
    # Certificates only the host trusts (the marker, a TLS proxy's CA) must not be anywhere in the image's files.
    needles = host_only_needles(engine, ref, bundle)
    assert recorded.bundle.marker in needles
    for text in sorted({*needles[:3], recorded.bundle.marker}):
        found = engine.run(
            RunRequest(
                ref, ["grep", "-rlF", text, "/etc", "/opt", "/usr/local", "/root", "/app", "/tmp"], "linux/amd64"
            )
        )
        assert found.stdout.strip() == "", f"host-only certificate found in {found.stdout}"
    parsed = parse_reference(ref)
    for manifest in registry_client.index(parsed).manifests:
        config = json.dumps(registry_client.blob_json(parsed, manifest.config_digest))
        assert "BEGIN CERTIFICATE" not in config


def test_without_a_ca_bundle_no_build_is_given_a_ca_secret(pushed_uv, engine: DockerEngine) -> None:
    factory, _, _ = pushed_uv
    plan = make_plan(factory.catalog, factory.settings)
    forced = RunOptions(push=True, force=True)  # uv is pushed already: forced, its dry run builds it again
    with_bundle = Factory(factory.settings, factory.catalog, engine=engine).dry_run(plan, forced).lines("commands")
    without = dataclasses.replace(factory.settings, ca_bundle=None)
    lines = Factory(without, factory.catalog, engine=engine).dry_run(plan, forced).lines("commands")
    builds = [line for line in with_bundle if " buildx build " in f" {line} "]
    assert builds and all(f"--secret id=ca-bundle,src={factory.settings.ca_bundle}" in line for line in builds)
    assert len([line for line in lines if " buildx build " in f" {line} "]) == len(builds)
    assert not [line for line in lines if "ca-bundle" in line]


def test_progress_reports_each_phase_per_image_and_platform(pushed_uv) -> None:
    _, _, events = pushed_uv
    phases = [e.phase for e in events if e.image == "python311-uv"]
    for phase in (Phase.WAITING, Phase.BUILDING, Phase.SMOKE_TESTING, Phase.PROMOTING, Phase.PROMOTED):
        assert phase in phases
    assert phases.index(Phase.BUILDING) < phases.index(Phase.SMOKE_TESTING) < phases.index(Phase.PROMOTED)
    tested = {e.platform for e in events if e.phase is Phase.SMOKE_TESTING}
    assert tested == set(PLATFORMS)
    assert all(b.elapsed >= a.elapsed for a, b in zip(events, events[1:], strict=False))


def test_test_command_smoke_tests_every_platform_of_an_existing_index(pushed_uv, test_registry: str) -> None:
    factory, report, _ = pushed_uv
    result = report.image("python311-uv")
    tested = factory.test(f"{result.repository}:latest", factory.catalog["python311-uv"])
    assert tested.status is ImageStatus.TESTED
    assert [p.platform for p in tested.platforms] == PLATFORMS
    assert all(p.status is Status.PASSED for p in tested.platforms)


def _break_on_arm64(project: Path) -> None:
    """Change python311-uv so that it builds a new digest whose smoke tests fail on arm64 only."""
    image = project / "images" / "python311-uv"
    dockerfile = image / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "\nENV BASEIMAGES_TEST_CHANGE=1\n")
    spec = image / "image.yaml"
    spec.write_text(
        spec.read_text().replace(
            "smoke:\n  commands:\n",
            "smoke:\n  commands:\n"
            "    - name: runs on x86_64 only (fails under arm64 on purpose)\n"
            "      command: [uname, -m]\n"
            "      stdout: '^x86_64$'\n",
        )
    )


def test_failing_smoke_test_on_one_platform_leaves_rolling_tags_where_they_were(
    pushed_uv, engine: DockerEngine, registry_client: RegistryClient, tmp_path: Path
) -> None:
    factory, report, _ = pushed_uv
    before = report.image("python311-uv")
    project = tmp_path / "broken"
    shutil.copytree(factory.settings.root, project)
    _break_on_arm64(project)
    settings = factory.settings.with_overrides(root=project)
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    rerun = Factory(settings, catalog, engine=engine).run(make_plan(catalog, settings), RunOptions(push=True))

    failed = rerun.image("python311-uv")
    assert failed.status is ImageStatus.FAILED
    assert rerun.exit_code == 1
    assert failed.digest and failed.digest != before.digest
    by_platform = {p.platform: p.status for p in failed.platforms}
    assert by_platform == {"linux/amd64": Status.PASSED, "linux/arm64": Status.FAILED}
    assert failed.tags == []
    for tag in before.tags:
        assert registry_client.digest(parse_reference(f"{before.repository}:{tag}")) == before.digest, tag


def test_cli_push_only_writes_a_report_with_both_platforms_passed(
    engine: DockerEngine, test_registry: str, project: Path, tmp_path: Path
) -> None:
    report_file = tmp_path / "r.json"
    out, err = io.StringIO(), io.StringIO()
    code = main(
        [
            "push",
            "--only",
            "python311-uv",
            "--project",
            str(project),
            "--registry",
            test_registry,
            "--namespace",
            "cli",
            "--report",
            str(report_file),
        ],
        out=out,
        err=err,
    )
    assert code == 0, err.getvalue()
    data = json.loads(report_file.read_text())
    (image,) = data["images"]
    assert image["status"] == "promoted"
    assert image["digest"].startswith("sha256:")
    assert {p["platform"]: p["status"] for p in image["platforms"]} == {p: "passed" for p in PLATFORMS}
    assert all(c["status"] == "passed" for p in image["platforms"] for c in p["checks"])
    assert "latest" in image["tags"] and image["seconds"]["build"] >= 0
    assert "python311-uv" in err.getvalue() and "promoted" in err.getvalue()


def test_build_command_tests_both_platforms_and_pushes_nothing(
    engine: DockerEngine, test_registry: str, project: Path, registry_client: RegistryClient, fresh_settings
) -> None:
    settings = fresh_settings(project, test_registry)
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    report = Factory(settings, catalog, engine=engine).run(make_plan(catalog, settings), RunOptions(push=False))
    result = report.image("python311-uv")
    assert result.status is ImageStatus.TESTED, result.error
    assert [p.status for p in result.platforms] == [Status.PASSED, Status.PASSED]
    assert result.tags == []
    for tag in ("latest", "candidate-1.0.0"):
        assert registry_client.digest(parse_reference(f"{result.repository}:{tag}")) is None
