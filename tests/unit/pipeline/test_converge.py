"""Convergence: a promotion cut short (the runner killed between two tag PUTs) is finished by the next
run, whatever the change detection says, without a build; never onto a digest not proven passed. Fake
engine and in-memory registry: no Docker, no network."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections import Counter

import pytest
from fakes import AttestingCosign, FakeEngine, MemoryRegistry, TagTable

from baseimages.catalog.changes import Action as Verdict
from baseimages.catalog.plan import make_plan
from baseimages.cli.output import print_summary
from baseimages.core.errors import RegistryError
from baseimages.core.reference import Reference
from baseimages.core.results import ImageStatus
from baseimages.outputs.markdown import render_markdown
from baseimages.pipeline.actions import MoveTags
from baseimages.pipeline.converge import read_ahead
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.registry.published import promotion, tags_at
from baseimages.settings.config import Settings
from baseimages.trust.signing import Cosign

YESTERDAY = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
TODAY = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"
UV = f"{REGISTRY}/t/uv"


class CutShort(MemoryRegistry):
    """A runner killed after the PUT of uv's AFTER-th tag: the tags after it never move."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def copy_tags(self, source: Reference, tags: list[str]) -> None:
        if self.after and source.path.endswith("/uv"):
            after, self.after = self.after, 0
            super().copy_tags(source, tags[:after])
            raise RegistryError("killed (SIGKILL) after the tag PUTs")
        super().copy_tags(source, tags)


@pytest.fixture(autouse=True)
def fake_cdxgen(monkeypatch):
    import baseimages.pipeline.stages.sbom as sbom_stage

    monkeypatch.setattr(sbom_stage, "generate_sbom", lambda rootfs, output, image, platform: {"bomFormat": "x"})


@pytest.fixture
def family(catalog_writer):
    catalog_writer.add("uv")
    catalog_writer.add("ml", parent="uv")
    return catalog_writer


def _factory(family, registry, engine=None, signer=None):
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    return Factory(settings, catalog, engine=engine or FakeEngine(), registry=registry, signer=signer), catalog


def _push(family, registry, now=TODAY, force=False, engine=None, signer=None):
    factory, catalog = _factory(family, registry, engine, signer)
    return factory.run(make_plan(catalog, factory.settings, now=now), RunOptions(push=True, force=force))


def _half_promoted(family, after=3, signer=None):
    """Yesterday's complete promotion, then today's forced rebuild of uv killed after its AFTER-th tag PUT."""
    registry = CutShort(after=0)
    old = _push(family, registry, YESTERDAY, signer=signer).image("uv").digest
    registry.after = after
    cut = _push(family, registry, force=True, signer=signer)
    assert cut.image("uv").status is ImageStatus.FAILED
    new = registry.tags[UV]["1.0.0-20261129.1"]
    return registry, old, new


def test_a_push_killed_after_its_third_tag_put_is_finished_by_the_next_plain_push_without_a_build(family):
    registry, old, new = _half_promoted(family, after=3)
    tags = registry.tags[UV]
    assert [tags[t] for t in ("1.0.0-20261129.1", "1.0.0", "1.0")] == [new] * 3
    assert [tags[t] for t in ("1", "2026.11", "latest")] == [old] * 3
    engine, before = FakeEngine(), len(registry.tag_moves)
    report = _push(family, registry, engine=engine)
    assert report.exit_code == 0
    uv = report.image("uv")
    assert uv.status is ImageStatus.PROMOTED and uv.digest == new
    assert "uv" not in engine.builds and not any(run.image.startswith(UV) for run in engine.runs)  # no build, no test
    assert registry.tag_moves[before:][:3] == [(UV, "1", new), (UV, "2026.11", new), (UV, "latest", new)]
    assert uv.tags == ["1", "2026.11", "latest"]
    assert {tag: digest for tag, digest in registry.tags[UV].items() if not tag.startswith("candidate")} == {
        "1.0.0-20261128.1": old,
        **dict.fromkeys(["1.0.0-20261129.1", "1.0.0", "1.0", "1", "2026.11", "latest"], new),
    }
    reason = uv.reasons[0]
    assert reason.startswith(f"tags disagree: 1 ({old[:19]}), 2026.11 ({old[:19]}), latest ({old[:19]}) not at ")
    assert f"1.0.0-20261129.1 ({new[:19]}), the newest promoted build: converging them onto it" in reason
    # The report says so: JSON, Markdown, the terminal summary.
    assert json.loads(json.dumps(report.to_dict()))["images"][0]["reasons"][0] == reason
    assert reason in render_markdown(report)
    out = io.StringIO()
    print_summary(report, out, io.StringIO(), {})
    assert f"    why: {reason}" in out.getvalue().splitlines()
    # ml was built FROM uv's candidate yesterday's way: its parent moved, so it builds FROM the converged uv.
    assert report.image("ml").status is ImageStatus.PROMOTED
    assert engine.requests["ml"].build_args["BASE_IMAGE"] == f"{UV}@{new}"


