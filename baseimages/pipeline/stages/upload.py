"""Upload a built candidate to the registry's candidate tag, every request retried on its own, and
check that the registry holds that digest with every planned platform."""

from __future__ import annotations

import dataclasses

from ...core.errors import RegistryError
from ...core.events import Phase
from ...core.reference import parse_reference
from .base import ImageContext, Stage


class UploadCandidate(Stage):
    key = "push"
    phase = Phase.PUSHING
    publishes_candidate = True  # children build FROM the uploaded candidate, by digest

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push

    def detail(self, ctx: ImageContext) -> str:
        return f"{ctx.image.repository}:{ctx.image.tags.candidate}"

    def run(self, ctx: ImageContext) -> None:
        built = ctx.built
        assert built is not None and ctx.parent is not None
        target = parse_reference(built.ref)
        mount_from: tuple[str, ...] = ()
        if not ctx.image.spec.parent_is_external:
            parent_repo = parse_reference(ctx.parent.ref.split("@")[0])
            if parent_repo.domain == target.domain:
                mount_from = (parent_repo.path,)
        registry = ctx.tools.registry
        assert ctx.archive is not None
        upload = registry.upload_archive(ctx.archive, target, mount_from, ctx.tools.settings.upload_jobs)
        if upload.digest != built.digest:
            raise RegistryError(f"{ctx.name}: the registry holds {upload.digest}, the build made {built.digest}")
        ctx.note(
            f"{upload.blobs_uploaded} blobs uploaded, {upload.blobs_mounted} mounted, "
            f"{upload.blobs_present} already there",
            None,
        )
        index = registry.index(parse_reference(f"{ctx.image.repository}@{built.digest}"))
        missing = [p for p in ctx.image.platforms if p not in index.platforms]
        if missing:
            raise RegistryError(f"{ctx.name}: pushed index {built.digest} lacks {', '.join(missing)}")
        ctx.index = index
        ctx.built = dataclasses.replace(built, uploaded=True)

    def describe(self, ctx: ImageContext) -> list[str]:
        assert ctx.built is not None
        ctx.built = dataclasses.replace(ctx.built, uploaded=True)
        jobs = ctx.tools.settings.upload_jobs
        return [f"# upload {ctx.archive} to {ctx.built.ref} (registry API: blobs {jobs} at once, manifests, index)"]
