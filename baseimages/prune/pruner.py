"""Retention: `prune` old tags, candidates and caches without ever breaking a kept image.

    pruner = baseimages.Pruner(settings, catalog)
    plan = pruner.plan()                 # reads the registry, changes nothing: plan.lines() says what and why
    result = pruner.apply(plan)          # deletes through the registry API (manifest DELETE by digest)

The plan covers each catalog image's repository (the rules are in `retention`, the safety walk in
`prune_plan`), the cache refs of images no longer in the catalog, and with `local=True` the engine's
BuildKit cache and the factory's local images (`prune_local`). Applying it is `prune_apply`. The caller
holds the run lock while it applies (the CLI does), so that a prune never races a push.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ..catalog.spec import Catalog
from ..core.errors import RegistryError
from ..core.reference import Reference, parse_reference
from ..registry.client import RegistryClient
from ..registry.connect import registry_client
from ..settings.config import Settings
from .apply import Progress, apply_plan
from .local import DockerLocalStore, LocalStore, plan_local
from .model import PrunePlan, PruneResult
from .plan import cache_repositories, cache_tags, plan_repository, read_repository, unlisted_note
from .retention import RetentionPolicy

__all__ = ["PrunePlan", "PruneResult", "Pruner", "RetentionPolicy"]


class Pruner:
    """Plans and applies a prune of SETTINGS' registry and namespace for CATALOG. REGISTRY, LOCAL (the
    engine's local store) and POLICY may be injected; by default they follow SETTINGS."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        registry: RegistryClient | None = None,
        local: LocalStore | None = None,
        policy: RetentionPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.registry = registry or registry_client(settings)
        self._local = local
        self.policy = policy or RetentionPolicy.from_settings(settings)

    @property
    def local(self) -> LocalStore:
        """The engine's local store, created on first use only (a registry-only prune starts no Docker process)."""
        if self._local is None:
            self._local = DockerLocalStore()
        return self._local

    def plan(
        self, images: Sequence[str] | None = None, local: bool = False, now: dt.datetime | None = None
    ) -> PrunePlan:
        """What a prune would change, and why: for IMAGES (catalog names; default: the whole catalog, and then
        the cache refs of images no longer in it too), and with LOCAL the engine's cache and local images."""
        now = now or dt.datetime.now(dt.UTC)
        settings = self.settings
        names = list(self.catalog.images) if images is None else list(images)
        plan = PrunePlan(settings.registry, settings.namespace, self.policy)
        for name in names:
            state = read_repository(self.registry, self._repository(name))
            plan.repositories.append(plan_repository(state, self.policy, now, in_catalog=True))
        if set(names) >= set(self.catalog.images):
            self._plan_caches(plan, now)
        else:
            plan.notes.append(
                "only some images were named: cache refs of images no longer in the catalog not looked for"
            )
        if local:
            repositories = {name: settings.repository(name) for name in names}
            plan.local = plan_local(self.local, repositories, self.policy.keep_storage)
        return plan

    def apply(self, plan: PrunePlan, on_done: Progress | None = None, now: dt.datetime | None = None) -> PruneResult:
        """Make PLAN's changes (registry first, then the local ones); ON_DONE hears each as it is done."""
        return apply_plan(plan, self.registry, self._local if not plan.local else self.local, on_done, now)

    def _repository(self, name: str) -> Reference:
        return parse_reference(self.settings.repository(name))

    def _plan_caches(self, plan: PrunePlan, now: dt.datetime) -> None:
        domain = self._repository("x").domain
        try:
            paths = cache_repositories(self.registry, domain, self.settings.namespace, self.catalog.images)
        except RegistryError as exc:
            if exc.status not in (401, 403, 404, 405):
                raise
            plan.notes.append(unlisted_note(exc))
            return
        for path in paths:
            repository = Reference(domain, path)
            tags = cache_tags(self.registry, repository)
            if tags is not None:
                state = read_repository(self.registry, repository, tags)
                plan.repositories.append(plan_repository(state, self.policy, now, in_catalog=False))