def test_a_push_killed_after_its_immutable_tag_converges_every_rolling_tag_and_its_child_rebuilds_on_it(family):
    registry, old, new = _half_promoted(family, after=1)
    assert registry.tags[UV]["1.0.0"] == old
    factory, catalog = _factory(family, registry)
    decisions = factory.decide(make_plan(catalog, factory.settings, now=TODAY), RunOptions(push=True))
    assert decisions["uv"].action is Verdict.CONVERGE
    assert decisions["uv"].moves == ("1.0.0", "1.0", "1", "2026.11", "latest")
    assert decisions["ml"].action is Verdict.BUILD and decisions["ml"].reasons == ("parent uv has a new digest",)
    report = _push(family, registry)
    assert report.exit_code == 0 and report.image("uv").tags == ["1.0.0", "1.0", "1", "2026.11", "latest"]


def test_converging_wins_over_a_rebuild_the_change_detection_asks_for_and_says_so(family):
    registry, _, new = _half_promoted(family, after=3)
    engine = FakeEngine()
    report = _push(family, registry, force=True, engine=engine)
    uv = report.image("uv")
    assert uv.digest == new and "uv" not in engine.builds
    assert uv.reasons[1] == "not built in this run (forced (--force)): the next run judges it again"


def test_tags_that_agree_cost_no_write_and_the_image_stays_unchanged(family):
    registry = MemoryRegistry()
    _push(family, registry)
    moves = list(registry.tag_moves)
    report = _push(family, registry)
    assert {image.status for image in report.images} == {ImageStatus.UNCHANGED}
    assert registry.tag_moves == moves


class CountingHeads(MemoryRegistry):
    """Counts each tag's HEADs (`digest` of a tag reference; a manifest's GET, `summary`, is not one)."""

    def __init__(self) -> None:
        super().__init__()
        self.heads: Counter[str] = Counter()
        self._lock = threading.Lock()

    def digest(self, ref: Reference) -> str | None:
        if not ref.digest:
            with self._lock:
                self.heads[f"{ref.repository}:{ref.tag}"] += 1
        return super().digest(ref)

    def summary(self, ref: Reference) -> tuple[str, dict[str, str]] | None:
        digest = MemoryRegistry.digest(self, ref)
        return None if digest is None else (digest, self.annotations.get(digest, {}))


def test_a_run_that_changes_nothing_asks_for_each_tag_once_and_finds_the_tags_in_what_it_decided_on(family):
    registry = CountingHeads()
    first = _push(family, registry)
    registry.heads.clear()
    report = _push(family, registry)
    assert {image.status for image in report.images} == {ImageStatus.UNCHANGED}
    assert [image.tags for image in report.images] == [image.tags for image in first.images]
    assert report.image("uv").tags == ["1.0.0-20261129.1", "1.0.0", "1.0", "1", "2026.11", "latest"]
    assert max(registry.heads.values()) == 1, registry.heads


def test_the_dry_run_of_a_run_that_changes_nothing_asks_for_each_tag_once_too(family):
    registry = CountingHeads()
    _push(family, registry)
    factory, catalog = _factory(family, registry)
    registry.heads.clear()
    dry = factory.dry_run(make_plan(catalog, factory.settings, now=TODAY), RunOptions(push=True))
    published = [registry.tags[f"{REGISTRY}/t/{name}"]["1.0.0"] for name in ("uv", "ml")]
    assert [item.published for item in dry.images] == published
    assert max(registry.heads.values()) == 1, registry.heads


