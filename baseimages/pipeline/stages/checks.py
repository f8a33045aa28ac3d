"""Smoke-test every platform of a candidate at once (arm64 under QEMU), and hold each platform to its
size budget; the same checks serve `test` on an image that is already in a registry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ...catalog.spec import ImageSpec
from ...checks.smoke import check_names, smoke_request, smoke_result
from ...core.errors import CheckFailed
from ...core.events import Phase
from ...core.reference import parse_reference
from ...core.results import CheckResult, ImageResult, PlatformResult, Status
from ...engine.client import Engine, PullRequest, RunRequest
from ...registry.client import ImageIndex, RegistryClient
from ..actions import Action, ContainerRun, only
from .base import ImageContext, Note, Stage

MB = 1_000_000


class SmokeTest(Stage):
    """Every platform's smoke container at once, held to the size budget once uploaded; beside the next
    stages (the contract), whose checks join the smoke tests' once both ran (`joined`)."""

    key = "smoke"
    phase = Phase.SMOKE_TESTING
    per_platform = True
    beside = True

    def actions(self, ctx: ImageContext) -> list[Action]:
        """One container per platform (the check runner)."""
        assert ctx.built is not None
        spec = ctx.image.spec
        sizes = size_check_names(spec) if ctx.index is not None else []  # held to the budget once uploaded
        return [
            ContainerRun(p, smoke_request(ctx.built.ref, spec.smoke, p), (*check_names(spec.smoke, p), *sizes))
            for p in ctx.image.platforms
        ]

    def run(self, ctx: ImageContext) -> None:
        built = ctx.built
        assert built is not None
        tools = ctx.tools
        tools.check_local(built)
        spec = ctx.image.spec
        ctx.result.platforms = smoke_all(
            tools.engine,
            tools.registry,
            spec,
            built.ref,
            {run.platform: run.request for run in only(self.actions(ctx), ContainerRun)},
            ctx.index,
            ctx.note,
        )
        for platform_result in ctx.result.platforms:
            platform_result.builder = ctx.result.builders.get(platform_result.platform, "")
        if ctx.index is not None:
            parent_index = None
            if ctx.parent is not None and spec.size_budget and spec.size_budget.max_mb_over_parent:
                parent_index = tools.registry.index(parse_reference(ctx.parent.pinned_ref))
            check_sizes(spec, ctx.index, ctx.result, parent_index)
        raise_if_failed(ctx.result)

    def joined(self, ctx: ImageContext) -> None:
        """The smoke tests and the contract beside them both ran: the contract's checks after the smoke tests'
        on each platform, and the image failed when one of them failed."""
        for platform_result in ctx.result.platforms:
            platform_result.checks.extend(ctx.contract_checks.get(platform_result.platform, []))
        raise_if_failed(ctx.result)


def smoke_all(
    engine: Engine,
    registry: RegistryClient,
    spec: ImageSpec,
    ref: str,
    requests: Mapping[str, RunRequest | None],
    index: ImageIndex | None,
    note: Note,
    pull: Callable[[str], None] | None = None,
) -> list[PlatformResult]:
    """Smoke-test REF on every platform of REQUESTS at once: each platform's container run (`smoke_request`'s),
    None where nothing runs in a container. With PULL, each platform is fetched first (runs themselves never
    pull); otherwise REF is in the local image store already. NOTE is told each platform's verdict (the
    caller announced their start)."""

    def one(platform: str) -> PlatformResult:
        if pull is not None:
            pull(platform)
        config = platform_config(engine, registry, index, ref, platform) if spec.smoke.metadata is not None else None
        allowed = spec.skips_allowed.get(platform)
        result = smoke_result(engine, requests[platform], spec.smoke, platform, config, allowed)
        passed = sum(c.status is Status.PASSED for c in result.checks)
        skipped = sum(c.status is Status.SKIPPED for c in result.checks)
        note(f"{result.status.value}: {passed}/{result.executed} passed, {skipped} skipped", platform)
        return result

    with ThreadPoolExecutor(max_workers=max(1, len(requests))) as pool:
        return list(pool.map(one, requests))


def puller(engine: Engine, ref: str, retrying: Callable[[Callable[[], None]], None]) -> Callable[[str], None]:
    """Fetch one platform of REF from its registry, retried while the registry fails transiently."""
    return lambda platform: retrying(lambda: engine.pull(PullRequest(ref, platform)))


def platform_config(
    engine: Engine, registry: RegistryClient, index: ImageIndex | None, local_ref: str, platform: str
) -> dict[str, Any] | None:
    """The image config of PLATFORM: from the registry when pushed, else the local image store's
    (which docker 26 shows for the host platform only: buildx applies the same config to every platform)."""
    if index is None:
        return engine.image_config(local_ref)
    manifest = index.for_platform(platform)
    if manifest is None:
        return None
    blob = registry.blob_json(parse_reference(index.reference), manifest.config_digest)
    config: dict[str, Any] = blob.get("config") or {}
    return config


def check_sizes(spec: ImageSpec, index: ImageIndex, result: ImageResult, parent_index: ImageIndex | None) -> None:
    """Record each platform's compressed size and hold it to the image's budget (and growth over its parent)."""
    budget = spec.size_budget
    for platform_result in result.platforms:
        manifest = index.for_platform(platform_result.platform)
        if manifest is None:
            continue
        platform_result.compressed_bytes = manifest.compressed_size
        if budget is None:
            continue
        size_mb = manifest.compressed_size / MB
        if budget.max_mb is not None:
            status = Status.PASSED if size_mb <= budget.max_mb else Status.FAILED
            platform_result.checks.append(CheckResult(_budget(budget.max_mb), "size", status, f"{size_mb:.1f} MB"))
        parent_manifest = parent_index.for_platform(platform_result.platform) if parent_index else None
        if budget.max_mb_over_parent is not None and parent_manifest is not None:
            platform_result.parent_compressed_bytes = parent_manifest.compressed_size
            over = (manifest.compressed_size - parent_manifest.compressed_size) / MB
            status = Status.PASSED if over <= budget.max_mb_over_parent else Status.FAILED
            name = _growth(budget.max_mb_over_parent)
            platform_result.checks.append(CheckResult(name, "size", status, f"{over:+.1f} MB over the parent"))


def size_check_names(spec: ImageSpec) -> list[str]:
    """The size checks of SPEC's budget on each platform (of a candidate in the registry)."""
    budget = spec.size_budget
    if budget is None:
        return []
    names = [] if budget.max_mb is None else [_budget(budget.max_mb)]
    return names + ([] if budget.max_mb_over_parent is None else [_growth(budget.max_mb_over_parent)])


def _budget(max_mb: float) -> str:
    return f"compressed size <= {max_mb:g} MB"


def _growth(max_mb: float) -> str:
    return f"compressed size <= parent + {max_mb:g} MB"


def raise_if_failed(result: ImageResult) -> None:
    if not result.smoke_passed:
        raise CheckFailed(check_failure(result))


def check_failure(result: ImageResult) -> str:
    """One line naming the failed checks (the first five) of RESULT."""
    failed = [f"{p.platform}: {p.problem}" for p in result.platforms if p.executed == 0] + [
        f"{p.platform}: {c.name} ({c.detail})" for p in result.platforms for c in p.checks if c.status is Status.FAILED
    ]
    return "smoke tests failed: " + "; ".join(failed[:5]) + (f" (+{len(failed) - 5} more)" if len(failed) > 5 else "")
