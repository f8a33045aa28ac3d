"""A real-shaped run report for the tests of the reports people read: a Factory run of a small family
(uv FROM python:3.11-slim with a contract; ml and security FROM uv) with the fake engine and the
in-memory registry, whose builds and runs take a little time, whose sizes grow from one build to the
next, and where a test can make one platform's smoke test of one image fail."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from fakes import FakeEngine, MemoryRegistry, digest_of

from baseimages.config import Settings
from baseimages.engine import RunRequest, RunResult
from baseimages.factory import Factory
from baseimages.plan import make_plan
from baseimages.reference import Reference
from baseimages.registry import ImageIndex, PlatformManifest
from baseimages.report import RunReport

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"
FAILING_OUTPUT = "ImportError: libgomp.so.1: cannot open shared object file"


@dataclass
class TimedEngine(FakeEngine):
    """FakeEngine whose runs take RUN_SECONDS, and whose runs of an image whose reference holds a key of
    FAIL_ON fail on that platform, with FAILING_OUTPUT on stderr."""

    run_seconds: float = 0.0
    fail_on: dict[str, str] = field(default_factory=dict)  # part of an image reference -> platform

    def run(self, request: RunRequest) -> RunResult:
        time.sleep(self.run_seconds)
        for part, platform in self.fail_on.items():
            if part in request.image and request.platform == platform:
                return RunResult(1, "", FAILING_OUTPUT)
        return super().run(request)


@dataclass
class GrowingRegistry(MemoryRegistry):
    """MemoryRegistry whose indexes get compressed sizes: each upload to a repository 2 MB (amd64) or
    1 MB (arm64) more than the one before, from 50 MB."""

    sizes: dict[str, int] = field(default_factory=dict)  # digest -> the upload's number in its repository
    uploads: dict[str, int] = field(default_factory=dict)

    def upload_archive(self, archive: Any, target: Reference, mount_from: tuple[str, ...] = ()) -> Any:
        result = super().upload_archive(archive, target, mount_from)
        self.uploads[target.repository] = self.uploads.get(target.repository, 0) + 1
        self.sizes[result.digest] = self.uploads[target.repository]
        return result

    def index(self, ref: Reference) -> ImageIndex:
        index = super().index(ref)
        number = self.sizes.get(index.digest, 1)
        manifests = tuple(
            PlatformManifest(
                m.platform,
                m.digest,
                50_000_000 + number * (2_000_000 if m.platform.endswith("amd64") else 1_000_000),
                digest_of("config" + m.platform),
            )
            for m in index.manifests
        )
        return ImageIndex(index.reference, index.digest, manifests)


def write_family(catalog_writer: Any) -> Any:
    contract = catalog_writer.images_dir / "uv" / "contract"
    contract.mkdir(parents=True, exist_ok=True)
    (contract / "Dockerfile").write_text("ARG BASE_IMAGE\nARG RUNTIME_IMAGE\nFROM ${RUNTIME_IMAGE}\n")
    catalog_writer.add("uv", contract={"context": "contract", "commands": [{"command": ["python", "/srv/app.py"]}]})
    catalog_writer.add("ml", parent="uv")
    catalog_writer.add("security", parent="uv")
    return catalog_writer


def run_family(
    catalog_writer: Any,
    engine: FakeEngine | None = None,
    registry: MemoryRegistry | None = None,
    force: bool = False,
    **factory: Any,
) -> RunReport:
    """A push of the family (written by `write_family`) through a Factory with ENGINE and REGISTRY."""
    settings = Settings(root=catalog_writer.root, registry=REGISTRY, namespace="t", jobs=2)
    catalog = catalog_writer.load()
    factory_ = Factory(
        settings,
        catalog,
        engine=engine or TimedEngine(build_seconds=0.05, run_seconds=0.02),
        registry=registry or GrowingRegistry(),
        force=force,
        **factory,
    )
    return factory_.run(make_plan(catalog, settings, now=NOW), push=True)
