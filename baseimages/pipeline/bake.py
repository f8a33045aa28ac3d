"""The equivalent `docker buildx bake` definition of a plan (`python -m baseimages bake-file`).

For users who compare, migrate or fall back: the same Dockerfiles, build args, platforms, secrets,
wheelhouse context, tags and registry build cache (one ref per target, `REPO:buildcache`). A child is
chained to its parent the bake way: BASE_IMAGE names a context that points at the parent's target
(`target:<parent>`), so bake builds parents first. What bake cannot express is left out: smoke tests,
contracts, change detection, promotion only after every platform passed.
"""

from __future__ import annotations

from typing import Any

from ..catalog.plan import Plan
from ..engine.build_cache import bake_cache
from ..settings.config import Settings

PARENT_CONTEXT = "baseimages-parent"


def bake_definition(plan: Plan, settings: Settings, push: bool = True) -> dict[str, Any]:
    """A bake file (JSON form) building every image of PLAN with the tags baseimages would give it."""
    secrets = settings.build_secrets()
    targets: dict[str, Any] = {}
    for image in plan.images:
        spec = image.spec
        contexts = settings.build_contexts()
        if spec.parent_is_external:
            base = spec.parent
        else:
            base = PARENT_CONTEXT
            contexts[PARENT_CONTEXT] = f"target:{spec.parent}"
        target: dict[str, Any] = {
            "context": str(spec.directory),
            "dockerfile": "Dockerfile",
            "platforms": list(image.platforms),
            "args": {"BASE_IMAGE": base, **spec.build_args},
            "tags": image.tag_refs((image.tags.immutable(1), *image.tags.rolling)),
            "labels": {
                "org.opencontainers.image.title": spec.name,
                "org.opencontainers.image.version": spec.version,
            },
        }
        if contexts:
            target["contexts"] = contexts
        if secrets:
            target["secret"] = list(secrets)
        if push:
            target["output"] = ["type=image,push=true"]
            if settings.build_cache:
                cache_from, cache_to = bake_cache(image.repository)
                target["cache-from"], target["cache-to"] = [cache_from], [cache_to]
        targets[spec.name] = target
    return {"group": {"default": {"targets": [i.name for i in plan.images]}}, "target": targets}
