"""Making a prune plan true through the registry API (and, with `--local`, on the engine).

Before anything changes, each registry is asked whether it allows deletes (a DELETE of a digest nothing
has: 404 yes, 405 no), so that a registry that does not allow them is one clear error (exit code 3) and
not a half-done prune. Then, in the plan's order:

- `delete`: DELETE the manifest by digest. Every tag that points at it goes with it; all of them are
  removed tags (a kept tag's manifest is never in the plan). Its platform manifests and attestations
  follow, parents before children, so that no tag ever names an index whose children are gone.
- `untag`: the distribution API deletes manifests, not tags (distribution 2.8 answers a DELETE by tag
  with 400). So the tag is first pointed at a placeholder, an empty index of its own (annotated
  `io.baseimages.pruned`), which is then deleted by its digest: the tag goes, the manifest that a kept
  tag still reaches stays. A tag that moved since the plan is left alone.

A manifest the registry no longer has counts as done ("gone already"), so a second run, or a run after an
interrupted one, changes nothing that was already changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace

from ..core.reference import parse_reference
from ..registry.client import INDEX_TYPES, RegistryClient
from .local import LocalAction, LocalStore
from .model import Change, ChangeKind, Outcome, PrunePlan, PruneResult
from .retention import PRUNED_KEY

Progress = Callable[[Change | LocalAction, Outcome], None]


def apply_plan(
    plan: PrunePlan,
    registry: RegistryClient,
    local: LocalStore | None = None,
    on_done: Progress | None = None,
    now: dt.datetime | None = None,
) -> PruneResult:
    """Make every change of PLAN, in order; ON_DONE hears each one as it is done. A RegistryError stops the
    run where it is (what was done stays done; a rerun picks up the rest)."""
    result = PruneResult(plan)
    checked: set[str] = set()
    for change in plan.changes:
        ref = parse_reference(change.repository)
        if ref.domain not in checked:
            registry.check_deletes(ref)
            checked.add(ref.domain)
    when = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    for change in plan.changes:
        outcome = _untag(registry, change, when) if change.kind is ChangeKind.UNTAG else _delete(registry, change)
        result.outcomes.append((change, outcome))
        if on_done is not None:
            on_done(change, outcome)
    if plan.local:
        assert local is not None, "a plan with local actions needs the local store it was made with"
        for action in plan.local:
            local.run(action)
            result.outcomes.append((action, Outcome.DONE))
            if on_done is not None:
                on_done(action, Outcome.DONE)
    return result


def placeholder(tag: str, when: str) -> bytes:
    """The empty index a tag is pointed at before it is deleted: its own bytes, so its own digest."""
    doc = {
        "schemaVersion": 2,
        "mediaType": INDEX_TYPES[0],
        "manifests": [],
        "annotations": {PRUNED_KEY: tag, f"{PRUNED_KEY}.at": when},
    }
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def _delete(registry: RegistryClient, change: Change) -> Outcome:
    ref = replace(parse_reference(change.repository), digest=change.digest)
    return Outcome.DONE if registry.delete_manifest(ref) else Outcome.GONE


def _untag(registry: RegistryClient, change: Change, when: str) -> Outcome:
    repository = parse_reference(change.repository)
    (tag,) = change.tags
    ref = replace(repository, tag=tag)
    current = registry.digest(ref)
    if current is None:
        return Outcome.GONE
    if current != change.digest:
        return Outcome.MOVED
    digest = registry.put_manifest(ref, INDEX_TYPES[0], placeholder(tag, when))
    registry.delete_manifest(replace(repository, digest=digest))
    return Outcome.DONE
