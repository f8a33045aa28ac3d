"""A real-shaped run report for the tests of the reports people read: a Factory run of a small family
(uv FROM python:3.11-slim with a contract; ml and security FROM uv) with the fake engine and the
in-memory registry, whose builds and runs take a little time, whose sizes grow from one build to the
next, and where a test can make one platform's smoke test of one image fail."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from fake_runner import answer, decode_args, is_runner
from fakes import FakeEngine, MemoryRegistry

from baseimages.catalog.plan import make_plan
from baseimages.core.errors import BuildError
from baseimages.core.reference import Reference
from baseimages.core.results import RunReport
from baseimages.engine.build_logs import error_excerpt
from baseimages.engine.client import BuildRequest, RunRequest, RunResult
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.registry.client import ImageIndex, PlatformManifest
from baseimages.settings.config import Settings

REGISTRY = "registry.test:5000"
FAILING_OUTPUT = "ImportError: libgomp.so.1: cannot open shared object file"
NOISE_LINES = 150  # of the other platform's step, between the failing step's lines


def buildx_log(failing: bool) -> list[str]:
    """A buildx plain-progress log of a two-platform build: step #5 (amd64) and #6 (arm64) interleaved,
    with a long stream of #6 downloads; when FAILING, #5 fails and buildx prints its error block."""
    lines = [
        '#0 building with "default" instance using docker driver',
        "#1 [internal] load build definition from Dockerfile",
        "#1 DONE 0.0s",
        "#5 [linux/amd64 2/3] RUN pip install torch==9.9.9",
        "#6 [linux/arm64 2/3] RUN pip install torch==9.9.9",
        "#5 0.512 Looking in indexes: https://pypi.org/simple",
    ]
    lines += [f"#6 {1 + i / 100:.3f} Downloading part {i} of a wheel" for i in range(NOISE_LINES)]
    if not failing:
        return [*lines, "#5 DONE 3.1s", "#6 DONE 9.0s", "#9 exporting to image", "#9 DONE 1.0s"]
    return lines + [
        "#5 3.401 ERROR: Could not find a version that satisfies the requirement torch==9.9.9",
        "#5 3.402 ERROR: No matching distribution found for torch==9.9.9",
        '#5 ERROR: process "/bin/sh -c pip install torch==9.9.9" did not complete successfully: exit code: 1',
        "#6 CANCELED",
        "------",
        " > [linux/amd64 2/3] RUN pip install torch==9.9.9:",
        "3.402 ERROR: No matching distribution found for torch==9.9.9",
        "------",
        "Dockerfile:4",
        "--------------------",
        "   4 | >>> RUN pip install torch==9.9.9",
        "--------------------",
        'ERROR: failed to solve: process "/bin/sh -c pip install torch==9.9.9" did not complete successfully: '
        "exit code: 1",
    ]


@dataclass
class TimedEngine(FakeEngine):
    """FakeEngine whose checks take RUN_SECONDS each, and whose runs of an image whose reference holds a key of
    FAIL_ON fail on that platform, with FAILING_OUTPUT on stderr."""

    run_seconds: float = 0.0
    fail_on: dict[str, str] = field(default_factory=dict)  # part of an image reference -> platform

    def check(self, platforms: Any = ()) -> None:
        return None

    def build(self, request: BuildRequest, image: str, on_line: Any = None) -> str:
        """Streams `buildx_log` to ON_LINE; a build of FAIL_BUILD fails the way the real engine does,
        with the excerpt of that log."""
        failing = image.split(" ")[0] in self.fail_build
        lines = buildx_log(failing)
        for line in lines:
            if on_line is not None:
                on_line(line)
        if failing:
            time.sleep(self.build_seconds)
            raise BuildError(image, f"docker buildx build failed (exit 1): {lines[-1]}", log=error_excerpt(lines))
        return super().build(request, image, on_line)

    def build_files(self, request: BuildRequest, image: str, on_line: Any = None) -> None:
        time.sleep(self.run_seconds)  # its checks run inside the build
        super().build_files(request, image, on_line)

    def run(self, request: RunRequest) -> RunResult:
        checks = len(decode_args(request.command[4:])[2]) if is_runner(request.command) else 1
        time.sleep(self.run_seconds * max(1, checks))  # each check takes RUN_SECONDS
        for part, platform in self.fail_on.items():
            if part in request.image and request.platform == platform:
                return answer(request.command, lambda _: RunResult(1, "", FAILING_OUTPUT), self.files)
        return super().run(request)


@dataclass
class GrowingRegistry(MemoryRegistry):
    """MemoryRegistry whose indexes get compressed sizes: each upload to a repository 2 MB (amd64) or
    1 MB (arm64) more than the one before, from 50 MB."""

    sizes: dict[str, int] = field(default_factory=dict)  # digest -> the upload's number in its repository
    uploads: dict[str, int] = field(default_factory=dict)

    def upload_archive(self, archive: Any, target: Reference, mount_from: tuple[str, ...] = (), jobs: int = 1) -> Any:
        result = super().upload_archive(archive, target, mount_from, jobs)
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
                m.config_digest,
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
    jobs: int = 2,
    builders: dict[str, str] | None = None,
    **factory: Any,
) -> RunReport:
    """A push of the family (written by `write_family`) through a Factory with ENGINE and REGISTRY."""
    mapped = {"builders": builders} if builders else {}
    # no cache warm-ups: whether one runs depends on which of a parent's platforms ends first (a race here),
    # and the report's phases are the same in every run of these tests
    settings = Settings(root=catalog_writer.root, registry=REGISTRY, namespace="t", jobs=jobs, warm_up=False, **mapped)
    catalog = catalog_writer.load()
    factory_ = Factory(
        settings,
        catalog,
        engine=engine or TimedEngine(build_seconds=0.05, run_seconds=0.02),
        registry=registry or GrowingRegistry(),
        **factory,
    )
    return factory_.run(make_plan(catalog, settings, now=dt.datetime.now(dt.UTC)), RunOptions(push=True, force=force))


def fake_cli(monkeypatch: Any, catalog_writer: Any, engine: FakeEngine, registry: MemoryRegistry) -> Any:
    """Make `python -m baseimages` (cli.main) of the project at catalog_writer.root run on ENGINE and
    REGISTRY instead of Docker and a real registry; returns the project root."""
    monkeypatch.setattr("baseimages.pipeline.factory.DockerEngine", lambda: engine)
    monkeypatch.setattr("baseimages.pipeline.factory.registry_client", lambda *args, **kwargs: registry)
    root = catalog_writer.root
    (root / "pyproject.toml").write_text(f'[tool.baseimages]\nregistry = "{REGISTRY}"\nnamespace = "t"\n')
    return root
