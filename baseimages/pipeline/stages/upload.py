"""Upload a built candidate to the registry's candidate tag, every request retried on its own, and
check that the registry holds that digest with every planned platform."""

from __future__ import annotations

import dataclasses

from ...core.errors import RegistryError
from ...core.events import Phase
from ...core.reference import parse_reference
from ...registry.client import ImageIndex, PlatformManifest
from ..actions import Action, UploadArchive, only, placeholder
from .base import ImageContext, Stage


class UploadCandidate(Stage):
    key = "push"
    phase = Phase.PUSHING
    publishes_candidate = True  # children build FROM the uploaded candidate, by digest

    def applies(self, ctx: ImageContext) -> bool:
        return ctx.push

    def detail(self, ctx: ImageContext) -> str:
        return f"{ctx.image.repository}:{ctx.image.tags.candidate}"

    def actions(self, ctx: ImageContext) -> list[Action]:
        built = ctx.built
        assert built is not None and ctx.parent is not None and ctx.archive is not None
        target = parse_reference(built.ref)
        mount_from: tuple[str, ...] = ()
        if not ctx.image.spec.parent_is_external:
            parent_repo = parse_reference(ctx.parent.ref.split("@")[0])
            if parent_repo.domain == target.domain:
                mount_from = (parent_repo.path,)
        return [UploadArchive(ctx.archive, built.ref, mount_from, ctx.tools.settings.upload_jobs)]

    def run(self, ctx: ImageContext) -> None:
        built = ctx.built
        assert built is not None
        registry = ctx.tools.registry
        for upload in only(self.actions(ctx), UploadArchive):
            target = parse_reference(upload.target)
            done = registry.upload_archive(upload.archive, target, upload.mount_from, upload.jobs)
            if done.digest != built.digest:
                raise RegistryError(f"{ctx.name}: the registry holds {done.digest}, the build made {built.digest}")
            counts = f"{done.blobs_uploaded} blobs uploaded, {done.blobs_mounted} mounted"
            ctx.note(f"{counts}, {done.blobs_present} already there", None)
        index = registry.index(parse_reference(f"{ctx.image.repository}@{built.digest}"))
        missing = [p for p in ctx.image.platforms if p not in index.platforms]
        if missing:
            raise RegistryError(f"{ctx.name}: pushed index {built.digest} lacks {', '.join(missing)}")
        ctx.index = index
        ctx.built = dataclasses.replace(built, uploaded=True)

    def assume(self, ctx: ImageContext) -> None:
        """The candidate in the registry: its index and each platform's manifest are placeholders."""
        assert ctx.built is not None
        manifests = tuple(
            PlatformManifest(p, placeholder(f"{ctx.name} {p}"), 0, placeholder(f"{ctx.name} {p} config"))
            for p in ctx.image.platforms
        )
        ctx.index = ImageIndex(f"{ctx.image.repository}@{ctx.built.digest}", ctx.built.digest, manifests)
        ctx.built = dataclasses.replace(ctx.built, uploaded=True)
