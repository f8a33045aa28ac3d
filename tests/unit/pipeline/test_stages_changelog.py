"""The changelog of every promotion (stages.changelog): read from the registry after the tests, stored on the
result (JSON report), shown in the Markdown and HTML reports, attested when signing; a rebuild whose files
changed is published though its packages did not. Fake engine whose images have real layers, in-memory registry."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fake_layers import dist_info, status
from fakes import CosignRunner, FakeEngine, MemoryRegistry

from baseimages.catalog.changes import RefreshPolicy
from baseimages.catalog.plan import make_plan
from baseimages.core.results import ImageStatus
from baseimages.outputs.html import render_html
from baseimages.outputs.markdown import render_markdown
from baseimages.pipeline.actions import Read
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings
from baseimages.trust.changelogrecord import CHANGELOG_TYPE
from baseimages.trust.signing import Cosign

NOV = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
DEC = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"
SITE = "usr/local/lib/python3.11/site-packages"
AMD, ARM = "linux/amd64", "linux/arm64"


def _contents(*packages, pins=(("rich", "13.7.1"),)):
    files = {"var/lib/dpkg/status": status(("bash", "5.2.15-2"), *packages)}
    for name, version in pins:
        files |= dist_info(SITE, name, version)  # type: ignore[arg-type]
    return files


@pytest.fixture(autouse=True)
def fake_cdxgen(monkeypatch):
    import baseimages.pipeline.stages.sbom as sbom_stage

    monkeypatch.setattr(sbom_stage, "generate_sbom", lambda rootfs, output, image, platform: {"bomFormat": "x"})


@pytest.fixture
def tiny(catalog_writer):
    catalog_writer.add("tiny")
    return catalog_writer


def _push(project, registry, contents, now, signer=None, options=None):
    settings = Settings(root=project.root, registry=REGISTRY, namespace="t")
    catalog = project.load()
    engine = FakeEngine(contents={"tiny": contents})
    factory = Factory(settings, catalog, engine=engine, registry=registry, signer=signer)
    return factory.run(make_plan(catalog, settings, now=now), options or RunOptions(push=True, force=True))


def test_a_first_promotion_says_so_in_its_changelog_and_the_reports(tiny):
    report = _push(tiny, MemoryRegistry(), _contents(), NOV)
    result = report.image("tiny")
    assert result.status is ImageStatus.PROMOTED
    log = report.to_dict()["images"][0]["changelog"]
    assert log["schema"] == "baseimages.changelog/v1" and log["first"] is True and log["old"] is None
    assert log["new"]["digest"] == result.digest
    assert {p: v["state"] for p, v in log["platforms"].items()} == {AMD: "first", ARM: "first"}
    assert "first promotion" in render_markdown(report)


def test_a_promotion_s_changelog_lists_the_package_and_pin_that_changed_on_each_platform(tiny, tmp_path):
    registry = MemoryRegistry()
    first = _push(tiny, registry, _contents(), NOV).image("tiny")
    report = _push(tiny, registry, _contents(("jq", "1.6-2.1"), pins=(("rich", "13.9.4"),)), DEC)
    result = report.image("tiny")
    assert result.status is ImageStatus.PROMOTED and result.digest != first.digest
    report.write(tmp_path / "report.json")
    log = json.loads((tmp_path / "report.json").read_text())["images"][0]["changelog"]
    assert log["old"] == {"reference": f"{REGISTRY}/t/tiny:1.0.0", "digest": first.digest}
    for platform in (AMD, ARM):
        entry = log["platforms"][platform]
        assert entry["state"] == "changed"
        assert entry["packages"] == [{"name": "jq", "change": "added", "old": None, "new": "1.6-2.1"}]
        assert [(c["name"], c["old"], c["new"]) for c in entry["python"]] == [("rich", "13.7.1", "13.9.4")]
    markdown = render_markdown(report)
    assert "### Changelogs" in markdown and f"{REGISTRY}/t/tiny:1.0.0" in markdown
    assert "| + | `jq` |  | `1.6-2.1` |" in markdown
    assert "| ~ | `rich (/usr/local)` | `13.7.1` | `13.9.4` |" in markdown
    html = render_html(report)
    assert '<section class="changelog" data-image="tiny">' in html and "+ jq 1.6-2.1" in html


def test_a_rebuild_whose_files_changed_is_promoted_though_its_packages_and_pins_did_not(tiny):
    registry = MemoryRegistry()
    first = _push(tiny, registry, _contents() | {"etc/app.conf": b"colour = red\n"}, NOV).image("tiny")
    report = _push(tiny, registry, _contents() | {"etc/app.conf": b"colour = blue\n"}, DEC)
    result = report.image("tiny")
    assert result.status is ImageStatus.PROMOTED and result.digest != first.digest
    tags = registry.tags[f"{REGISTRY}/t/tiny"]
    assert tags["1.0.0-20261203.1"] == tags["1.0.0"] == tags["latest"] == tags["2026.12"] == result.digest
    assert not any(reason.startswith("nothing inside changed") for reason in result.reasons)
    for platform in result.changelog["platforms"].values():
        assert platform["state"] == "changed" and platform["packages"] == [] and platform["python"] == []
        assert platform["files"]["paths"] == [{"change": "changed", "path": "etc/app.conf"}]


def test_a_rebuild_with_nothing_inside_changed_keeps_the_published_digest_and_moves_the_new_month_s_tag(tiny):
    registry = MemoryRegistry()
    first = _push(tiny, registry, _contents(), NOV).image("tiny")
    report = _push(tiny, registry, _contents(), DEC)
    result = report.image("tiny")
    assert report.exit_code == 0 and result.digest == first.digest
    tags = registry.tags[f"{REGISTRY}/t/tiny"]
    assert "1.0.0-20261203.1" not in tags  # no new immutable tag
    assert tags["2026.12"] == tags["2026.11"] == tags["1.0.0"] == tags["latest"] == first.digest
    assert any(reason.startswith("nothing inside changed") for reason in result.reasons), result.reasons
    states = {platform["state"] for platform in result.changelog["platforms"].values()}
    assert states == {"rebuilt"}  # only the build labels differ: the date, the revision, the fingerprint
    assert "nothing inside changed" in render_markdown(report)
    moves = list(registry.tag_moves)
    monthly = RunOptions(push=True, refresh=RefreshPolicy(mode="monthly"))  # the scheduled job's next run
    again = _push(tiny, registry, _contents(), DEC, options=monthly).image("tiny")
    assert again.status is ImageStatus.UNCHANGED and "refreshed this month" in again.reasons[0]
    assert again.digest == first.digest and registry.tag_moves == moves


def test_with_a_key_the_changelog_is_a_signed_attestation_on_the_promoted_index(tiny):
    registry = MemoryRegistry()
    runner = CosignRunner()
    signer = Cosign(tiny.root / "cosign.key", "pw", runner)
    _push(tiny, registry, _contents(), NOV, signer=signer)
    report = _push(tiny, registry, _contents(("jq", "1.6-2.1")), DEC, signer=signer)
    result = report.image("tiny")
    subject = f"{REGISTRY}/t/tiny@{result.digest}"
    attested = [(argv, p) for argv, _, p in runner.calls if argv[1] == "attest" and argv[-1] == subject]
    kinds = [argv[argv.index("--type") + 1] for argv, _ in attested]
    assert CHANGELOG_TYPE in kinds and CHANGELOG_TYPE in result.attestations
    predicate = next(p for argv, p in attested if argv[argv.index("--type") + 1] == CHANGELOG_TYPE)
    assert predicate == result.changelog and predicate["new"]["digest"] == result.digest


def test_the_dry_run_lists_the_changelog_stage_as_a_read_and_the_signed_changelog(tiny):
    settings = Settings(root=tiny.root, registry=REGISTRY, namespace="t")
    catalog = tiny.load()
    signer = Cosign(tiny.root / "cosign.key", "pw", CosignRunner())
    factory = Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry(), signer=signer)
    plan = factory.dry_run(make_plan(catalog, settings, now=NOV), RunOptions(push=True))
    (item,) = plan.images
    stages = {stage.stage: stage.actions for stage in item.stages}
    (read,) = stages["changelog"]
    assert isinstance(read, Read) and not read.writes and f"{REGISTRY}/t/tiny:1.0.0" in read.summary()
    assert any(CHANGELOG_TYPE in line for line in plan.commands())
    assert list(stages).index("changelog") < list(stages).index("sign")


def test_the_next_runs_changelog_reads_no_layer_a_run_before_it_read_from_the_registry_again(tiny):
    registry = MemoryRegistry()
    first = _push(tiny, registry, _contents(), NOV)
    read_first = list(registry.blobs_read)
    assert read_first  # a first promotion's changelog reads its layers
    registry.blobs_read.clear()
    report = _push(tiny, registry, _contents(("jq", "1.6-2.1")), DEC)
    result = report.image("tiny")
    assert result.status is ImageStatus.PROMOTED and result.digest != first.image("tiny").digest
    assert {p["state"] for p in result.changelog["platforms"].values()} == {"changed"}
    assert registry.blobs_read and not set(registry.blobs_read) & set(read_first)  # the new layers alone
