"""A dry run shows exactly what a run does: a push of a family (uv with a contract, ml FROM uv, signed,
arm64 on another builder) through recording fakes, compared per image with the dry run of the same plan
against the same (empty) registry: the same engine commands, cosign calls and registry writes, in the
same order, digests normalised (`sha256:...` and placeholders both `<digest>`), the run's folder `<tmp>`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import itertools
import re
import shlex
import tempfile
from dataclasses import dataclass, field
from typing import Any

import pytest
from fakes import CosignRunner, FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.core.reference import Reference
from baseimages.core.results import ImageStatus
from baseimages.pipeline.actions import (
    Action,
    CacheWarm,
    ContainerRun,
    ContractBuild,
    CosignAttest,
    CosignSign,
    GenerateSbom,
    LoadArchive,
    MergePlatforms,
    MoveTags,
    Notice,
    PlatformBuild,
    Read,
    UploadArchive,
)
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.pipeline.stages import ContractTest, ImageContext, default_stages
from baseimages.settings.config import Settings
from baseimages.trust.signing import Cosign

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}|<(?:digest|fingerprint) of [^<>]*>")
WORKDIR = re.compile(re.escape(tempfile.gettempdir()) + r"/baseimages-run-[^/\s,']+")


def _image_of(reference: str) -> str:
    """The catalog name in a reference (REGISTRY/t/uv:candidate-1.0.0, .../t/uv@sha256:...)."""
    return reference.split("@")[0].rsplit("/", 1)[-1].split(":")[0]


@dataclass
class Recorder:
    """What the fakes were asked to do that changes anything, per image, in order."""

    effects: dict[str, list[str]] = field(default_factory=dict)
    # a child's cache warm-ups: builds that export nothing, run or not depending on which of the parent's
    # platforms ends first; compared apart (each one the run made is one its dry run shows)
    warmups: dict[str, list[str]] = field(default_factory=dict)

    def add(self, image: str, effect: str) -> None:
        self.effects.setdefault(image, []).append(effect)


@dataclass
class RecordingEngine(FakeEngine):
    recorder: Recorder = field(default_factory=Recorder)

    def build(self, request: Any, image: str, on_line: Any = None) -> str:
        self.recorder.add(image.split(" ")[0], shlex.join(request.argv()))
        return super().build(request, image, on_line)

    def build_files(self, request: Any, image: str, on_line: Any = None) -> None:
        if request.output.get("type") == "cacheonly":
            self.recorder.warmups.setdefault(image.split(" ")[0], []).append(shlex.join(request.argv()))
        else:
            self.recorder.add(image.split(" ")[0], shlex.join(request.argv()))
        super().build_files(request, image, on_line)

    def run(self, request: Any) -> Any:
        self.recorder.add(_image_of(request.image), shlex.join(request.argv()))
        return super().run(request)

    def load(self, archive: Any) -> None:
        self.recorder.add(
            archive.name.split(".")[0], shlex.join(["docker", "image", "load", "--quiet", "--input", str(archive)])
        )
        super().load(archive)

    def export_rootfs(self, image: str, platform: str, dest: Any) -> None:
        self.recorder.add(_image_of(image), f"export {image} {platform} into {dest}")
        super().export_rootfs(image, platform, dest)


@dataclass
class RecordingRegistry(MemoryRegistry):
    recorder: Recorder = field(default_factory=Recorder)

    def upload_archive(self, archive: Any, target: Reference, mount_from: tuple[str, ...] = (), jobs: int = 1) -> Any:
        self.recorder.add(_image_of(str(target)), f"upload {archive} to {target} mounting {mount_from}, {jobs} at once")
        return super().upload_archive(archive, target, mount_from, jobs)

    def copy_tags(self, source: Reference, tags: list[str]) -> None:
        self.recorder.add(_image_of(str(source)), f"tag {source} as {', '.join(tags)}")
        super().copy_tags(source, tags)


@dataclass
class RecordingCosign(CosignRunner):
    recorder: Recorder = field(default_factory=Recorder)

    def __call__(self, argv: Any, env: Any) -> Any:
        self.recorder.add(_image_of(argv[-1]), shlex.join(argv))
        return super().__call__(argv, env)


def _effects(action: Action) -> list[str]:
    """What ACTION asks of the engine, cosign or the registry, as the recording fakes write it down."""
    if isinstance(action, PlatformBuild | ContractBuild | LoadArchive | CosignSign | CosignAttest):
        return [line for line in action.commands() if not line.startswith("#")]
    if isinstance(action, ContainerRun):
        return [line.split("  # ")[0] for line in action.commands()]  # the create, then its steps as a comment
    if isinstance(action, GenerateSbom):
        return [f"export {action.image} {action.platform} into {action.rootfs}"]
    if isinstance(action, UploadArchive):
        return [f"upload {action.archive} to {action.target} mounting {action.mount_from}, {action.jobs} at once"]
    if isinstance(action, MoveTags):
        return [f"tag {action.repository}@{action.digest} as {', '.join(action.tags)}"]
    known = MergePlatforms | Read | Notice | CacheWarm
    assert isinstance(action, known), f"an action this test does not know: {action}"
    return []  # local files, registry reads, notes, warm-ups (compared apart): nothing the fakes see


def _canonical(effects: list[str]) -> list[str]:
    """EFFECTS normalised: digests, the run's folder; the effects of one step that run at once, in any
    order, sorted among themselves: the platforms of a build; the checks (each platform's smoke container,
    the contract's marker reads and its service build, beside them)."""

    def normal(effect: str) -> str:  # a command line compared word by word (a placeholder is quoted, a path not)
        if not effect.startswith(("docker ", "cosign ")):
            return DIGEST.sub("<digest>", WORKDIR.sub("<tmp>", effect))
        return shlex.join(DIGEST.sub("<digest>", WORKDIR.sub("<tmp>", word)) for word in shlex.split(effect))

    def step(effect: str) -> str:  # effects of one step that run in parallel, per platform
        if effect.startswith("docker create") or "type=local," in effect:
            return "checks"
        return "build" if "type=oci," in effect else effect

    normalised = [normal(effect) for effect in effects]
    return [effect for _, group in itertools.groupby(normalised, step) for effect in sorted(group)]


@pytest.fixture(autouse=True)
def fake_cdxgen(monkeypatch):
    import baseimages.pipeline.stages.sbom as sbom_stage

    def generate(rootfs, output, image, platform):
        return {
            "bomFormat": "CycloneDX",
            "components": [{"name": "libc6", "purl": f"pkg:deb/debian/libc6@2.36?{platform}"}],
        }

    monkeypatch.setattr(sbom_stage, "generate_sbom", generate)


@pytest.fixture
def family(catalog_writer):
    """uv FROM python:3.11-slim with a contract, ml FROM uv."""
    contract = catalog_writer.images_dir / "uv" / "contract"
    contract.mkdir(parents=True)
    (contract / "Dockerfile").write_text("ARG BASE_IMAGE\nARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n")
    catalog_writer.add("uv", contract={"context": "contract", "commands": [{"command": ["python", "/srv/app.py"]}]})
    catalog_writer.add(
        "ml", parent="uv", smoke={"commands": [{"command": ["python", "--version"]}, {"command": ["pip", "--version"]}]}
    )
    return catalog_writer


def _compare(family: Any, stages: list[Any] | None = None) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(what a push did, what its dry run shows), per image, canonical."""
    import baseimages.pipeline.permits as permits

    permits.WARM_GRACE, grace = 0.05, permits.WARM_GRACE  # ml's warm-up starts before uv's arm64 ends
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t", builders={"linux/arm64": "node2"})
    catalog = family.load()
    plan = make_plan(catalog, settings, now=NOW)
    recorder = Recorder()
    engine, registry, cosign = (
        RecordingEngine(recorder=recorder, platform_seconds={"linux/arm64": 0.3}),  # uv's amd64 ends first
        RecordingRegistry(recorder=recorder),
        RecordingCosign(recorder=recorder),
    )
    signer = Cosign(family.root / "cosign.key", "pw", cosign)
    factory = Factory(settings, catalog, engine=engine, registry=registry, signer=signer, stages=stages)

    dry = factory.dry_run(plan, RunOptions(push=True))
    assert recorder.effects == {} and cosign.calls == []  # a dry run changes nothing
    try:
        report = factory.run(plan, RunOptions(push=True))
    finally:
        permits.WARM_GRACE = grace
    assert report.exit_code == 0, [image.error for image in report.images]
    assert {image.status for image in report.images} == {ImageStatus.PROMOTED}

    did = {name: _canonical(effects) for name, effects in recorder.effects.items()}
    shown = {item.name: _canonical([e for a in item.actions for e in _effects(a)]) for item in dry.images}
    for name, warmups in recorder.warmups.items():  # each warm-up the run made is one its dry run shows
        warms = [line for a in dry.image(name).actions if isinstance(a, CacheWarm) for line in a.commands()]
        assert set(_canonical(warmups)) <= set(_canonical(warms)), _diff(_canonical(warms), _canonical(warmups))
    assert recorder.warmups == {"ml": recorder.warmups.get("ml", [])} and len(recorder.warmups["ml"]) == 1
    return did, shown


def test_a_dry_run_lists_exactly_the_commands_and_registry_writes_of_the_run_in_order(family):
    did, shown = _compare(family)
    assert set(did) == {"uv", "ml"}
    for name in did:
        assert shown[name] == did[name], _diff(shown[name], did[name])
    # What it compared: builds per platform (arm64 on node2), the load, the upload, the smoke containers,
    # uv's contract FROM the uploaded candidate by digest, signing and attestations, then the tag moves.
    uv = shown["uv"]
    assert sum("--builder node2" in e for e in uv) == 1
    [contract] = [e for e in uv if "type=local" in e]
    assert f"BASE_IMAGE={REGISTRY}/t/uv:candidate-1.0.0@<digest>" in contract
    assert uv[-1] == f"tag {REGISTRY}/t/uv@<digest> as 1.0.0-20261129.1, 1.0.0, 1.0, 1, 2026.11, latest"
    kinds = [e.split(" ")[0] for e in uv]
    assert kinds.index("upload") < kinds.index("cosign") < kinds.index("tag")


def _diff(shown: list[str], did: list[str]) -> str:
    return "\n".join(difflib.unified_diff(shown, did, "dry run", "run", lineterm=""))


class ShowsTheLocalCandidate(ContractTest):
    """The drift this test exists for: the contract a dry run shows builds FROM the local candidate by tag,
    while the run builds FROM the uploaded candidate by digest."""

    def actions(self, ctx: ImageContext) -> list[Action]:
        if ctx.tools.planning and ctx.built is not None:
            shown = dataclasses.replace(ctx, built=dataclasses.replace(ctx.built, uploaded=False))
            return super().actions(shown)
        return super().actions(ctx)


def test_the_comparison_fails_when_a_run_does_what_its_dry_run_does_not_show(family):
    stages = [ShowsTheLocalCandidate() if isinstance(s, ContractTest) else s for s in default_stages()]
    did, shown = _compare(family, stages)
    assert shown["ml"] == did["ml"]
    assert shown["uv"] != did["uv"]
    [difference] = [e for e in shown["uv"] if e not in did["uv"]]
    assert f"BASE_IMAGE={REGISTRY}/t/uv:candidate-1.0.0 " in difference
