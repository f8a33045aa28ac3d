"""The factory: build a planned family wave by wave, smoke-test every platform, push and promote.

Push flow per image (the Docker docs' push-by-digest recipe, made safe):
  1. build all platforms in one buildx build into the local image store under the candidate tag
     (`candidate-X.Y.Z`), keeping the index digest;
  2. upload it to the registry's candidate tag from `docker image save`, every registry request
     retried on its own, and check the registry holds that digest with every planned platform;
  3. run the smoke tests and the contract on every platform against that digest (arm64 under QEMU);
  4. only when every check passed, point all tags at the tested digest (one manifest PUT per tag).
A child builds FROM the exact digest its parent got in this run, and starts as soon as the parent
is built (while the parent is tested); it promotes only after its parent did. A failed image leaves
its own and its descendants' tags where they were; independent siblings still promote.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import shlex
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from .catalog import Catalog, ImageSpec, SmokeSpec
from .changes import Action, Current, Decision, RefreshPolicy, decide
from .config import Settings
from .contract import contract_request, run_contract, service_tag
from .engine import BuildRequest, DockerEngine, Engine, LineSink, PullRequest, git_output, interrupt_children
from .errors import BaseImagesError, BuildError, ConfigError, PromotionError, RegistryError, RunCancelled
from .fingerprint import BASE_DIGEST_KEY, CREATED_KEY, FINGERPRINT_KEY, INPUTS_KEY, Inputs, compute_inputs
from .plan import Plan, PlannedImage
from .reference import Reference, parse_reference
from .registry import ImageIndex, RegistryClient
from .report import CheckResult, ImageResult, ImageStatus, PlatformResult, RunReport, Status
from .retry import RetryPolicy, call_with_retries
from .smoke import command_runs, file_probe, run_smoke

MB = 1_000_000
T = TypeVar("T")


class Phase(StrEnum):
    WAITING = "waiting"
    RESOLVING = "resolving base"
    BUILDING = "building"
    PUSHING = "pushing"
    SMOKE_TESTING = "smoke testing"
    CONTRACT_TESTING = "contract testing"
    PROMOTING = "promoting"
    RETRYING = "retrying"
    PROMOTED = "promoted"
    UNCHANGED = "unchanged"
    TESTED = "tested"
    FAILED = "failed"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Event:
    image: str
    phase: Phase
    elapsed: float  # seconds since the run started
    platform: str | None = None
    detail: str = ""


EventSink = Callable[[Event], None]


@dataclass(frozen=True)
class Pinned:
    """An image as the next build uses it: REF (what BASE_IMAGE is set to) and the DIGEST it must be.

    A parent built in this run is used from the local image store by its candidate tag (BuildKit's
    docker driver resolves a local image by tag only; by digest it would ask the registry), checked
    against its digest right before use. Others are pinned by digest in their registry.
    """

    ref: str
    digest: str
    local: bool

    @property
    def pinned_ref(self) -> str:
        return f"{self.ref.split('@')[0]}@{self.digest}"

    @property
    def from_ref(self) -> str:
        """What a child's BASE_IMAGE is set to."""
        return self.ref if self.local else self.pinned_ref


class _Stage:
    """Where one image is in a run, for its children: `built` once its candidate exists (or it was
    skipped, or it failed before building), `done` once it promoted or failed."""

    def __init__(self) -> None:
        self.built = threading.Event()
        self.done = threading.Event()
        self.pinned: Pinned | None = None  # what children build FROM
        self.ok = False  # promoted (or unchanged, or tested in a build run)

    def release(self) -> None:
        self.built.set()
        self.done.set()


@dataclass(frozen=True)
class DryRun:
    """What a run would do: every command, in order, with placeholders for digests not yet known."""

    plan: Plan
    lines: list[str]


