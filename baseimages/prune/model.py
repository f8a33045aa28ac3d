"""What `prune` decided and did, as typed objects: the plan (per repository, the verdict on each tag, the
changes to make, and what is kept because a kept tag still reaches it), and the outcome of each change.

The plan describes itself (the dry run's lines are a walk of it), and `--apply` runs the same list, so
that what a dry run shows is what an apply does.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .local import LocalAction
from .retention import RetentionPolicy, Verdict


class ChangeKind(StrEnum):
    DELETE = "delete"  # DELETE the manifest by digest: it and every tag pointing at it go
    UNTAG = "untag"  # take the tag away, the manifest stays (a kept tag still reaches it)


@dataclass(frozen=True)
class Change:
    """One change to a repository: a manifest deleted, or a tag taken away from a manifest that stays."""

    kind: ChangeKind
    repository: str  # domain/path
    digest: str
    what: str  # index, linux/amd64 manifest, manifest without a platform, referrer, ...
    tags: tuple[str, ...]  # the tags it takes away
    rule: str  # why

    def describe(self) -> str:
        short = self.digest[:19]
        if self.kind is ChangeKind.UNTAG:
            return f"untag {', '.join(self.tags)} ({self.rule}); its manifest {short} stays"
        tags = f"; tags {', '.join(self.tags)}" if self.tags else ""
        return f"delete {self.what} {short}{tags} ({self.rule})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "change": self.kind.value,
            "repository": self.repository,
            "digest": self.digest,
            "what": self.what,
            "tags": list(self.tags),
            "rule": self.rule,
        }


@dataclass(frozen=True)
class Kept:
    """A manifest a removed tag (or a removed index) points at, kept because a kept tag still reaches it."""

    digest: str
    what: str
    of: str  # the removed tag or index it belongs to
    reached_by: str  # the kept tag that reaches it

    def describe(self) -> str:
        return f"keep {self.what} {self.digest[:19]} of {self.of}: still reached by kept tag {self.reached_by}"


@dataclass
class RepositoryPlan:
    repository: str  # domain/path
    in_catalog: bool
    verdicts: list[Verdict] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)

    def lines(self, verbose: bool = False) -> list[str]:
        removed = [v for v in self.verdicts if not v.keep]
        kept = [v for v in self.verdicts if v.keep]
        width = min(24, max((len(v.tag) for v in self.verdicts), default=0))
        out = [f"{self.repository}" + ("" if self.in_catalog else " (not in the catalog)")]
        out += [f"  remove {v.tag:<{width}}  {v.rule}" for v in removed]
        if verbose:
            out += [f"  keep   {v.tag:<{width}}  {v.rule}" for v in kept]
        elif kept:
            counts = Counter(v.kind.value for v in kept)
            out.append(f"  keep   {len(kept)} tags (" + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + ")")
        out += [f"    {change.describe()}" for change in self.changes]
        out += [f"    {note.describe()}" for note in self.kept]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "in_catalog": self.in_catalog,
            "tags": [
                {"tag": v.tag, "digest": v.digest, "kind": v.kind.value, "keep": v.keep, "rule": v.rule}
                for v in self.verdicts
            ],
            "changes": [change.to_dict() for change in self.changes],
            "kept": [{"digest": k.digest, "what": k.what, "of": k.of, "reached_by": k.reached_by} for k in self.kept],
        }


@dataclass
class PrunePlan:
    """Everything `prune` would change, and why; `--apply` makes exactly these changes."""

    registry: str
    namespace: str
    policy: RetentionPolicy
    repositories: list[RepositoryPlan] = field(default_factory=list)
    local: list[LocalAction] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not looked at, and why

    @property
    def changes(self) -> list[Change]:
        return [change for repo in self.repositories for change in repo.changes]

    @property
    def removed_tags(self) -> list[tuple[str, str]]:
        """(repository, tag) of every tag the plan removes."""
        return [(repo.repository, v.tag) for repo in self.repositories for v in repo.verdicts if not v.keep]

    def lines(self, verbose: bool = False) -> list[str]:
        policy = self.policy
        out = [
            f"registry {self.registry}, namespace {self.namespace or '(none)'}: keep the newest {policy.keep_dated} "
            f"dated tags and those of the last {policy.keep_dated_months} months, monthly tags "
            f"{policy.keep_monthly_months} months, unpromoted candidates {policy.candidate_days} days"
        ]
        for repo in self.repositories:
            if repo.verdicts or verbose:
                out += repo.lines(verbose)
        if self.local:
            out.append("local engine")
            out += [f"  {action.describe()}" for action in self.local]
        out += [f"note: {note}" for note in self.notes]
        deletes = sum(c.kind is ChangeKind.DELETE for c in self.changes)
        untags = sum(c.kind is ChangeKind.UNTAG for c in self.changes)
        kept = sum(v.keep for repo in self.repositories for v in repo.verdicts)
        local = f", {len(self.local)} local actions" if self.local else ""
        out.append(
            f"{len(self.removed_tags)} tags to remove ({deletes} manifests to delete, {untags} tags to take off "
            f"manifests that stay), {kept} tags kept{local}"
        )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "registry": self.registry,
            "namespace": self.namespace,
            "policy": vars(self.policy),
            "repositories": [repo.to_dict() for repo in self.repositories],
            "local": [action.to_dict() for action in self.local],
            "notes": list(self.notes),
        }


class Outcome(StrEnum):
    DONE = "done"
    GONE = "gone already"  # the registry no longer had it: a second run, or someone else
    MOVED = "left alone: the tag moved since the plan"


@dataclass
class PruneResult:
    plan: PrunePlan
    outcomes: list[tuple[Change | LocalAction, Outcome]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return self.plan.to_dict() | {
            "applied": [{**item.to_dict(), "outcome": outcome.value} for item, outcome in self.outcomes]
        }