def test_the_tags_at_a_digest_found_with_the_decisions_reads_are_those_asked_for_and_cost_no_request(family):
    registry = CountingHeads()
    _push(family, registry)
    factory, catalog = _factory(family, registry)
    plan = make_plan(catalog, factory.settings, now=TODAY)
    image = plan.images[0]
    digest = registry.tags[UV]["1.0.0"]
    registry.heads.clear()
    seen = promotion(registry, UV, "1.0.0")
    assert seen is not None
    assert tags_at(registry, image, digest, TODAY, seen) == tags_at(registry, image, digest, TODAY)
    with_seen = 6  # promotion's own HEADs; tags_at with them asks nothing more
    assert sum(registry.heads.values()) == with_seen + 7  # without: the immutable tags 1 and 2, the 5 rolling


def test_the_dry_run_shows_the_converging_moves_as_the_run_executes_them(family):
    registry, old, new = _half_promoted(family, after=3)
    factory, catalog = _factory(family, registry)
    dry = factory.dry_run(make_plan(catalog, factory.settings, now=TODAY), RunOptions(push=True))
    uv = dry.image("uv")
    assert uv.actions == [MoveTags(UV, new, ("1", "2026.11", "latest"))]
    lines = dry.lines()
    assert any(line.startswith("  why: converge: tags disagree: 1 ") for line in lines)
    assert f"    1        {old[:19]}… -> {new[:19]}…" in lines
    assert f"    latest   {old[:19]}… -> {new[:19]}…" in lines
    assert dry.image("ml").actions  # ml builds, FROM the digest uv converges onto
    assert any(f"BASE_IMAGE={UV}@{new}" in line for line in dry.lines("commands"))
    # The run then executes exactly those moves.
    before = len(registry.tag_moves)
    _push(family, registry)
    assert registry.tag_moves[before : before + 3] == [(UV, tag, new) for tag in ("1", "2026.11", "latest")]


def test_with_a_signing_key_a_half_promotion_without_its_test_record_is_not_converged_onto_but_rebuilt(family):
    registry, _, new = _half_promoted(family, after=3)
    runner = AttestingCosign(registry.platform_digests.get)  # signed nothing the registry holds
    engine = FakeEngine()
    report = _push(family, registry, engine=engine, signer=Cosign(family.root / "cosign.key", "pw", runner))
    uv = report.image("uv")
    assert "uv" in engine.builds and uv.status is ImageStatus.PROMOTED and uv.digest != new
    assert "not converged onto it: signature: " in uv.reasons[0] and "test record: " in uv.reasons[0]
    assert uv.reasons[1] == "built to promote anew"
    assert ["public-key", "--key", str(family.root / "cosign.key")] == runner.calls[0][0][1:4]
    assert all(registry.tags[UV][tag] == uv.digest for tag in ("1.0.0", "1.0", "1", "2026.11", "latest"))


def test_with_a_signing_key_a_half_promotion_signed_with_its_passing_test_record_converges(family):
    registry, _, new = _half_promoted(family, after=3)
    runner = AttestingCosign(registry.platform_digests.get, passed={new})
    engine = FakeEngine()
    report = _push(family, registry, engine=engine, signer=Cosign(family.root / "cosign.key", "pw", runner))
    uv = report.image("uv")
    assert "uv" not in engine.builds and uv.digest == new and uv.tags == ["1", "2026.11", "latest"]
    assert ("verify-attestation", f"{UV}@{new}") in runner.verbs()


class MeetingTags(TagTable):
    """Each tag list waits at TOGETHER, once it is set."""

    together: threading.Barrier | None = None

    def __call__(self, repository: Reference) -> list[str]:
        if self.together is not None:
            self.together.wait()
        return super().__call__(repository)


def test_every_images_reads_are_in_flight_together_before_any_verdict(family):
    registry = MemoryRegistry(tags=MeetingTags())
    _push(family, registry)
    factory, catalog = _factory(family, registry)
    plan = make_plan(catalog, factory.settings, now=TODAY)
    # Each image's manifest read and its tag list, all at once: any two in a row would time out here.
    registry.tags.together = together = threading.Barrier(2 * len(plan.images), timeout=5)

    def current(reference):
        together.wait()
        return None

    found, states = read_ahead(factory.tools, plan, current)
    assert found == {f"{UV}:1.0.0": None, f"{REGISTRY}/t/ml:1.0.0": None}
    assert {name: state.behind if state else None for name, state in states.items()} == {"uv": (), "ml": ()}
