"""Change detection and the refresh policy: does an image need building, and why.

One registry request per image answers it: the index at `repo:X.Y.Z` carries the fingerprint of the
inputs it was built from, their part hashes, the base digest and the build time as annotations.

A run that finds an image's tags disagreeing (a promotion cut short) reviews that verdict (`decide_plan`'s
REVIEW, given by the pipeline): it converges the tags instead (`Action.CONVERGE`), or builds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from .fingerprint import (
    BASE_DIGEST_KEY,
    CREATED_KEY,
    FINGERPRINT_KEY,
    INPUTS_KEY,
    Inputs,
    compute_inputs,
    decode_inputs,
)

if TYPE_CHECKING:
    from .plan import Plan, PlannedImage

_PART_NAMES = {
    "dockerfile": "Dockerfile",
    "context": "context files",
    "build_args": "build args",
    "platforms": "platforms",
}


class Action(StrEnum):
    BUILD = "build"
    SKIP = "skip"
    CONVERGE = "converge"  # finish a promotion cut short: move the tags that lag to the newest promoted digest


@dataclass(frozen=True)
class RefreshPolicy:
    """When an unchanged image is rebuilt anyway, to pick up security patches of its packages.

    `window`: rebuild when the last build is older than `days`. `monthly`: rebuild when the last
    build is from before the current calendar month (the scheduled job's mode). `updates`: the monthly
    floor, and rebuild when an update is installable for the image (`updates`: of a security suite
    only, or `any`; the pipeline looks, see pipeline.fresh). `force`: always.
    """

    mode: str = "window"
    days: int = 30
    force: bool = False
    updates: str = "security"  # with mode `updates`: which installable updates count (`security` or `any`)

    @property
    def monthly(self) -> bool:
        """Whether the monthly floor applies (the modes `monthly` and `updates`)."""
        return self.mode in ("monthly", "updates")

    def stale(self, built: dt.datetime, now: dt.datetime) -> str | None:
        """Why a build made at BUILT is too old at NOW, or None when it is fresh."""
        if self.monthly:
            if (built.year, built.month) != (now.year, now.month):
                return f"built {built:%Y-%m-%d}, before this month (monthly refresh)"
            return None
        age = now - built
        if age > dt.timedelta(days=self.days):
            return f"older than {self.days} days (built {built:%Y-%m-%d})"
        return None


@dataclass(frozen=True)
class Current:
    """What the registry holds at an image's version tag."""

    digest: str
    annotations: dict[str, str]
    month_digest: str | None = None  # what the build month's `YYYY.MM` tag names (read in monthly mode)


@dataclass(frozen=True)
class Decision:
    action: Action
    reasons: tuple[str, ...]
    inputs: Inputs
    current_digest: str | None = None  # what repo:X.Y.Z points at now (CONVERGE: the digest converged onto)
    built: dt.datetime | None = None  # when that was built (its annotation)
    moves: tuple[str, ...] = ()  # CONVERGE: the tags to move to current_digest, in promotion order
    proof: str = ""  # CONVERGE: the newest immutable tag, which names current_digest
    disagrees: bool = False  # its tags disagree and were not converged: a build must promote (never settle)
    fresh: bool = False  # build every step again: an installable update would not land from cached steps
    published: dict[str, str] = field(default_factory=dict)  # the annotations of the index at the version tag


def decide(
    inputs: Inputs,
    current: Current | None,
    version: str,
    parent: str,
    parent_is_external: bool,
    parent_rebuilt: bool,
    policy: RefreshPolicy,
    now: dt.datetime,
) -> Decision:
    """Build or skip, with the reasons a person reads in `plan`."""
    digest = current.digest if current else None
    if policy.force:
        return Decision(Action.BUILD, ("forced (--force)",), inputs, digest)
    if parent_rebuilt:
        return Decision(Action.BUILD, (f"parent {parent} rebuilt",), inputs, digest)
    if current is None:
        return Decision(Action.BUILD, (f"new: {version} is not in the registry",), inputs, None)
    notes = current.annotations
    recorded = notes.get(FINGERPRINT_KEY)
    if recorded is None:
        return Decision(Action.BUILD, ("no fingerprint recorded on the pushed image",), inputs, digest)
    if recorded != inputs.fingerprint:
        reasons = []
        old_parts = decode_inputs(notes.get(INPUTS_KEY, ""))
        changed = [
            label
            for key, label in _PART_NAMES.items()
            if old_parts.get(key) != inputs.parts()[key][: len(old_parts.get(key, "")) or None]
        ]
        if changed:
            reasons.append("inputs changed: " + ", ".join(changed))
        if notes.get(BASE_DIGEST_KEY) != inputs.parent_digest:
            kind = "base" if parent_is_external else "parent"
            reasons.append(f"{kind} {parent} has a new digest")
        return Decision(Action.BUILD, tuple(reasons) or ("inputs changed",), inputs, digest)
    created = parse_time(notes.get(CREATED_KEY, ""))
    if created is None:
        return Decision(Action.BUILD, ("no build time recorded on the pushed image",), inputs, digest)
    stale = policy.stale(created, now)
    if stale and policy.monthly and current.month_digest == digest:
        # a rebuild this month found nothing inside changed and moved the month's tag onto the digest
        reason = "unchanged: refreshed this month (the month's tag names it: a rebuild found nothing inside changed)"
        return Decision(Action.SKIP, (reason,), inputs, digest, created)
    if stale:
        return Decision(Action.BUILD, (stale,), inputs, digest, created)
    return Decision(Action.SKIP, ("unchanged",), inputs, digest, created)


Review = Callable[["PlannedImage", Decision], Decision]


def decide_plan(
    plan: Plan,
    current: Callable[[str], Current | None],
    resolve: Callable[[str], str],
    policy: RefreshPolicy,
    now: dt.datetime,
    review: Review | None = None,
) -> dict[str, Decision]:
    """Per image of PLAN, in build order: build or skip, and why. CURRENT gives what the registry holds
    at a `repository:version` (one request per image); RESOLVE pins an external base to its digest.
    REVIEW may change each verdict before the image's children are judged (a CONVERGE parent is at the
    digest it converges onto; a BUILD parent rebuilds its children)."""
    decisions: dict[str, Decision] = {}
    for image in plan.images:
        spec = image.spec
        parent_rebuilt = False
        if spec.parent_is_external:
            parent_digest = resolve(spec.parent)
        else:
            parent_decision = decisions.get(spec.parent)
            parent_rebuilt = parent_decision is None or parent_decision.action is Action.BUILD
            parent_digest = (parent_decision.current_digest if parent_decision else None) or ""
        inputs = compute_inputs(spec, image.platforms, spec.build_args, parent_digest)
        found = current(f"{image.repository}:{spec.version}")
        decision = decide(
            inputs, found, spec.version, spec.parent, spec.parent_is_external, parent_rebuilt, policy, now
        )
        if found is not None:  # what a later stage may read of the published index (see stages.reuse)
            decision = dataclasses.replace(decision, published=dict(found.annotations))
        decisions[image.name] = review(image, decision) if review is not None else decision
    return decisions


def parse_time(text: str) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
