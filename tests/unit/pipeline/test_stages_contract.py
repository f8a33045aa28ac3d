"""The contract stage (stages.contract): it runs beside the smoke tests, reads its own skip marker, and its
checks join theirs once both ran. Fake engine, in-memory registry: no Docker, no network."""

from __future__ import annotations

import datetime as dt

import pytest
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.core.results import ImageStatus, Status
from baseimages.pipeline.actions import ContainerRun, ContractBuild
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"
MARKER = "/usr/share/baseimages/torch-unavailable"
AMD, ARM = "linux/amd64", "linux/arm64"


@pytest.fixture(autouse=True)
def no_sbom(monkeypatch):
    import baseimages.pipeline.stages.sbom as sbom_stage

    monkeypatch.setattr(sbom_stage, "generate_sbom", lambda rootfs, output, image, platform: {"components": []})


@pytest.fixture
def catalog(catalog_writer):
    """ml FROM python:3.11-slim on both platforms, with a contract that its skip marker may skip on arm64."""
    folder = catalog_writer.images_dir / "ml" / "contract"
    folder.mkdir(parents=True)
    (folder / "Dockerfile").write_text("ARG BASE_IMAGE\nARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n")
    contract = {"context": "contract", "skip_if_exists": MARKER, "commands": [{"command": ["python", "/srv/app.py"]}]}
    catalog_writer.add("ml", contract=contract, skips_allowed={ARM: "no aarch64 wheel here"})
    return catalog_writer


def _factory(catalog, engine, registry=None, jobs=2):
    settings = Settings(root=catalog.root, registry=REGISTRY, namespace="t", jobs=jobs)
    return Factory(settings, catalog.load(), engine=engine, registry=registry or MemoryRegistry())


def _push(catalog, engine, jobs=2):
    factory = _factory(catalog, engine, jobs=jobs)
    return factory.run(make_plan(factory.catalog, factory.settings, now=NOW), RunOptions(push=True))


def test_the_contract_runs_while_the_smoke_tests_do_and_its_checks_follow_theirs(catalog):
    engine = FakeEngine(slow_contract={"ml"}, slow_runs={"/ml:"})
    report = _push(catalog, engine)
    ml = report.image("ml")
    assert ml.status is ImageStatus.PROMOTED, ml.error
    (smoke_start, smoke_end), (contract_start, contract_end) = ml.timeline["smoke"], ml.timeline["contract"]
    assert contract_start < smoke_end and smoke_start < contract_end  # at the same time, not one after the other
    assert max(smoke_end, contract_end) <= ml.timeline["sign"][0]
    for platform in ml.platforms:
        kinds = [check.kind for check in platform.checks]
        assert "contract" in kinds and kinds.index("contract") > kinds.index("command"), kinds


def test_a_platform_whose_candidate_has_the_marker_skips_the_contract_there_and_builds_it_for_the_others(catalog):
    engine = FakeEngine(platform_files={ARM: {MARKER: (0o644, "no CPU torch wheel for aarch64\n")}})
    report = _push(catalog, engine)
    ml = report.image("ml")
    assert ml.status is ImageStatus.PROMOTED, ml.error
    contract_builds = [name for name in engine.builds if "contract" in name]
    assert len(contract_builds) == 1
    [amd64, arm64] = sorted(ml.platforms, key=lambda p: p.platform)
    assert {c.status for c in amd64.checks if c.kind == "contract"} == {Status.PASSED}
    [skipped] = [c for c in arm64.checks if c.kind == "contract"]
    assert skipped.status is Status.SKIPPED and "no CPU torch wheel for aarch64" in skipped.detail
    probes = [run for run in engine.runs if MARKER in run.command and len(run.command) < 12]
    assert sorted(run.platform for run in probes) == [AMD, ARM]  # one marker read per platform


def test_a_failed_contract_fails_the_image_with_the_smoke_tests_results_kept_and_no_tag_moves(catalog):
    registry = MemoryRegistry()
    engine = FakeEngine(fail_runs={"ml contract"}, slow_runs={"/ml:"})
    factory = _factory(catalog, engine, registry)
    report = factory.run(make_plan(factory.catalog, factory.settings, now=NOW), RunOptions(push=True))
    ml = report.image("ml")
    assert ml.status is ImageStatus.FAILED and "service contract" in (ml.error or "")
    assert all(any(c.kind == "command" and c.status is Status.PASSED for c in p.checks) for p in ml.platforms)
    assert registry.tag_moves == []


def test_at_one_job_the_contract_beside_the_smoke_tests_holds_the_permit_until_it_is_done(catalog_writer, catalog):
    catalog_writer.add("child", parent="ml")
    catalog_writer.add("other")
    engine = FakeEngine(slow_contract={"ml"})
    report = _push(catalog, engine, jobs=1)
    assert report.exit_code == 0, [i.error for i in report.images]
    assert engine.log.index("contract ml done") < engine.log.index("build child")
    later = [line for line in engine.log[engine.log.index("build ml") :] if line == "build other"]
    assert not later or engine.log.index("contract ml done") < engine.log.index("build other")


def test_a_dry_run_shows_the_marker_read_on_every_platform_then_the_service_build(catalog):
    factory = _factory(catalog, FakeEngine())
    plan = make_plan(factory.catalog, factory.settings, now=NOW)
    ml = factory.dry_run(plan, RunOptions(push=True)).image("ml")
    [contract] = [stage for stage in ml.stages if stage.stage == "contract"]
    probes = [a for a in contract.actions if isinstance(a, ContainerRun)]
    assert [p.platform for p in probes] == [AMD, ARM]
    assert all(MARKER in p.request.command for p in probes if p.request)
    [build] = [a for a in contract.actions if isinstance(a, ContractBuild)]
    assert build.platforms == (AMD, ARM)  # a dry run assumes the marker absent
