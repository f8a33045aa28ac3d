"""doctor's engine checks: buildx and its version, dockerd and its image store, the builders and their
platforms, the BuildKit cache against the free disk. The QEMU handlers are in `doctor_qemu`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..core.errors import EngineError
from ..engine.probe import BuilderInfo
from .model import DoctorContext, Finding, Verdict

MIN_BUILDX = (0, 8)  # named build contexts (--build-context), which every build uses, came with buildx 0.8
CONTAINERD_STORE = "io.containerd.snapshotter.v1"
GB = 10**9
FAIL_FREE = 2 * GB  # below this a cold build of the family runs out of disk
WARN_FREE = 10 * GB
ENGINE_UP = "start dockerd (on a bare Debian machine: `scripts/engine up`), or point DOCKER_HOST at a running engine"
_VERSION = re.compile(r"\bv?(\d+)\.(\d+)(?:\.(\d+))?")


def check_buildx(ctx: DoctorContext) -> Sequence[Finding]:
    try:
        text = ctx.engine.buildx_version()
    except EngineError as exc:
        return [
            Finding(
                "buildx",
                Verdict.FAIL,
                f"buildx is not usable: {exc}",
                fix="install the buildx plugin (Debian: apt-get install docker-buildx; `scripts/engine up` does)",
            )
        ]
    words = text.split()
    match = _VERSION.search(words[1] if len(words) > 1 else text)
    if match is None:
        return [Finding("buildx", Verdict.WARN, f"buildx answers, but its version is unreadable: {text!r}")]
    version = (int(match[1]), int(match[2]))
    shown = match.group(0).lstrip("v")
    if version < MIN_BUILDX:
        need = ".".join(map(str, MIN_BUILDX))
        return [
            Finding(
                "buildx",
                Verdict.FAIL,
                f"buildx {shown} is too old: builds pass named contexts (--build-context), which need {need}",
                fix=f"upgrade the buildx plugin to {need} or later",
            )
        ]
    return [Finding("buildx", Verdict.OK, f"buildx {shown}")]


def check_engine(ctx: DoctorContext) -> Sequence[Finding]:
    """dockerd answers; its image store is containerd's (multi-platform images in the local store)."""
    try:
        facts = ctx.engine.facts()
    except EngineError as exc:
        ctx.engine_error = str(exc)
        return [
            Finding(
                "engine",
                Verdict.FAIL,
                f"dockerd does not answer at {ctx.engine.host}: {exc}",
                fix=ENGINE_UP,
                details=("not checked without it: the image store, the builders, the build cache",),
            )
        ]
    ctx.facts = facts
    found = [Finding("engine", Verdict.OK, f"dockerd {facts.server_version} at {ctx.engine.host}")]
    if facts.driver_type == CONTAINERD_STORE:
        found.append(Finding("image store", Verdict.OK, f"the containerd image store ({facts.driver_type})"))
    else:
        found.append(
            Finding(
                "image store",
                Verdict.FAIL,
                f"dockerd stores images with {facts.storage_driver or 'an unknown driver'}, not the containerd image "
                "store: a multi-platform image cannot be kept in the local store, so builds cannot be tested "
                "before they are pushed",
                fix='add "features": {"containerd-snapshotter": true} to /etc/docker/daemon.json and restart dockerd '
                "(Docker Desktop: Settings, General, use containerd for pulling and storing images)",
            )
        )
    return found


def check_builders(ctx: DoctorContext) -> Sequence[Finding]:
    """The builder `docker buildx build` uses can build every platform the selected images need."""
    if ctx.facts is None:
        return []
    builders = ctx.engine.builders()
    current = next((b for b in builders if b.current), None)
    others = tuple(f"other builder: {_describe(b)}" for b in builders if b is not current)
    if current is None:
        return [
            Finding(
                "builder",
                Verdict.FAIL,
                "buildx names no current builder",
                fix="docker buildx use default",
                details=others,
            )
        ]
    running = [n for n in current.nodes if n.status == "running"]
    if not running:
        states = ", ".join(sorted({n.status for n in current.nodes})) or "no node"
        verdict = Verdict.WARN if any(n.status == "inactive" for n in current.nodes) else Verdict.FAIL
        return [
            Finding(
                "builder",
                verdict,
                f"{current.name} ({current.driver} driver) is {states}: its platforms are unknown until it runs",
                fix=f"docker buildx inspect --bootstrap {current.name}",
                subject=current.name,
                details=others,
            )
        ]
    have = {_short(p) for p in current.platforms}
    missing = [p for p in ctx.platforms if _short(p) not in have]
    summary = f"{_describe(current)}; the images need {', '.join(ctx.platforms)}"
    if missing:
        restart = "restart dockerd" if current.driver == "docker" else f"docker buildx stop {current.name}"
        return [
            Finding(
                "builder",
                Verdict.FAIL,
                f"{current.name} cannot build {', '.join(missing)}: {summary}",
                fix=f"register the QEMU handlers (see the qemu findings), then {restart} so that BuildKit sees them",
                subject=current.name,
                details=others,
            )
        ]
    return [Finding("builder", Verdict.OK, summary, subject=current.name, details=others)]


def check_cache(ctx: DoctorContext) -> Sequence[Finding]:
    """The BuildKit cache against the free disk where dockerd keeps its data, with the prune to run."""
    if ctx.facts is None:
        return []
    usage = ctx.engine.cache_usage()
    root = ctx.facts.root_dir
    prune = "docker builder prune --force --filter until=168h (keeps the last week's cache; --all empties it)"
    cache = f"build cache {_gb(usage.size)} ({usage.entries} entries, {_gb(usage.reclaimable)} reclaimable)"
    local = ctx.engine.host.startswith("unix://")  # a remote engine's disk is not this machine's
    free = ctx.free_bytes(root) if root is not None and local else None
    if free is None:
        return [
            Finding(
                "build cache",
                Verdict.OK,
                f"{cache}; the free disk of {root or 'dockerd'} is not visible from here",
                details=(f"to reclaim it: {prune}",),
            )
        ]
    summary = f"{cache}; {_gb(free)} free on {root}"
    if free < FAIL_FREE:
        return [Finding("build cache", Verdict.FAIL, f"{summary}: builds will run out of disk", fix=prune)]
    if free < WARN_FREE or usage.reclaimable > free:
        why = "less than the cache holds" if usage.reclaimable > free else f"under {_gb(WARN_FREE)}"
        return [Finding("build cache", Verdict.WARN, f"{summary}: free space is {why}", fix=prune)]
    return [Finding("build cache", Verdict.OK, summary, details=(f"to reclaim it: {prune}",))]


def _describe(builder: BuilderInfo) -> str:
    states = ", ".join(sorted({n.status for n in builder.nodes})) or "no node"
    platforms = ", ".join(builder.platforms) or "no platforms"
    return f"{builder.name} ({builder.driver or 'unknown'} driver, {states}): {platforms}"


def _short(platform: str) -> str:
    """linux/arm64/v8 is linux/arm64; other variants stay."""
    return platform.removesuffix("/v8") if platform.startswith("linux/arm64") else platform


def _gb(size: int) -> str:
    return f"{size / GB:.1f} GB"
