"""A dry run's walk of the stages: each stage that applies gives its actions, then fills in the image's
context as its run would (with placeholders), so that the next stages compute theirs from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

from ..catalog.changes import Action as Verdict
from ..catalog.changes import Decision
from ..catalog.plan import Plan
from ..core.results import ImageResult
from ..registry.published import tags_at
from .dry_run import ImagePlan, StageActions
from .stages import Converge, ImageContext, Pinned, Stage, Tools


def walk(
    stages: Sequence[Stage],
    converger: Converge,
    plan: Plan,
    push: bool,
    decisions: Mapping[str, Decision],
    tools: Tools,
) -> list[ImagePlan]:
    """What a run would do, per image in build order, without running anything: each stage that
    applies gives its actions, then fills in the context as its run would (with placeholders). An
    image the DECISIONS leave unchanged runs nothing; its children build FROM its published digest. A
    converging image moves its lagging tags only (`Converge`), its children build FROM that digest."""
    out: list[ImagePlan] = []
    built: dict[str, Pinned] = {}
    for image in plan.images:
        ctx = ImageContext(image, plan, push, tools, ImageResult(image.name, image.repository))
        ctx.decision = decisions.get(image.name)
        if not image.spec.parent_is_external:
            ctx.parent = built[image.spec.parent]
        decision = ctx.decision
        if decision is not None and decision.action is Verdict.SKIP and decision.current_digest:
            digest = decision.current_digest
            seen = tools.tags_read.get(image.name)
            no_tags: list[str] = []
            tags = tools.read_or(partial(tags_at, tools.registry, image, digest, decision.built, seen), no_tags)
            built[image.name] = published(ctx, digest, tags)
            out.append(ImagePlan(image, decision, published=digest))
            continue
        if decision is not None and decision.action is Verdict.CONVERGE and decision.current_digest:
            moves = StageActions(converger.key, tuple(converger.actions(ctx)))
            built[image.name] = published(ctx, decision.current_digest, [decision.proof])
            out.append(ImagePlan(image, decision, [moves]))
            continue
        item = ImagePlan(image, decision)
        for stage in stages:
            if stage.early and (ctx.parent is None or not ctx.parent.local):
                continue  # an early stage waits for what the parent builds in this run
            if stage.applies(ctx):
                item.stages.append(StageActions(stage.key, tuple(stage.actions(ctx))))
                stage.assume(ctx)
        assert ctx.built is not None, f"no stage built {image.name}"
        built[image.name] = ctx.built
        out.append(item)
    return out


def early_stages(stages: Sequence[Stage], contexts: Sequence[ImageContext]) -> dict[str, Stage]:
    """Image -> the `early` stage it runs (its cache warm-up while its parent builds): an image whose parent
    builds in this run (no decision, a build run, or one to build) and to which the stage applies."""
    builds = {c.name for c in contexts if c.decision is None or c.decision.action is Verdict.BUILD}
    return {
        ctx.name: stage
        for ctx in contexts
        if ctx.image.spec.parent in builds
        for stage in stages
        if stage.early and stage.applies(ctx)
    }


def published(ctx: ImageContext, digest: str, tags: Sequence[str]) -> Pinned:
    """An unchanged image as its children build FROM it: by DIGEST in its repository, named by the first
    of the TAGS that point at it (its immutable tag), else its version."""
    name = f"{ctx.image.repository}:{tags[0] if tags else ctx.image.spec.version}"
    return Pinned(f"{ctx.image.repository}@{digest}", digest, local=False, name=name)
