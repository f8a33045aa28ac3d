"""The scheduler and its stages, with a fake engine and an in-memory registry: no Docker, no network."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.core.errors import RunCancelled
from baseimages.core.events import Event, Phase
from baseimages.core.results import ImageStatus
from baseimages.core.retry import RetryPolicy
from baseimages.pipeline.actions import Action, Notice
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.pipeline.stages import ImageContext, Stage, default_stages
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"


@pytest.fixture(autouse=True)
def fake_cdxgen(monkeypatch):
    """cdxgen stands in: it checks it was given the exported root filesystem and names the platform."""
    import baseimages.pipeline.stages.sbom as sbom_stage

    def generate(rootfs, output, image, platform):
        assert (rootfs / "var/lib/dpkg/status").is_file()
        purl = f"pkg:deb/debian/libc6@2.36?{platform}"
        return {"bomFormat": "CycloneDX", "components": [{"name": "libc6", "purl": purl}]}

    monkeypatch.setattr(sbom_stage, "generate_sbom", generate)


@pytest.fixture
def family(catalog_writer):
    """uv FROM python:3.11-slim with a contract; ml and security FROM uv; solo FROM python, independent."""
    contract = catalog_writer.images_dir / "uv" / "contract"
    contract.mkdir(parents=True)
    (contract / "Dockerfile").write_text("ARG BASE_IMAGE\nARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n")
    catalog_writer.add("uv", contract={"context": "contract", "commands": [{"command": ["python", "/srv/app.py"]}]})
    catalog_writer.add("ml", parent="uv")
    catalog_writer.add("security", parent="uv")
    catalog_writer.add("solo")
    return catalog_writer


def _run(family, engine=None, registry=None, push=True, stages=None, jobs=2):
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t", jobs=jobs)
    catalog = family.load()
    events: list[Event] = []
    engine = engine or FakeEngine()
    registry = registry or MemoryRegistry()
    factory = Factory(settings, catalog, engine=engine, registry=registry, on_event=events.append, stages=stages)
    report = factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=push))
    return report, events, engine, registry


def _status(report):
    return {image.name: image.status for image in report.images}


def test_every_image_runs_every_stage_and_promotes_with_a_complete_timeline(family):
    report, events, engine, registry = _run(family)
    assert report.exit_code == 0, [i.error for i in report.images]
    assert set(_status(report).values()) == {ImageStatus.PROMOTED}
    uv = report.image("uv")
    assert sorted(uv.seconds) == sorted(
        ["resolve", "build", "identify", "push", "changelog", "smoke", "contract", "sizes", "sign", "promote"]
    )
    assert sorted(report.image("ml").seconds) == sorted(
        ["resolve", "build", "identify", "push", "changelog", "smoke", "sizes", "sign", "promote"]
    )
    for start, end in uv.timeline.values():
        assert 0 <= start <= end
    phases = [e.phase for e in events if e.image == "uv" and e.platform is None]
    # The changelog is read beside the checks: its two events come between the upload's and signing's.
    reading = [i for i, phase in enumerate(phases) if phase is Phase.READING_CHANGELOG]
    assert len(reading) == 2 and phases.index(Phase.PUSHING) < reading[0] and reading[1] < phases.index(Phase.SIGNING)
    phases = [phase for phase in phases if phase is not Phase.READING_CHANGELOG]
    assert phases == [
        Phase.WAITING,
        Phase.RESOLVING,
        Phase.BUILDING,
        Phase.BUILDING,  # the platforms merged into one index
        Phase.IDENTIFYING,
        Phase.PUSHING,
        Phase.PUSHING,  # the upload's blob counts
        Phase.CONTRACT_TESTING,
        Phase.COMPARING_SIZES,
        Phase.COMPARING_SIZES,  # no previous build yet
        Phase.SIGNING,
        Phase.SIGNING,  # no key: "not signed"
        Phase.PROMOTING,
        Phase.PROMOTED,
    ]
    # The smoke tests announce themselves per platform, as they run.
    assert {e.platform for e in events if e.image == "uv" and e.phase is Phase.SMOKE_TESTING} == {
        "linux/amd64",
        "linux/arm64",
    }
    repository = f"{REGISTRY}/t/uv"
    assert registry.tags[repository]["latest"] == uv.digest
    assert registry.tags[repository]["1.0.0-20261129.1"] == uv.digest
    assert uv.tags == ["1.0.0-20261129.1", "1.0.0", "1.0", "1", "2026.11", "latest"]


def test_children_build_from_the_parent_candidate_and_promote_after_it(family):
    report, events, engine, _ = _run(family)
    uv = report.image("uv")
    assert report.image("ml").parent_ref == f"{REGISTRY}/t/uv:candidate-1.0.0@{uv.digest}"
    # Their base.name is the immutable tag the parent gets, never its candidate tag.
    labels = engine.requests["ml"].labels
    assert labels["org.opencontainers.image.base.name"] == f"{REGISTRY}/t/uv:1.0.0-20261129.1"
    assert labels["org.opencontainers.image.base.digest"] == uv.digest
    assert labels["org.opencontainers.image.created"] == "2026-11-29T00:00:00Z"
    assert engine.requests["ml"].build_args["SOURCE_DATE_EPOCH"] == str(int(NOW.replace(hour=0).timestamp()))
    at = {(e.image, e.phase): e.elapsed for e in events}
    for child in ("ml", "security"):
        assert at[("uv", Phase.PROMOTED)] <= at[(child, Phase.PROMOTING)]


@pytest.mark.parametrize(
    "where",
    ["build", "push", "smoke", "contract", "promote"],
)
def test_a_failure_in_any_stage_leaves_the_image_and_its_children_untagged_while_a_sibling_promotes(family, where):
    fail_runs = {"smoke": {"/uv:"}, "contract": {"uv contract"}}.get(where, set())
    engine = FakeEngine(fail_build={"uv"} if where == "build" else set(), fail_runs=fail_runs)
    registry = MemoryRegistry(
        fail_upload={"uv"} if where == "push" else set(), fail_tags={"uv"} if where == "promote" else set()
    )
    report, events, _, registry = _run(family, engine, registry)
    status = _status(report)
    assert status["uv"] is ImageStatus.FAILED
    assert status["ml"] is ImageStatus.BLOCKED and status["security"] is ImageStatus.BLOCKED
    assert status["solo"] is ImageStatus.PROMOTED
    moved = {repository.rsplit("/", 1)[-1] for repository, _, _ in registry.tag_moves}
    assert moved == {"solo"}
    assert report.exit_code == (3 if where in ("push", "promote") else 1)
    assert report.image("uv").error


def test_a_child_built_before_its_parent_failed_is_blocked_built_and_tested_not_promoted(family):
    # uv is built (so its children build from it) and then fails its smoke tests.
    engine = FakeEngine(fail_runs={"/uv:"}, build_seconds=0.05)
    report, _, engine, registry = _run(family, engine)
    ml = report.image("ml")
    assert ml.status is ImageStatus.BLOCKED
    assert "built and tested, not promoted" in (ml.error or "")
    assert "ml" in engine.builds and ml.seconds.get("smoke") is not None
    assert all(not r.endswith(("/uv", "/ml", "/security")) for r, _, _ in registry.tag_moves)


def test_ctrl_c_in_the_middle_of_a_build_stops_the_run_and_moves_no_tag_of_any_image(family):
    # uv is interrupted while solo is still building: solo's build ends, but no stage starts after it.
    registry = MemoryRegistry()
    engine = FakeEngine(interrupt_build="uv", build_seconds=0.05, slow={"solo"})
    with pytest.raises(RunCancelled) as caught:
        _run(family, engine, registry)
    assert "solo" in engine.builds and "ml" not in engine.builds
    assert registry.tag_moves == [] and registry.indexes == {}
    # The report, written before the error was raised, says so: what was not done failed, interrupted by
    # SIGINT (uv's children, blocked as uv's build stopped, say that).
    report = caught.value.report
    assert caught.value.exit_code == 130 and report is not None and report.exit_code == 130
    assert report.interrupted == "SIGINT"
    assert [i.status for i in report.images if i.name in ("uv", "solo")] == [ImageStatus.FAILED] * 2
    assert all("interrupted (SIGINT)" in (report.image(name).error or "") for name in ("uv", "solo"))
    # uv's children never built: blocked by uv when their thread saw uv stop, or failed as interrupted when the
    # interrupt came before their thread ran (which of the two is a race of threads; neither moved a tag).
    for child in (i for i in report.images if i.name not in ("uv", "solo")):
        assert (child.status, "parent uv failed" in (child.error or "")) == (ImageStatus.BLOCKED, True) or (
            child.status is ImageStatus.FAILED and "interrupted (SIGINT)" in (child.error or "")
        ), (child.name, child.status, child.error)


def test_jobs_bounds_how_many_images_build_at_once(family):
    engine = FakeEngine(build_seconds=0.05)
    _run(family, engine, jobs=1)
    assert engine.most_concurrent == 1
    engine = FakeEngine(build_seconds=0.05)
    _run(family, engine, jobs=3)
    assert engine.most_concurrent >= 2


def test_at_one_job_no_image_builds_while_another_is_tested(family):
    # An image's upload and tests hold its permit: at --jobs 1 nothing overlaps (the faster schedule on 2 cores).
    engine = FakeEngine(slow_contract={"uv"})
    report, _, _, _ = _run(family, engine, jobs=1)
    assert engine.log.index("contract uv done") < engine.log.index("build ml")
    assert engine.log.index("contract uv done") < engine.log.index("build security")
    assert report.image("ml").status is ImageStatus.PROMOTED


def test_when_a_parent_publishes_the_one_free_permit_goes_to_the_first_child_in_the_plan_not_a_racer(family):
    # --jobs 2: uv keeps its permit through its tests, so its children share the one other permit; ml (first
    # in the plan) takes it as soon as uv's candidate exists, whichever child's thread wakes first.
    for _ in range(5):
        engine = FakeEngine(slow_contract={"uv"})
        report, _, _, _ = _run(family, engine, jobs=2)
        builds = [line for line in engine.log if line in ("build ml", "build security")]
        assert builds == ["build ml", "build ml", "build security", "build security"], engine.log
        assert report.image("security").status is ImageStatus.PROMOTED


def test_the_changelog_is_read_while_the_checks_run_and_awaited_before_signing(family):
    report, _, _, _ = _run(family, FakeEngine(slow_contract={"uv"}))
    timeline = report.image("uv").timeline
    assert timeline["changelog"][0] < timeline["contract"][1]  # read while the slow contract ran
    assert max(timeline["changelog"][1], timeline["contract"][1]) <= timeline["sign"][0]
    changelog = report.image("uv").changelog
    assert changelog is not None and {v["state"] for v in changelog["platforms"].values()} == {"first"}


def test_a_failed_check_fails_the_image_after_the_changelog_beside_it_is_done_and_nothing_is_signed(family):
    report, _, _, registry = _run(family, FakeEngine(fail_runs={"uv"}))
    uv = report.image("uv")
    assert uv.status is ImageStatus.FAILED
    assert "changelog" in uv.timeline and "sign" not in uv.timeline
    assert f"{REGISTRY}/t/uv" not in registry.tags or "latest" not in registry.tags[f"{REGISTRY}/t/uv"]


class Pause(Stage):
    """A light stage a test adds between heavy ones: it takes a moment (as `identify` asks the registry)."""

    key = "pause"
    heavy = False

    def run(self, ctx: ImageContext) -> None:
        time.sleep(0.1)


def test_at_one_job_an_image_keeps_its_permit_from_its_build_to_its_last_test(family):
    # No other image builds between one image's build and its upload and tests, light stages included.
    stages = default_stages()
    stages.insert(2, Pause())
    report, _, _, _ = _run(family, FakeEngine(build_seconds=0.05), stages=stages, jobs=1)
    ml, security = (report.image(name).timeline for name in ("ml", "security"))
    first, second = (ml, security) if ml["build"][0] < security["build"][0] else (security, ml)
    assert first["smoke"][1] <= second["build"][0]


def test_build_run_tests_every_image_and_moves_no_tag(family):
    report, _, _, registry = _run(family, push=False)
    assert set(_status(report).values()) == {ImageStatus.TESTED}
    assert registry.tag_moves == [] and registry.indexes == {}
    assert not {"push", "sign", "promote"} & set(report.image("uv").seconds)


class Attest(Stage):
    """A stage a test adds: it runs after the smoke tests and says what it does (its actions)."""

    key = "attest"
    phase = Phase.PROMOTING

    def __init__(self) -> None:
        self.ran: list[str] = []

    def run(self, ctx: ImageContext) -> None:
        self.ran.append(ctx.name)

    def actions(self, ctx: ImageContext) -> list[Action]:
        assert ctx.built is not None
        return [Notice(f"attest {ctx.built.ref}")]


def test_a_stage_added_to_the_list_runs_is_timed_and_appears_in_the_dry_run(family):
    stages = default_stages()
    stages.insert(4, Attest())
    report, _, _, _ = _run(family, stages=stages)
    assert stages[4].ran and set(stages[4].ran) == {"uv", "ml", "security", "solo"}  # type: ignore[attr-defined]
    assert "attest" in report.image("ml").seconds and "attest" in report.image("ml").timeline

    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    factory = Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry(), stages=stages)
    lines = factory.dry_run(make_plan(catalog, settings, now=NOW), RunOptions(push=True)).lines("commands")
    assert f"# attest {REGISTRY}/t/ml:candidate-1.0.0" in lines
    build = next(i for i, line in enumerate(lines) if "t/ml:candidate-1.0.0" in line and "buildx build" in line)
    tag = next(i for i, line in enumerate(lines) if line.startswith(f"# tag {REGISTRY}/t/ml@"))
    assert build < lines.index(f"# attest {REGISTRY}/t/ml:candidate-1.0.0") < tag


def test_dry_run_starts_nothing_and_lists_every_stage_of_every_image(family):
    engine = FakeEngine()
    registry = MemoryRegistry()
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    lines = (
        Factory(settings, catalog, engine=engine, registry=registry)
        .dry_run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))
        .lines("commands")
    )
    assert engine.builds == [] and engine.runs == [] and registry.tag_moves == []
    for name in ("uv", "ml", "security", "solo"):
        assert any(line.startswith("docker buildx build") and f"t/{name}:candidate" in line for line in lines)
        assert any(line.startswith(f"# upload <tmp>/{name}.oci.tar") for line in lines)
        assert any(line.startswith(f"# tag {REGISTRY}/t/{name}@<digest of {name}>") for line in lines)
    # uv's contract: one build of its service FROM uv's candidate, its checks appended, only their results out
    [contract] = [line for line in lines if "type=local,dest=<tmp>/uv-contract-1/results" in line]
    # FROM the candidate as the run builds it: uploaded, by digest
    assert (
        contract.startswith("docker buildx build")
        and f"BASE_IMAGE={REGISTRY}/t/uv:candidate-1.0.0@<digest of uv>'" in contract
    )
    assert "#   FROM baseimages-contract-service AS baseimages-contract-checks" in lines
    assert "#   FROM scratch" in lines
    assert not any("baseimages-contract/uv" in line for line in lines)  # no service image, no container in it


def test_a_second_build_of_the_day_gets_the_next_immutable_tag_and_the_first_never_moves(family):
    registry = MemoryRegistry()
    first, _, _, _ = _run(family, registry=registry)
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    factory = Factory(settings, catalog, engine=FakeEngine(), registry=registry)
    second = factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=True, force=True))
    repository = f"{REGISTRY}/t/uv"
    assert registry.tags[repository]["1.0.0-20261129.1"] == first.image("uv").digest
    assert registry.tags[repository]["1.0.0-20261129.2"] == second.image("uv").digest
    assert second.image("uv").tags[0] == "1.0.0-20261129.2"


class Broken(Stage):
    key = "broken"
    phase = Phase.SMOKE_TESTING

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.name == "uv"

    def run(self, ctx: ImageContext) -> None:
        raise ValueError("not JSON")


def test_an_unexpected_error_in_a_stage_fails_that_image_in_one_line_and_the_run_goes_on(family):
    stages = default_stages()
    stages.insert(3, Broken())
    report, _, _, registry = _run(family, stages=stages)
    uv = report.image("uv")
    assert uv.status is ImageStatus.FAILED
    assert uv.error == "uv: internal error (please report it): ValueError: not JSON"
    assert report.exit_code == 70
    assert report.image("solo").status is ImageStatus.PROMOTED
    assert {r.rsplit("/", 1)[-1] for r, _, _ in registry.tag_moves} == {"solo"}


def _signed_run(family, runner, **kwargs):
    from baseimages.trust.signing import Cosign

    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    registry = kwargs.pop("registry", MemoryRegistry())
    signer = Cosign(family.root / "cosign.key", "pw", runner)
    factory = Factory(settings, catalog, engine=FakeEngine(), registry=registry, signer=signer, **kwargs)
    return factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=True)), registry


def test_with_a_key_every_index_is_signed_and_its_test_record_attested_before_any_tag_moves(family):
    from fakes import CosignRunner

    from baseimages.trust.changelogrecord import CHANGELOG_TYPE
    from baseimages.trust.testrecord import TEST_RECORD_TYPE

    runner = CosignRunner()
    report, registry = _signed_run(family, runner)
    assert report.exit_code == 0
    uv = report.image("uv")
    subject = f"{REGISTRY}/t/uv@{uv.digest}"
    assert ("sign", subject) in runner.verbs() and ("attest", subject) in runner.verbs()
    assert uv.signed is True and uv.attestations == ["https://cyclonedx.org/bom", TEST_RECORD_TYPE, CHANGELOG_TYPE]
    assert list(uv.seconds)[-4:] == ["sign", "sbom", "record", "promote"]
    record = next(p for argv, _, p in runner.calls if argv[1] == "attest" and argv[-1] == subject)
    assert record["digest"] == uv.digest and record["passed"] is True
    assert [p["platform"] for p in record["platforms"]] == ["linux/amd64", "linux/arm64"]
    assert all(p["digest"].startswith("sha256:") and p["status"] == "passed" for p in record["platforms"])
    assert any(c["kind"] == "contract" for c in record["platforms"][0]["checks"])
    assert all(env == {"COSIGN_PASSWORD": "pw"} for argv, env, _ in runner.calls)


def test_a_signing_failure_fails_the_image_and_no_tag_points_at_an_unsigned_digest(family):
    from fakes import CosignRunner

    report, registry = _signed_run(family, CosignRunner(fail_on={"/t/uv@"}))
    uv = report.image("uv")
    assert uv.status is ImageStatus.FAILED and "registry refused the signature" in (uv.error or "")
    assert {r.rsplit("/", 1)[-1] for r, _, _ in registry.tag_moves} == {"solo"}
    assert report.image("ml").status is ImageStatus.BLOCKED


def test_without_a_key_push_signs_nothing_and_the_report_says_so(family):
    report, events, _, _ = _run(family)
    assert all(image.signed is False and image.attestations == [] for image in report.images)
    assert any(e.phase is Phase.SIGNING and e.detail.startswith("not signed: no signing key") for e in events)


def test_dry_run_shows_the_cosign_commands_and_never_the_password(family):
    from fakes import CosignRunner

    from baseimages.trust.signing import Cosign

    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    signer = Cosign(family.root / "cosign.key", "pw-that-must-not-show", CosignRunner())
    lines = (
        Factory(settings, catalog, engine=FakeEngine(), registry=MemoryRegistry(), signer=signer)
        .dry_run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))
        .lines("commands")
    )
    assert any(line.startswith("cosign sign --key") and "t/uv@<digest of uv>" in line for line in lines)
    assert any(line.startswith("cosign attest --key") and "t/uv@<digest of uv>" in line for line in lines)
    assert not any("pw-that-must-not-show" in line for line in lines)


def test_a_reproducible_rebuild_settles_on_the_published_image_and_moves_no_tag(family):
    registry = MemoryRegistry()
    first, _, _, _ = _run(family, FakeEngine(reproducible=True), registry)
    moves = list(registry.tag_moves)
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t")
    catalog = family.load()
    engine = FakeEngine(reproducible=True)
    factory = Factory(settings, catalog, engine=engine, registry=registry)
    second = factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=True, force=True))
    assert second.exit_code == 0
    for image in second.images:
        assert image.status is ImageStatus.UNCHANGED, (image.name, image.error)
        assert image.digest == first.image(image.name).digest
        assert image.reasons[-1].startswith("rebuilt byte for byte")
        assert "1.0.0-20261129.1" in image.tags and "latest" in image.tags
    assert registry.tag_moves == moves  # not one tag moved, not one added
    # The children built FROM the published parent, which their base labels name.
    assert engine.requests["ml"].build_args["BASE_IMAGE"] == f"{REGISTRY}/t/uv@{first.image('uv').digest}"
    assert engine.requests["ml"].labels["org.opencontainers.image.base.name"] == f"{REGISTRY}/t/uv:1.0.0-20261129.1"


def test_with_a_key_each_platform_gets_an_sbom_attested_on_its_own_manifest(family):
    from fakes import CosignRunner

    from baseimages.trust.sbom import SBOM_TYPE

    runner = CosignRunner()
    registry = MemoryRegistry()
    report, _ = _signed_run(family, runner, registry=registry)
    uv = report.image("uv")
    assert SBOM_TYPE in uv.attestations
    platforms = registry.platform_digests[uv.digest]
    sboms = [(argv[-1], predicate) for argv, _, predicate in runner.calls if SBOM_TYPE in argv]
    for platform, digest in platforms.items():
        subject = f"{REGISTRY}/t/uv@{digest}"
        predicate = next(p for s, p in sboms if s == subject)
        assert platform in predicate["components"][0]["purl"]


def test_a_build_whose_session_buildkit_lost_runs_again_and_the_image_promotes(family):
    engine = FakeEngine(lose_session={"ml"})
    registry = MemoryRegistry(retry=RetryPolicy(attempts=3, max_seconds=5, initial_wait=0.01, max_wait=0.01))
    report, events, _, _ = _run(family, engine=engine, registry=registry)
    assert _status(report)["ml"] is ImageStatus.PROMOTED
    assert sum(build.startswith("ml") for build in engine.builds) == 3  # one build per platform, the lost one again
    assert any("DeadlineExceeded" in e.detail and "retrying" in e.detail for e in events if e.image == "ml")


def test_a_contract_build_that_meets_a_registry_503_runs_again_and_the_image_promotes(family):
    engine = FakeEngine(flaky_contract={"uv"})
    registry = MemoryRegistry(retry=RetryPolicy(attempts=3, max_seconds=5, initial_wait=0.01, max_wait=0.01))
    report, events, _, _ = _run(family, engine=engine, registry=registry)
    assert _status(report)["uv"] is ImageStatus.PROMOTED
    assert engine.log.count("contract uv done") == 2
    assert any("503" in e.detail and "retrying" in e.detail for e in events if e.image == "uv")


def test_unchanged_images_ready_for_a_permit_they_never_ask_for_do_not_stall_the_one_that_builds(family):
    registry = MemoryRegistry()
    _run(family, registry=registry)  # everything published
    dockerfile = family.images_dir / "ml" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN echo changed\n")  # ml changes; the others do not
    report, _, engine, _ = _run(family, registry=registry, jobs=1)
    assert _status(report) == {
        "uv": ImageStatus.UNCHANGED,
        "ml": ImageStatus.PROMOTED,
        "security": ImageStatus.UNCHANGED,
        "solo": ImageStatus.UNCHANGED,
    }