class Factory:
    """Builds, tests, pushes and promotes a planned family. Never prints; reports through callbacks."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        engine: Engine | None = None,
        registry: RegistryClient | None = None,
        on_event: EventSink | None = None,
        on_build_line: Callable[[str, str], None] | None = None,
        force: bool = False,
        refresh: RefreshPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self._engine = engine
        self.registry = registry or RegistryClient(
            ca_bundle=settings.ca_bundle,
            mirrors=settings.base_mirrors,
            retry=RetryPolicy(attempts=settings.retry_attempts, max_seconds=settings.retry_max_seconds),
        )
        if settings.credentials is not None:
            self.registry.credentials[settings.registry] = settings.credentials
        self._cancel = threading.Event()
        if self.registry.on_retry is None:
            self.registry.on_retry = lambda reason: self._emit("registry", Phase.RETRYING, detail=reason)
        self._on_event = on_event
        self._on_build_line = on_build_line
        self.force = force
        self.refresh = refresh or RefreshPolicy(force=force)
        self._resolved: dict[str, str] = {}
        self._platforms: set[str] = set()  # what the engine must be able to build and run
        self._started = time.monotonic()
        self._lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The Docker engine, created (and checked for every platform of the catalog) on first use only:
        a run where every image is unchanged never starts a Docker process."""
        if self._engine is None:
            engine = DockerEngine()
            engine.check(sorted(self._platforms))
            if self.settings.credentials is not None:  # so that BuildKit and pulls can read the registry too
                engine.login(self.settings.registry, self.settings.credentials)
            self._engine = engine
        return self._engine

    # ------------------------------------------------------------------ public API

    def run(self, plan: Plan, push: bool) -> RunReport:
        """Build every planned image wave by wave; with PUSH, push and promote each image that passed."""
        self._started = time.monotonic()
        report = RunReport(
            command="push" if push else "build", registry=self.settings.registry, started=dt.datetime.now(dt.UTC)
        )
        self._platforms = {p for image in plan.images for p in image.platforms}
        results = {p.name: ImageResult(p.name, p.repository, version=p.spec.version) for p in plan.images}
        report.images = [results[p.name] for p in plan.images]
        try:
            decisions = self.decide(plan) if push else {}
        except RegistryError as exc:  # registry unreachable or refusing: nothing was built, nothing moved
            for result in report.images:
                result.status, result.error, result.exit_code = ImageStatus.FAILED, str(exc), exc.exit_code
                self._emit(result.name, Phase.FAILED, detail=str(exc))
            report.finished = dt.datetime.now(dt.UTC)
            return report
        for image in plan.images:
            decision = decisions.get(image.name)
            if decision is not None:
                results[image.name].reasons = list(decision.reasons)
                results[image.name].fingerprint = decision.inputs.fingerprint
            detail = f"wave {image.wave + 1}" + (
                f": {decision.action.value}, {'; '.join(decision.reasons)}" if decision else ""
            )
            self._emit(image.name, Phase.WAITING, detail=detail)
        stages = {image.name: _Stage() for image in plan.images}
        permits = threading.BoundedSemaphore(self.settings.jobs)
        pool = ThreadPoolExecutor(max_workers=max(1, len(plan.images)))
        futures = [
            pool.submit(self._pipeline, image, results[image.name], stages, permits, decisions, push, plan)
            for image in plan.images
        ]
        try:
            for future in futures:
                future.result()
        except KeyboardInterrupt:
            # Ctrl-C: no phase starts any more (no tag moves), the docker children stop, then we leave.
            self._cancel.set()
            for stage in stages.values():
                stage.release()
            interrupt_children()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        report.finished = dt.datetime.now(dt.UTC)
        return report

    def decide(self, plan: Plan) -> dict[str, Decision]:
        """Per image: build or skip, and why (one registry request per image, one per external base)."""
        now = dt.datetime.now(dt.UTC)
        decisions: dict[str, Decision] = {}
        for image in plan.images:
            spec = image.spec
            parent_rebuilt = False
            if spec.parent_is_external:
                parent_digest = self._resolve_digest(spec.parent)
            else:
                parent_decision = decisions.get(spec.parent)
                parent_rebuilt = parent_decision is None or parent_decision.action is Action.BUILD
                parent_digest = (parent_decision.current_digest if parent_decision else None) or ""
            inputs = compute_inputs(spec, image.platforms, spec.build_args, parent_digest)
            summary = self.registry.summary(parse_reference(f"{image.repository}:{spec.version}"))
            current = Current(*summary) if summary else None
            decisions[image.name] = decide(
                inputs, current, spec.version, spec.parent, spec.parent_is_external, parent_rebuilt, self.refresh, now
            )
        return decisions

    def dry_run(self, plan: Plan, push: bool) -> DryRun:
        """What a run would execute, in order, without running anything: the exact docker and buildx
        command lines, and `#` lines for the registry API requests baseimages makes itself."""
        lines: list[str] = []
        pinned: dict[str, Pinned] = {}
        for image in plan.images:
            spec = image.spec
            if spec.parent_is_external:
                parent = Pinned(spec.parent, f"<digest of {spec.parent}>", local=False)
            else:
                parent = pinned[spec.parent]
            request = self._build_request(image, parent, plan, push, metadata_file=Path("<metadata.json>"))
            lines.append(shlex.join(request.argv()))
            built = Pinned(f"{image.repository}:{image.tags.candidate}", f"<digest of {image.name}>", local=True)
            pinned[image.name] = built
            if push:
                archive = f"<tmp>/{image.name}.tar"
                lines.append(shlex.join(["docker", "image", "save", "--output", archive, built.ref]))
                lines.append(f"# upload {archive} to {built.ref} (registry API: blobs, manifests, index)")
            for platform in image.platforms:
                probe = file_probe(built.ref, spec.smoke, platform)
                runs = ([probe] if probe else []) + command_runs(built.ref, spec.smoke, platform)
                lines.extend(run.describe() for run in runs)
            contract = spec.contract
            if contract is not None:
                runtime = f"{contract.runtime}@<digest of {contract.runtime}>"
                service = contract_request(
                    image.name,
                    contract,
                    built.ref,
                    runtime,
                    image.platforms,
                    self.settings.build_secrets(),
                    self.settings.build_contexts(),
                )
                lines.append(shlex.join(service.argv()))
                checks = SmokeSpec(commands=contract.commands)
                for platform in image.platforms:
                    lines.extend(run.describe() for run in command_runs(service_tag(image.name), checks, platform))
            if push:
                lines.append(
                    f"# tag {image.repository}@{built.digest} as {', '.join(image.tags.all)} "
                    "(registry API: one manifest PUT per tag)"
                )
        return DryRun(plan=plan, lines=lines)

    def test(self, reference: str, spec: ImageSpec, platforms: Sequence[str] = ()) -> ImageResult:
        """Smoke-test an existing image in a registry on every platform of its index (or PLATFORMS)."""
        self._started = time.monotonic()
        try:
            ref = parse_reference(reference)
        except ValueError:
            raise ConfigError(
                "REF", reference, "is not an image reference, e.g. localhost:5000/baseimages/x:1.0.0"
            ) from None
        index = self.registry.index(ref)
        chosen = [p for p in index.platforms if not platforms or p in platforms]
        missing = [p for p in platforms if p not in index.platforms]
        if missing:
            raise ConfigError("--platform", ",".join(missing), f"{reference} has only {', '.join(index.platforms)}")
        self._platforms = set(chosen)
        result = ImageResult(spec.name, ref.repository, version=spec.version, digest=index.digest)
        pinned = str(Reference(ref.domain, ref.path, None, index.digest))
        result.platforms = self._smoke_all(spec, pinned, chosen, index, pull=True)
        self._check_sizes(spec, index, result, parent_index=None)
        result.status = ImageStatus.TESTED if result.smoke_passed else ImageStatus.FAILED
        if not result.smoke_passed:
            result.error = _smoke_failure(result)
        self._emit(spec.name, Phase.TESTED if result.smoke_passed else Phase.FAILED, detail=result.error or "")
        return result

    # ------------------------------------------------------------------ one image

    def _pipeline(
        self,
        image: PlannedImage,
        result: ImageResult,
        stages: dict[str, _Stage],
        permits: threading.BoundedSemaphore,
        decisions: dict[str, Decision],
        push: bool,
        plan: Plan,
    ) -> None:
        """One image, from waiting for its parent to promotion.

        A child starts building as soon as its parent is built (FROM the parent's candidate, pinned
        by digest), so that it builds while the parent is tested; it is promoted only after the
        parent was. At most `jobs` images build and test at once.
        """
        stage = stages[image.name]
        spec = image.spec
        parent_stage = None if spec.parent_is_external else stages[spec.parent]
        try:
            if parent_stage is not None:
                parent_stage.built.wait()
                if parent_stage.pinned is None:
                    self._block(image, result, f"not built: parent {spec.parent} failed")
                    return
            decision = decisions.get(image.name)
            if decision is not None and decision.action is Action.SKIP and decision.current_digest:
                result.status = ImageStatus.UNCHANGED
                result.digest = decision.current_digest
                stage.pinned = Pinned(f"{image.repository}@{result.digest}", result.digest, local=False)
                stage.ok = True
                self._emit(image.name, Phase.UNCHANGED, detail=f"{image.repository}:{spec.version}")
                return
            parent = parent_stage.pinned if parent_stage is not None else None
            with permits:
                self._check_cancel(image.name)
                built = self._build_and_test(image, result, parent, stage, push, plan)
            if built is None:
                return
            if parent_stage is not None:
                parent_stage.done.wait()
                if not parent_stage.ok:
                    self._block(image, result, f"built and tested, not promoted: parent {spec.parent} failed")
                    return
            if not push:
                result.status = ImageStatus.TESTED
                self._emit(image.name, Phase.TESTED, detail=f"{built.ref} ({built.digest})")
                stage.ok = True
                return
            self._check_cancel(image.name)
            with self._timed(result, "promote"):
                self._emit(image.name, Phase.PROMOTING, detail=", ".join(image.tags.all))
                self._promote(image, built.digest)
                result.tags = list(image.tags.all)
            result.status = ImageStatus.PROMOTED
            stage.ok = True
            self._emit(
                image.name, Phase.PROMOTED, detail=f"{image.repository}:{image.tags.rolling[0]} -> {built.digest}"
            )
        except BaseImagesError as exc:
            result.status = ImageStatus.FAILED
            result.error = str(exc)
            result.exit_code = exc.exit_code
            result.log = getattr(exc, "log", "") or result.log
            self._emit(image.name, Phase.FAILED, detail=str(exc))
        finally:
            stage.release()

    def _block(self, image: PlannedImage, result: ImageResult, reason: str) -> None:
        result.status = ImageStatus.BLOCKED
        result.error = reason
        self._emit(image.name, Phase.BLOCKED, detail=reason)

    def _build_and_test(
        self, image: PlannedImage, result: ImageResult, parent: Pinned | None, stage: _Stage, push: bool, plan: Plan
    ) -> Pinned | None:
        """Build (then let children start), upload the candidate, smoke-test and contract-test IMAGE.
        Returns the built image when every check passed, None when a check failed."""
        spec = image.spec
        with self._timed(result, "resolve"):
            if parent is None:
                self._emit(image.name, Phase.RESOLVING, detail=spec.parent)
                parent = Pinned(spec.parent, self._resolve_digest(spec.parent), local=False)
            elif parent.local:
                self._check_local(parent)
            result.parent_ref = parent.pinned_ref

        with self._timed(result, "build"):
            self._emit(image.name, Phase.BUILDING, detail=", ".join(image.platforms))
            inputs = compute_inputs(spec, image.platforms, spec.build_args, parent.digest)
            result.fingerprint = inputs.fingerprint
            request = self._build_request(image, parent, plan, push, inputs=inputs)
            digest = self._with_retries(
                image.name, lambda: self.engine.build(request, image.name, on_line=self._line_sink(image.name))
            )
            result.digest = digest
        built = Pinned(f"{image.repository}:{image.tags.candidate}", digest, local=True)
        stage.pinned = built
        stage.built.set()  # children may build FROM it now

        index: ImageIndex | None = None
        if push:
            self._check_cancel(image.name)
            with self._timed(result, "push"):
                index = self._push_candidate(image, built, parent)

        with self._timed(result, "smoke"):
            self._check_local(built)
            result.platforms = self._smoke_all(spec, built.ref, image.platforms, index)
            if index is not None:
                parent_index = None
                if spec.size_budget and spec.size_budget.max_mb_over_parent:
                    parent_index = self.registry.index(parse_reference(parent.pinned_ref))
                self._check_sizes(spec, index, result, parent_index)
        if spec.contract is not None and result.smoke_passed:
            with self._timed(result, "contract"):
                self._contract(image, built, result)
        if not result.smoke_passed:
            result.status = ImageStatus.FAILED
            result.error = _smoke_failure(result)
            result.exit_code = 1
            self._emit(image.name, Phase.FAILED, detail=result.error)
            return None
        return built

    @contextlib.contextmanager
    def _timed(self, result: ImageResult, phase: str) -> Iterator[None]:
        """Record PHASE's wall time and its interval since the run started (the report's timeline)."""
        start = time.monotonic()
        try:
            yield
        finally:
            end = time.monotonic()
            result.seconds[phase] = end - start
            result.timeline[phase] = (round(start - self._started, 3), round(end - self._started, 3))

    def _push_candidate(self, image: PlannedImage, built: Pinned, parent: Pinned) -> ImageIndex:
        """Upload the local build to the candidate tag, every request retried on its own; return the index
        the registry now holds at that digest (checked: same digest, every planned platform)."""
        target = parse_reference(built.ref)
        self._emit(image.name, Phase.PUSHING, detail=str(target))
        mount_from: tuple[str, ...] = ()
        if not image.spec.parent_is_external:
            parent_repo = parse_reference(parent.ref.split("@")[0])
            if parent_repo.domain == target.domain:
                mount_from = (parent_repo.path,)
        with tempfile.TemporaryDirectory(prefix="baseimages-") as tmp:
            archive = Path(tmp) / f"{image.name}.tar"
            self.engine.save(built.ref, archive)
            upload = self.registry.upload_archive(archive, target, mount_from)
        if upload.digest != built.digest:
            raise RegistryError(f"{image.name}: the registry holds {upload.digest}, the build made {built.digest}")
        self._emit(
            image.name,
            Phase.PUSHING,
            detail=f"{upload.blobs_uploaded} blobs uploaded, {upload.blobs_mounted} mounted, "
            f"{upload.blobs_present} already there",
        )
        index = self.registry.index(parse_reference(f"{image.repository}@{built.digest}"))
        missing = [p for p in image.platforms if p not in index.platforms]
        if missing:
            raise RegistryError(f"{image.name}: pushed index {built.digest} lacks {', '.join(missing)}")
        return index

    def _check_cancel(self, name: str) -> None:
        if self._cancel.is_set():
            raise RunCancelled(f"{name}: interrupted; its tags did not move")

    def _check_local(self, image: Pinned) -> None:
        """The local tag a build or test uses must still name the digest this run recorded for it."""
        found = self.engine.local_digest(image.ref)
        if found != image.digest:
            raise BuildError(
                image.ref, f"the local image now names {found or 'nothing'}, not {image.digest} (another run?)"
            )

    def _contract(self, image: PlannedImage, built: Pinned, result: ImageResult) -> None:
        contract = image.spec.contract
        assert contract is not None
        self._emit(image.name, Phase.CONTRACT_TESTING, detail=f"service FROM {image.name}, runtime {contract.runtime}")
        checks = run_contract(
            self.engine,
            image.name,
            contract,
            built.from_ref,
            self.resolve_external(contract.runtime),
            image.platforms,
            secrets=self.settings.build_secrets(),
            build_contexts=self.settings.build_contexts(),
            on_line=self._line_sink(image.name),
        )
        for platform_result in result.platforms:
            platform_result.checks.extend(checks.get(platform_result.platform, []))

    def _line_sink(self, name: str) -> LineSink | None:
        sink = self._on_build_line
        if sink is None:
            return None
        return lambda line: sink(name, line)

    def _build_request(
        self,
        image: PlannedImage,
        parent: Pinned,
        plan: Plan,
        push: bool,
        metadata_file: Path | None = None,
        inputs: Inputs | None = None,
    ) -> BuildRequest:
        spec = image.spec
        labels = {
            "org.opencontainers.image.title": spec.name,
            "org.opencontainers.image.version": spec.version,
            "org.opencontainers.image.created": plan.build_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "org.opencontainers.image.revision": self._revision,
            "org.opencontainers.image.source": self.settings.source or self._source,
            "org.opencontainers.image.base.name": parent.ref.split("@")[0],
            "org.opencontainers.image.base.digest": parent.digest,
        }
        if spec.description:
            labels["org.opencontainers.image.description"] = spec.description
        if inputs is not None:
            labels[FINGERPRINT_KEY] = inputs.fingerprint
        # Into the local image store under the candidate tag, never a promoted one; a push uploads it from there.
        output = {"type": "image", "name": f"{image.repository}:{image.tags.candidate}"}
        if push:
            # On the index, where one registry request reads them back (change detection).
            notes = {
                CREATED_KEY: labels["org.opencontainers.image.created"],
                BASE_DIGEST_KEY: labels["org.opencontainers.image.base.digest"],
            }
            if inputs is not None:
                notes |= {FINGERPRINT_KEY: inputs.fingerprint, INPUTS_KEY: inputs.encoded()}
            output |= {f"annotation-index.{key}": value for key, value in notes.items() if value}
        return BuildRequest(
            context=spec.directory,
            dockerfile=spec.dockerfile,
            platforms=image.platforms,
            build_args={"BASE_IMAGE": parent.from_ref, **spec.build_args},
            build_contexts=self.settings.build_contexts(),
            labels={k: v for k, v in labels.items() if v},
            secrets=self.settings.build_secrets(),
            output=output,
            metadata_file=metadata_file,
        )

    def _smoke_all(
        self, spec: ImageSpec, ref: str, platforms: Sequence[str], index: ImageIndex | None, pull: bool = False
    ) -> list[PlatformResult]:
        """Smoke-test REF on every platform at once. With PULL, each platform is fetched from the registry
        first (runs themselves never pull); otherwise REF is in the local image store already."""

        def one(platform: str) -> PlatformResult:
            self._emit(spec.name, Phase.SMOKE_TESTING, platform=platform)
            if pull:
                self._with_retries(spec.name, lambda: self.engine.pull(PullRequest(ref, platform)))
            config = None
            if spec.smoke.metadata is not None:
                config = self._config(index, ref, platform)
            result = run_smoke(self.engine, ref, spec.smoke, platform, config)
            passed = sum(c.status is Status.PASSED for c in result.checks)
            skipped = sum(c.status is Status.SKIPPED for c in result.checks)
            self._emit(
                spec.name,
                Phase.SMOKE_TESTING,
                platform=platform,
                detail=f"{result.status.value}: {passed}/{len(result.checks)} passed, {skipped} skipped",
            )
            return result

        with ThreadPoolExecutor(max_workers=max(1, len(platforms))) as pool:
            return list(pool.map(one, platforms))

    def _config(self, index: ImageIndex | None, local_ref: str, platform: str) -> dict[str, Any] | None:
        """The image config of PLATFORM: from the registry when pushed, else the local image store's
        (which docker 26 shows for the host platform only: buildx applies the same config to every platform)."""
        if index is None:
            return self.engine.image_config(local_ref)
        ref = parse_reference(index.reference)
        manifest = index.for_platform(platform)
        if manifest is None:
            return None
        blob = self.registry.blob_json(ref, manifest.config_digest)
        config: dict[str, Any] = blob.get("config") or {}
        return config

    def _check_sizes(
        self, spec: ImageSpec, index: ImageIndex, result: ImageResult, parent_index: ImageIndex | None
    ) -> None:
        for platform_result in result.platforms:
            manifest = index.for_platform(platform_result.platform)
            if manifest is None:
                continue
            platform_result.compressed_bytes = manifest.compressed_size
            budget = spec.size_budget
            if budget is None:
                continue
            size_mb = manifest.compressed_size / MB
            if budget.max_mb is not None:
                status = Status.PASSED if size_mb <= budget.max_mb else Status.FAILED
                platform_result.checks.append(
                    CheckResult(f"compressed size <= {budget.max_mb:g} MB", "size", status, f"{size_mb:.1f} MB")
                )
            parent_manifest = parent_index.for_platform(platform_result.platform) if parent_index else None
            if budget.max_mb_over_parent is not None and parent_manifest is not None:
                over = (manifest.compressed_size - parent_manifest.compressed_size) / MB
                status = Status.PASSED if over <= budget.max_mb_over_parent else Status.FAILED
                platform_result.checks.append(
                    CheckResult(
                        f"compressed size <= parent + {budget.max_mb_over_parent:g} MB",
                        "size",
                        status,
                        f"{over:+.1f} MB over the parent",
                    )
                )

    def _promote(self, image: PlannedImage, digest: str) -> None:
        immutable = parse_reference(f"{image.repository}:{image.tags.immutable}")
        existing = self.registry.digest(immutable)
        if existing is not None and existing != digest and not self.force:
            raise PromotionError(
                f"{image.name}: immutable tag {image.tags.immutable} already points at {existing}; "
                "bump the version in image.yaml or pass --force"
            )
        self.registry.copy_tags(parse_reference(f"{image.repository}@{digest}"), list(image.tags.all))

    def _with_retries(self, name: str, func: Callable[[], T]) -> T:
        def on_retry(reason: str) -> None:
            self._emit(name, Phase.RETRYING, detail=reason)

        return call_with_retries(name, func, self.registry.retry, on_retry)

    # ------------------------------------------------------------------ helpers

    def resolve_external(self, parent: str) -> str:
        """PARENT (e.g. python:3.11-slim) pinned to its current digest (through dockerd's mirrors first)."""
        if parse_reference(parent).digest:
            return parent
        return f"{parent}@{self._resolve_digest(parent)}"

    def _resolve_digest(self, parent: str) -> str:
        """The digest PARENT resolves to, asked once per run so that every image of the run agrees."""
        ref = parse_reference(parent)
        if ref.digest:
            return ref.digest
        if parent not in self._resolved:
            digest = self.registry.digest(ref)
            if digest is None:
                raise RegistryError(f"cannot resolve base image {parent}: {ref} not found")
            self._resolved[parent] = digest
        return self._resolved[parent]

    @functools.cached_property
    def _revision(self) -> str:
        return git_output(self.settings.root, "rev-parse", "HEAD")

    @functools.cached_property
    def _source(self) -> str:
        return git_output(self.settings.root, "config", "--get", "remote.origin.url")

    def _emit(self, image: str, phase: Phase, platform: str | None = None, detail: str = "") -> None:
        if self._on_event is not None:
            with self._lock:
                self._on_event(Event(image, phase, time.monotonic() - self._started, platform, detail))


def _smoke_failure(result: ImageResult) -> str:
    failed = [
        f"{p.platform}: {c.name} ({c.detail})" for p in result.platforms for c in p.checks if c.status is Status.FAILED
    ]
    return "smoke tests failed: " + "; ".join(failed[:5]) + (f" (+{len(failed) - 5} more)" if len(failed) > 5 else "")
