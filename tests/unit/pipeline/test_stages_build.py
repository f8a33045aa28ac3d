"""The Build stage with a fake engine and an in-memory registry: one build per platform, at once, each
on the builder its platform is mapped to, merged into one index; a child's build reads its parent's
candidate from the parent's OCI layout."""

from __future__ import annotations

import datetime as dt

import pytest
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.core.events import Event, Phase
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.pipeline.stages import Build, ImageContext, ResolveBase, default_stages
from baseimages.pipeline.stages.sbom import AttachSbom
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"
BOTH = ["linux/amd64", "linux/arm64"]


@pytest.fixture
def family(catalog_writer):
    catalog_writer.add("uv")
    catalog_writer.add("security", parent="uv")
    return catalog_writer


def _run(family, engine, builders=None, push=True):
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t", builders=builders or {})
    catalog = family.load()
    events: list[Event] = []
    registry = MemoryRegistry()
    stages = [s for s in default_stages() if not isinstance(s, AttachSbom)]  # no cdxgen here
    factory = Factory(settings, catalog, engine=engine, registry=registry, on_event=events.append, stages=stages)
    report = factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=push))
    assert report.exit_code == 0, [i.error for i in report.images]
    return report, events, registry


def test_each_platform_builds_in_its_own_build_at_once_into_its_own_archive(family):
    engine = FakeEngine(build_seconds=0.1)
    _run(family, engine)
    assert sorted((image, platform) for image, platform, _ in engine.platform_builds) == [
        ("security", "linux/amd64"), ("security", "linux/arm64"), ("uv", "linux/amd64"), ("uv", "linux/arm64")
    ]  # fmt: skip
    assert engine.most_concurrent_of_image == 2
    dests = {key: request.output["dest"] for key, request in engine.by_platform.items()}
    assert dests[("uv", "linux/arm64")].endswith("/uv.linux-arm64.oci.tar")
    assert len(set(dests.values())) == 4
    assert all("annotation-index" not in k for r in engine.by_platform.values() for k in r.output)


def test_the_merged_index_is_what_is_loaded_uploaded_and_reported_with_its_annotations(family):
    engine = FakeEngine()
    report, _, registry = _run(family, engine)
    uv = report.image("uv")
    assert engine.loaded[0] == "uv.oci.tar"
    assert engine.local[f"{REGISTRY}/t/uv:candidate-1.0.0"] == uv.digest
    assert registry.indexes[uv.digest] == BOTH  # in the catalog's platform order
    notes = registry.annotations[uv.digest]
    assert notes["org.opencontainers.image.base.digest"] == "sha256:" + "b" * 64
    assert notes["io.baseimages.fingerprint"] == uv.fingerprint


def test_pushing_a_childs_build_of_each_platform_pulls_its_parents_uploaded_candidate_by_digest(family):
    # From the registry, as a later run builds FROM the published parent: the same image (reproducible).
    engine = FakeEngine()
    report, _, _ = _run(family, engine, builders={"linux/arm64": "node2"})
    uv = report.image("uv")
    for platform in BOTH:
        request = engine.by_platform[("security", platform)]
        assert request.platforms == (platform,)
        assert request.build_args["BASE_IMAGE"] == f"{REGISTRY}/t/uv:candidate-1.0.0@{uv.digest}"
        assert "baseimages-parent" not in request.build_contexts
        # What consumers read stays the parent's name and digest.
        assert request.labels["org.opencontainers.image.base.digest"] == uv.digest
        assert request.labels["org.opencontainers.image.base.name"] == f"{REGISTRY}/t/uv:1.0.0-20261129.1"
    assert report.image("security").parent_ref == f"{REGISTRY}/t/uv:candidate-1.0.0@{uv.digest}"


def test_in_a_build_run_a_child_reads_its_parent_locally_or_on_another_builder_from_its_oci_layout(family):
    engine = FakeEngine()
    report, _, _ = _run(family, engine, builders={"linux/arm64": "node2"}, push=False)
    uv = report.image("uv")
    amd64, arm64 = (engine.by_platform[("security", p)] for p in BOTH)
    assert amd64.build_args["BASE_IMAGE"] == f"{REGISTRY}/t/uv:candidate-1.0.0"  # the local store, by tag
    assert "baseimages-parent" not in amd64.build_contexts
    assert arm64.build_args["BASE_IMAGE"] == "baseimages-parent"  # nothing uploaded: the layout travels
    context = arm64.build_contexts["baseimages-parent"]
    assert context.startswith("oci-layout:///") and context.endswith(f"/uv.oci@{uv.digest}")


