"""Resolve the base, then build every platform of an image in one buildx build into the local image
store under its candidate tag (never a promoted one), with OCI labels and, when pushing, the index
annotations that change detection reads back."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

from ..build_cache import registry_cache
from ..engine import BuildRequest
from ..events import Phase
from ..fingerprint import Inputs, compute_inputs
from ..labels import image_labels, index_annotations
from ..reference import parse_reference
from ..registry_upload import archive_index
from .base import ImageContext, Pinned, Settled, Stage
from .promote import immutable_tag


class ResolveBase(Stage):
    """Pin what the image builds FROM: an external base to its digest now; a parent built in this run
    checked to still be the digest its build recorded."""

    key = "resolve"
    phase = Phase.RESOLVING

    def detail(self, ctx: ImageContext) -> str:
        return ctx.image.spec.parent

    def run(self, ctx: ImageContext) -> None:
        if ctx.parent is None:
            parent = ctx.image.spec.parent
            ctx.parent = Pinned(parent, ctx.tools.resolve_digest(parent), local=False)
        elif ctx.parent.local:
            ctx.tools.check_local(ctx.parent)
        ctx.result.parent_ref = ctx.parent.pinned_ref

    def describe(self, ctx: ImageContext) -> list[str]:
        if ctx.parent is None:
            parent = ctx.image.spec.parent
            ctx.parent = Pinned(parent, f"<digest of {parent}>", local=False)
        return []


class Build(Stage):
    key = "build"
    phase = Phase.BUILDING

    def detail(self, ctx: ImageContext) -> str:
        return ", ".join(ctx.image.platforms)

    def run(self, ctx: ImageContext) -> None:
        assert ctx.parent is not None
        inputs = image_inputs(ctx, ctx.parent.digest)
        ctx.result.fingerprint = inputs.fingerprint
        archive = ctx.tools.workdir / f"{ctx.name}.oci.tar"
        request = build_request(ctx, ctx.parent, inputs, archive=archive)
        engine = ctx.tools.engine
        digest = ctx.with_retries(lambda: engine.build(request, ctx.name, on_line=ctx.tools.line_sink(ctx.name)))
        engine.load(archive)  # into the local image store, for the smoke tests and the children's builds
        ctx.result.digest = digest
        ctx.archive = archive
        ctx.built = Pinned(candidate_ref(ctx), digest, local=True)

    def describe(self, ctx: ImageContext) -> list[str]:
        assert ctx.parent is not None
        archive = Path(f"<tmp>/{ctx.name}.oci.tar")
        request = build_request(ctx, ctx.parent, None, archive=archive, metadata_file=Path("<metadata.json>"))
        ctx.built = Pinned(candidate_ref(ctx), f"<digest of {ctx.name}>", local=True)
        ctx.archive = archive
        return [shlex.join(request.argv()), shlex.join(["docker", "image", "load", "--quiet", "--input", str(archive)])]


class Identify(Stage):
    """Name the build before children use it. When pushing: a build whose platform manifests are the
    ones already published for its version (a reproducible rebuild) is settled there, nothing moves and
    its children build FROM the published index; otherwise its name is the immutable tag it will have
    (the day's tag that already names its digest, else the next free number): the `base.name` of its
    children. Children may build FROM it from here on."""

    key = "identify"
    phase = Phase.IDENTIFYING
    heavy = False
    publishes_candidate = True

    def run(self, ctx: ImageContext) -> None:
        assert ctx.built is not None
        image = ctx.image
        if ctx.push:
            published = _reproduces(ctx)
            if published is not None:
                reason = f"rebuilt byte for byte: the platform manifests of {published} (nothing moved)"
                ctx.settled = Settled(published, reason)
                return
            ctx.immutable = immutable_tag(ctx.tools.registry, image, ctx.built.digest)
            ctx.built = dataclasses.replace(ctx.built, name=f"{image.repository}:{ctx.immutable}")
        else:
            ctx.built = dataclasses.replace(ctx.built, name=f"{image.repository}:{image.spec.version}")

    def describe(self, ctx: ImageContext) -> list[str]:
        assert ctx.built is not None
        image = ctx.image
        ctx.built = dataclasses.replace(ctx.built, name=f"{image.repository}:{image.tags.dated}.<N>")
        if not ctx.push:
            return []
        return [f"# find the immutable tag of {ctx.built.digest}: {image.repository}:{image.tags.dated}.N "
                "(registry API: HEAD per build number of the day)"]  # fmt: skip


def _reproduces(ctx: ImageContext) -> str | None:
    """The digest published at the image's version when the build has exactly its platform manifests."""
    assert ctx.archive is not None
    registry = ctx.tools.registry
    version = parse_reference(f"{ctx.image.repository}:{ctx.image.spec.version}")
    published = registry.digest(version)
    if published is None:
        return None
    _, built = archive_index(ctx.archive)
    index = registry.index(parse_reference(f"{ctx.image.repository}@{published}"))
    return published if {m.platform: m.digest for m in index.manifests} == built else None


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
    ctx: ImageContext, parent: Pinned, inputs: Inputs | None, archive: Path, metadata_file: Path | None = None
) -> BuildRequest:
    """The build of CTX's image FROM PARENT: every platform into one OCI archive with its timestamps
    rewritten to SOURCE_DATE_EPOCH (reproducible), named with the candidate tag, with BuildKit's provenance."""
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
    output = {"type": "oci", "dest": str(archive), "name": candidate_ref(ctx), "rewrite-timestamp": "true"}
    enabled = ctx.push and tools.settings.build_cache
    cache = registry_cache(ctx.image.repository, ctx.image.platforms, enabled=enabled, reuse=not tools.no_cache)
    if ctx.push:
        notes = index_annotations(created, parent.digest, inputs)
        output |= {f"annotation-index.{key}": value for key, value in notes.items()}
    return BuildRequest(
        context=spec.directory,
        dockerfile=spec.dockerfile,
        platforms=ctx.image.platforms,
        build_args={
            "BASE_IMAGE": parent.from_ref,
            "SOURCE_DATE_EPOCH": str(ctx.plan.source_date_epoch),
            **spec.build_args,
        },
        build_contexts=tools.settings.build_contexts(),
        labels=labels,
        secrets=tools.settings.build_secrets(),
        output=output,
        metadata_file=metadata_file,
        provenance={"mode": "max"},
        no_cache=tools.no_cache,
        cache_from=cache.cache_from,
        cache_to=cache.cache_to,
    )
