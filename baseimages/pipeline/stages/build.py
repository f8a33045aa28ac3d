"""Resolve the base, then build each platform of an image on its own builder, merge the platforms into
one image index (with, when pushing, the annotations that change detection reads back) and load it into
the local image store under its candidate tag (never a promoted one), with OCI labels."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ...catalog.fingerprint import FINGERPRINT_KEY, Inputs, compute_inputs
from ...catalog.labels import image_labels, index_annotations
from ...core.errors import BuildError, RegistryError
from ...core.events import Phase
from ...core.reference import parse_reference
from ...engine.build_cache import BUILD_CACHE_KEY, cache_layers, cache_ref, encode_cache_states, registry_cache
from ...engine.builders import is_docker_context
from ...engine.client import BuildRequest, LineSink
from ...engine.platforms import runs_natively
from ...oci.archive import archive_index, extract_layout
from ...oci.merge import PlatformArchive, merge_platform_archives
from ..actions import Action, LoadArchive, MergePlatforms, PlatformBuild, Read, is_placeholder, only, placeholder
from .base import ImageContext, Pinned, Stage


class ResolveBase(Stage):
    """Pin what the image builds FROM: an external base to its digest now; a parent built in this run
    checked to still be the digest its build recorded."""

    key = "resolve"
    phase = Phase.RESOLVING

    def detail(self, ctx: ImageContext) -> str:
        return ctx.image.spec.parent

    def run(self, ctx: ImageContext) -> None:
        if ctx.parent is not None and ctx.parent.local:
            ctx.tools.check_local(ctx.parent)
        self.assume(ctx)

    def assume(self, ctx: ImageContext) -> None:
        if ctx.parent is None:
            parent = ctx.image.spec.parent
            ctx.parent = Pinned(parent, ctx.tools.resolve_digest(parent), local=False)
        ctx.result.parent_ref = ctx.parent.pinned_ref


class Build(Stage):
    """One buildx build per platform, all at once, each on the builder the settings map its platform to
    (the default builder otherwise) and into its own OCI archive; then the archives merged into one
    image (`oci_merge`) that the local image store loads (smoke tests, contract) and children build FROM."""

    key = "build"
    phase = Phase.BUILDING

    def detail(self, ctx: ImageContext) -> str:
        builders = ctx.tools.settings.builders
        return ", ".join(f"{p} on {builder_name(builders.get(p))}" for p in ctx.image.platforms)

    def actions(self, ctx: ImageContext) -> list[Action]:
        assert ctx.parent is not None
        return build_actions(ctx, image_inputs(ctx, ctx.parent.digest))

    def run(self, ctx: ImageContext) -> None:
        assert ctx.parent is not None
        inputs = image_inputs(ctx, ctx.parent.digest)
        ctx.result.fingerprint = inputs.fingerprint
        actions = build_actions(ctx, inputs)
        engine = ctx.tools.engine

        exported: dict[str, str] = {}  # platform -> what its cache ref holds, when its build wrote it anew
        builds = only(actions, PlatformBuild)
        building = {build.platform for build in builds}
        lock = threading.Lock()
        lead = HeadStart(*emulated(ctx, builds))

        def one(build: PlatformBuild) -> PlatformArchive:
            platform = build.platform
            if ctx.warming is not None:
                ctx.warming.wait(platform)  # its warm-up's steps are in the cache once it is over
            lead.wait(platform)
            ctx.result.builders[platform] = build.builder
            ctx.note(f"building on {build.builder}", platform)
            on_line = platform_log(ctx, platform)
            before = cache_state(ctx, build)
            with lead.running(platform):
                ctx.with_retries(lambda: engine.build(build.request, f"{ctx.name} ({platform})", on_line=on_line))
            after = cache_state(ctx, build)
            if after is not None and after != before:
                exported[platform] = cache_record(after, build)
            ctx.note(f"built on {build.builder}", platform)
            with lock:
                building.discard(platform)
                others = bool(building)
            if others and ctx.offer is not None:
                _offer(ctx, build)
            return PlatformArchive(platform, build.archive)

        [merge], [load] = only(actions, MergePlatforms), only(actions, LoadArchive)
        started = lead.first(builds)
        with ThreadPoolExecutor(max_workers=max(1, len(builds))) as pool:
            built = dict(zip((build.platform for build in started), pool.map(one, started), strict=True))
        parts = [built[build.platform] for build in builds]  # the index in the catalog's platform order
        annotations = dict(merge.annotations)
        if BUILD_CACHE_KEY in annotations:
            if len(exported) == len(builds):
                annotations[BUILD_CACHE_KEY] = encode_cache_states(exported)
            else:  # a cache export that failed (or another build's) is no record of this build
                del annotations[BUILD_CACHE_KEY]
        merged = merge_platform_archives(parts, merge.layout, merge.archive, annotations)
        for part in parts:
            part.archive.unlink(missing_ok=True)
        engine.load(load.archive)  # into the local image store, for the smoke tests and the contract
        ctx.note(f"merged {len(parts)} platforms: {merged.digest}", None)
        ctx.result.digest = merged.digest
        self._built(ctx, merge, merged.digest)

    def assume(self, ctx: ImageContext) -> None:
        layout, archive = _merged(ctx)
        self._built(ctx, MergePlatforms((), layout, archive), placeholder(ctx.name))

    @staticmethod
    def _built(ctx: ImageContext, merge: MergePlatforms, digest: str) -> None:
        ctx.archive = merge.archive
        ctx.built = Pinned(candidate_ref(ctx), digest, local=True, layout=merge.layout)


HEAD_START = 2.0  # seconds the emulated platforms' builds run before the native ones start


class HeadStart:
    """The emulated platforms' builds (the slow ones, under QEMU) start first, the native ones once they have
    ended or HEAD_START seconds later: a step that holds a lock (a `sharing=locked` cache mount, such as
    apt's) is then the emulated build's first, instead of making it wait for the native one's."""

    def __init__(self, emulated: Collection[str] = (), native: Collection[str] = ()) -> None:
        """EMULATED start at once, NATIVE after the head start; any other platform at once too."""
        self._emulated, self._native = set(emulated), set(native)
        self._left = set(emulated)
        self._lock = threading.Lock()
        self._over = threading.Event()
        if not emulated:
            self._over.set()

    def first(self, builds: list[PlatformBuild]) -> list[PlatformBuild]:
        """BUILDS with the emulated platforms' first (the order they start in)."""
        return sorted(builds, key=lambda build: build.platform not in self._emulated)

    def wait(self, platform: str) -> None:
        """Until PLATFORM may start: a native platform at the end of the head start, any other at once."""
        if platform in self._native:
            self._over.wait(HEAD_START)

    @contextlib.contextmanager
    def running(self, platform: str) -> Iterator[None]:
        """PLATFORM's build; the head start is over when every emulated platform's build has ended."""
        try:
            yield
        finally:
            with self._lock:
                self._left.discard(platform)
                if not self._left:
                    self._over.set()


def emulated(ctx: ImageContext, builds: list[PlatformBuild]) -> tuple[set[str], set[str]]:
    """The platforms of BUILDS on the default builder that the engine runs under emulation, and those it runs
    natively; both empty unless there are some of each (a mapped builder's machine is its own) and the engine
    says what it runs on."""
    local = [build.platform for build in builds if not (build.request.builder or build.request.docker_context)]
    machine = ctx.tools.engine.architecture() if len(local) > 1 else ""
    slow = {platform for platform in local if machine and not runs_natively(platform, machine)}
    native = set(local) - slow
    return (slow, native) if slow and native else (set(), set())


def _offer(ctx: ImageContext, build: PlatformBuild) -> None:
    """BUILD's output offered to the children's cache warm-ups (`WarmCache`) as an OCI layout, while the
    other platforms still build; when it cannot be unpacked, the children build as they would without."""
    assert ctx.offer is not None
    layout = platform_output(ctx.tools.workdir, ctx.name, build.platform)
    try:
        extract_layout(build.archive, layout)
        digest = archive_index(build.archive)[1][build.platform]
    except (BuildError, RegistryError, KeyError) as exc:
        ctx.note(f"not offered to the children's warm-ups: {exc}", build.platform)
        return
    ctx.offer(build.platform, Pinned(f"{ctx.name} ({build.platform})", digest, local=True, layout=layout))


def platform_output(workdir: Path, image: str, platform: str) -> Path:
    """Where IMAGE's build of PLATFORM is offered to its children's warm-ups: an OCI layout directory."""
    return workdir / f"{image}.{_slug(platform)}.oci"


def _merged(ctx: ImageContext) -> tuple[Path | None, Path]:
    """Where the merged image goes: its OCI layout, only in a build run with builders mapped (a child built
    on another builder reads it there; one on the default builder from the local store, and when pushing,
    every child from the uploaded candidate), and its archive (the upload and the load read it)."""
    layout = None if ctx.push or not ctx.tools.settings.builders else ctx.tools.workdir / f"{ctx.name}.oci"
    return layout, ctx.tools.workdir / f"{ctx.name}.oci.tar"


def build_actions(ctx: ImageContext, inputs: Inputs) -> list[Action]:
    """One build per platform (each into its own OCI archive, its metadata file beside it), the merge of
    their archives into one index, and its load into the local image store."""
    assert ctx.parent is not None
    workdir = ctx.tools.workdir
    actions: list[Action] = []
    for platform in ctx.image.platforms:
        stem = workdir / f"{ctx.name}.{_slug(platform)}"
        archive, metadata = Path(f"{stem}.oci.tar"), Path(f"{stem}.metadata.json")
        request = build_request(ctx, ctx.parent, inputs, platform, archive, metadata_file=metadata)
        actions.append(PlatformBuild(platform, builder_name(request.docker_context or request.builder), request))
    notes = index_annotations(ctx.plan.created, ctx.parent.digest, inputs) if ctx.push else {}
    if actions and all(a.request.cache_to for a in only(actions, PlatformBuild)):
        notes[BUILD_CACHE_KEY] = CACHE_RECORD
        ref = cache_ref(ctx.image.repository, "<platform>")
        actions.append(Read(f"read {ref} before and after each platform's build: when every build wrote its cache "
                            f"anew, the index records it with the build's recipe ({BUILD_CACHE_KEY})"))  # fmt: skip
    layout, archive = _merged(ctx)
    parts = tuple(a.archive for a in only(actions, PlatformBuild))
    actions.append(MergePlatforms(parts, layout, archive, _unknown_fingerprint(ctx, inputs, notes)))
    actions.append(LoadArchive(archive, candidate_ref(ctx)))
    return actions


CACHE_RECORD = "<each platform's registry cache layers, when its build wrote them>"


def platform_log(ctx: ImageContext, platform: str) -> LineSink | None:
    """Where a build of PLATFORM writes its lines: the image's build log (`--log-dir`), each line marked
    with the platform; None when no log is written."""
    sink = ctx.tools.line_sink(ctx.name)
    return None if sink is None else (lambda line: sink(f"[{platform}] {line}"))


def cache_record(state: str, build: PlatformBuild) -> str:
    """What the index records of BUILD: the cache STATE it exported and its request's recipe."""
    return f"{state}+{build.request.recipe()}"


def cache_state(ctx: ImageContext, build: PlatformBuild) -> str | None:
    """What BUILD's registry cache ref holds now (`cache_layers`); None when the build exports no cache,
    the ref does not exist or cannot be read (then nothing is recorded: a record is never a guess)."""
    if not build.request.cache_to:
        return None
    ref = parse_reference(cache_ref(ctx.image.repository, build.platform))
    try:
        found = ctx.with_retries(lambda: ctx.tools.registry.manifest(ref))
    except RegistryError:
        return None
    return None if found is None or not found.is_index else cache_layers(found.doc)


def _unknown_fingerprint(ctx: ImageContext, inputs: Inputs, values: dict[str, str]) -> dict[str, str]:
    """VALUES with the fingerprint a placeholder when the parent's digest is one (a dry run): a hash of a
    placeholder would look real and be wrong."""
    if FINGERPRINT_KEY in values and is_placeholder(inputs.parent_digest):
        return values | {FINGERPRINT_KEY: f"<fingerprint of {ctx.name}>"}
    return values


def builder_name(builder: str | None) -> str:
    """How progress and the report name a build's builder: its name, or `default` (none mapped)."""
    return builder or "default"


def _where(name: str | None) -> tuple[str | None, str | None]:
    """Where a build runs, as (builder, Docker context): on a Docker context (`docker --context NAME`),
    another builder (`--builder NAME`), or the default builder (neither)."""
    if name and is_docker_context(name):
        return None, name
    return name, None


def _slug(platform: str) -> str:
    return platform.replace("/", "-")


def candidate_ref(ctx: ImageContext) -> str:
    return f"{ctx.image.repository}:{ctx.image.tags.candidate}"


def image_inputs(ctx: ImageContext, parent_digest: str) -> Inputs:
    """The image's inputs with the parent it really builds FROM: those the change detection hashed,
    when it ran (the context is hashed once per run), with the parent's digest of this run."""
    spec = ctx.image.spec
    if ctx.decision is not None:
        return dataclasses.replace(ctx.decision.inputs, parent_digest=parent_digest)
    return compute_inputs(spec, ctx.image.platforms, spec.build_args, parent_digest)


def build_request(
    ctx: ImageContext,
    parent: Pinned,
    inputs: Inputs | None,
    platform: str,
    archive: Path,
    metadata_file: Path | None = None,
) -> BuildRequest:
    """The build of PLATFORM of CTX's image FROM PARENT (that platform of it), on the builder the settings
    map PLATFORM to: one OCI archive with its timestamps rewritten to SOURCE_DATE_EPOCH (reproducible),
    named with the candidate tag, with BuildKit's provenance."""
    spec = ctx.image.spec
    tools = ctx.tools
    created = ctx.plan.created
    labels = image_labels(
        title=spec.name,
        version=spec.version,
        description=spec.description,
        created=created,
        revision=tools.revision,
        source=tools.source,
        base_name=parent.label_name,
        base_digest=parent.digest,
        inputs=inputs,
    )
    if inputs is not None:
        labels = _unknown_fingerprint(ctx, inputs, labels)
    output = {"type": "oci", "dest": str(archive), "name": candidate_ref(ctx), "rewrite-timestamp": "true",
              "compression": "gzip", "compression-level": str(tools.settings.layer_compression_level)}  # fmt: skip
    enabled = ctx.push and tools.settings.build_cache
    fresh = tools.no_cache or (ctx.decision is not None and ctx.decision.fresh)  # every step again
    cache = registry_cache(ctx.image.repository, platform, enabled=enabled, reuse=not fresh)
    mapped = tools.settings.builders.get(platform)
    builder, docker_context = _where(mapped)
    base_image, parent_contexts = parent.base_for(default_builder=mapped is None)
    return BuildRequest(
        context=spec.directory,
        dockerfile=spec.dockerfile,
        platforms=(platform,),
        build_args={
            "BASE_IMAGE": base_image,
            "SOURCE_DATE_EPOCH": str(ctx.plan.source_date_epoch),
            **spec.build_args,
        },
        build_contexts={**tools.settings.build_contexts(), **parent_contexts},
        labels=labels,
        secrets=tools.settings.build_secrets(),
        output=output,
        metadata_file=metadata_file,
        builder=builder,
        docker_context=docker_context,
        provenance={"mode": "max"},
        no_cache=fresh,
        cache_from=cache.cache_from,
        cache_to=cache.cache_to,
    )