def test_a_mapped_platform_builds_on_its_builder_and_the_report_and_progress_name_each_builder(family):
    engine = FakeEngine()
    report, events, _ = _run(family, engine, builders={"linux/arm64": "node2"})
    assert sorted(set(engine.platform_builds)) == [
        ("security", "linux/amd64", None), ("security", "linux/arm64", "node2"),
        ("uv", "linux/amd64", None), ("uv", "linux/arm64", "node2"),
    ]  # fmt: skip
    for image in report.images:
        assert image.builders == {"linux/amd64": "default", "linux/arm64": "node2"}
        assert {p.platform: p.builder for p in image.platforms} == {"linux/amd64": "default", "linux/arm64": "node2"}
    building = [(e.image, e.platform, e.detail) for e in events if e.phase is Phase.BUILDING]
    assert ("uv", "linux/arm64", "building on node2") in building
    assert ("uv", "linux/amd64", "built on default") in building
    assert set(report.image("uv").platform_timeline) == set(BOTH)
    assert "build" in report.image("uv").platform_timeline["linux/arm64"]


def test_a_failed_platform_build_fails_the_image_and_nothing_is_merged_or_loaded(family):
    class ArmFails(FakeEngine):
        def build(self, request, image, on_line=None):
            if request.platforms == ("linux/arm64",) and image.startswith("uv"):
                from baseimages.core.errors import BuildError

                raise BuildError(image, "docker buildx build failed (exit 1): ERROR: exec format error")
            return super().build(request, image, on_line)

    engine = ArmFails()
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    factory = Factory(settings, catalog, engine=engine, registry=MemoryRegistry(), stages=[ResolveBase(), Build()])
    report = factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))
    assert "uv (linux/arm64): docker buildx build failed" in (report.image("uv").error or "")
    assert engine.loaded == []
    assert report.image("security").error == "not built: parent uv failed"


def test_dry_run_shows_one_build_per_platform_with_the_builder_of_its_platform(family):
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t", builders={"linux/arm64": "node2"})
    catalog = family.load()
    lines = (
        Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry())
        .dry_run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))
        .lines("commands")
    )
    builds = [line for line in lines if line.startswith("docker buildx build") and "type=cacheonly" not in line]
    assert len(builds) == 4  # a child's cache warm-ups (type=cacheonly) aside
    for line in builds:
        assert ("--builder node2" in line) == ("--platform linux/arm64" in line)


@pytest.mark.parametrize(
    ("builders", "layout"), [({}, False), ({"linux/arm64": "node2"}, True)], ids=["default builder", "mapped"]
)
def test_the_stages_after_build_see_the_merged_candidate_its_archive_and_a_layout_where_one_is_read(
    family, builders, layout
):
    seen: list[ImageContext] = []
    written: dict[str, bool] = {}  # image -> whether its layout directory exists as the next stage runs

    class Record(AttachSbom):  # any stage after Build sees the merged candidate
        def run(self, ctx: ImageContext) -> None:
            seen.append(ctx)
            written[ctx.name] = ctx.built is not None and ctx.built.layout is not None and ctx.built.layout.is_dir()

        def applies(self, ctx: ImageContext) -> bool:
            return True

    engine = FakeEngine()
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t", builders=builders)
    catalog = family.load()
    stages = [ResolveBase(), Build(), Record()]
    Factory(settings, catalog, engine=engine, registry=MemoryRegistry(), stages=stages).run(
        make_plan(catalog, settings, now=NOW), RunOptions()
    )
    uv = next(ctx for ctx in seen if ctx.name == "uv")
    assert uv.built is not None and uv.archive is not None
    # a build run: a child on another builder reads the parent's layout; on the default one, the local store
    assert (uv.built.layout is not None) is layout and written["uv"] is layout
    assert uv.built.digest == engine.local[uv.built.ref]


def test_the_terminal_summary_says_which_builder_built_each_platform(family):
    import io

    from baseimages.cli.output import print_summary

    report, _, _ = _run(family, FakeEngine(), builders={"linux/arm64": "node2"})
    out = io.StringIO()
    print_summary(report, out, io.StringIO(), {})
    lines = [line.split() for line in out.getvalue().splitlines() if "checks passed" in line]
    assert {(words[0], words[-1]) for words in lines} == {("linux/amd64", "default"), ("linux/arm64", "node2")}


def test_a_platform_mapped_to_a_docker_context_builds_on_that_context_not_with_builder(family, tmp_path, monkeypatch):
    # buildx refuses `--builder CONTEXT` for a context's `docker` driver unless it is the current context.
    import hashlib

    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"node2").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text('{"Name": "node2"}')
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    engine = FakeEngine()
    report, _, _ = _run(family, engine, builders={"linux/arm64": "node2"})
    arm64 = engine.by_platform[("uv", "linux/arm64")]
    assert (arm64.docker_context, arm64.builder) == ("node2", None)
    assert arm64.argv()[:3] == ["docker", "--context", "node2"]
    assert report.image("uv").builders == {"linux/amd64": "default", "linux/arm64": "node2"}
