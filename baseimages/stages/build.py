"""Resolve the base, then build every platform of an image in one buildx build into the local image
store under its candidate tag (never a promoted one), with OCI labels and, when pushing, the index
annotations that change detection reads back."""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

from ..engine import BuildRequest
from ..events import Phase
from ..fingerprint import BASE_DIGEST_KEY, CREATED_KEY, FINGERPRINT_KEY, INPUTS_KEY, Inputs, compute_inputs
from .base import ImageContext, Pinned, Stage


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
    publishes_candidate = True

    def detail(self, ctx: ImageContext) -> str:
        return ", ".join(ctx.image.platforms)

    def run(self, ctx: ImageContext) -> None:
        assert ctx.parent is not None
        inputs = image_inputs(ctx, ctx.parent.digest)
        ctx.result.fingerprint = inputs.fingerprint
        request = build_request(ctx, ctx.parent, inputs)
        engine = ctx.tools.engine
        digest = ctx.with_retries(lambda: engine.build(request, ctx.name, on_line=ctx.tools.line_sink(ctx.name)))
        ctx.result.digest = digest
        ctx.built = Pinned(candidate_ref(ctx), digest, local=True)

    def describe(self, ctx: ImageContext) -> list[str]:
        assert ctx.parent is not None
        request = build_request(ctx, ctx.parent, None, metadata_file=Path("<metadata.json>"))
        ctx.built = Pinned(candidate_ref(ctx), f"<digest of {ctx.name}>", local=True)
        return [shlex.join(request.argv())]


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
    ctx: ImageContext, parent: Pinned, inputs: Inputs | None, metadata_file: Path | None = None
) -> BuildRequest:
    spec = ctx.image.spec
    tools = ctx.tools
    labels = {
        "org.opencontainers.image.title": spec.name,
        "org.opencontainers.image.version": spec.version,
        "org.opencontainers.image.created": ctx.plan.build_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "org.opencontainers.image.revision": tools.revision,
        "org.opencontainers.image.source": tools.source,
        "org.opencontainers.image.base.name": parent.ref.split("@")[0],
        "org.opencontainers.image.base.digest": parent.digest,
    }
    if spec.description:
        labels["org.opencontainers.image.description"] = spec.description
    if inputs is not None:
        labels[FINGERPRINT_KEY] = inputs.fingerprint
    output = {"type": "image", "name": candidate_ref(ctx)}
    if ctx.push:
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
        platforms=ctx.image.platforms,
        build_args={"BASE_IMAGE": parent.from_ref, **spec.build_args},
        build_contexts=tools.settings.build_contexts(),
        labels={k: v for k, v in labels.items() if v},
        secrets=tools.settings.build_secrets(),
        output=output,
        metadata_file=metadata_file,
    )
