"""Convergence: a run finds an image whose tags disagree (a promotion cut short: some tags at the digest
its newest immutable tag names, others still at an older one, or missing) and finishes that promotion,
whatever the change detection would otherwise decide.

The newest immutable tag of the image's version is the proof that its digest passed: a promotion writes
it first, and only once every check passed and the digest was signed (see `catalog.tags`). With a
signing key (the `sign-key` setting) the digest must also carry its signature and a signed test record
that says every platform passed (checked as `verify` checks them, with the key's public half); a digest
that lacks them is not converged onto: the image builds, and its promotion moves every tag anew.

Reads only: a tag list and a HEAD of each tag the version's promotion sets, per image, every image's at
once (`read_ahead`); more (the index, cosign) only where the tags disagree and a signing key is set.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

from ..catalog.changes import Action, Current, Decision
from ..catalog.plan import Plan, PlannedImage
from ..core.errors import RegistryError
from ..core.reference import parse_reference
from ..registry.published import Promotion, promotion
from ..trust.verify import own_key_failures
from .stages import Tools

READ_JOBS = 8  # reads in flight at once (two per image: its version's manifest, its tags)


def read(tools: Tools, image: PlannedImage) -> Promotion | None:
    """Where IMAGE's tags stand (what `review` judges): a tag list and a HEAD per tag."""
    if tools.unreachable:
        raise RegistryError(tools.unreachable)
    return promotion(tools.registry, image.repository, image.spec.version)


def read_ahead(
    tools: Tools, plan: Plan, current: Callable[[str], Current | None]
) -> tuple[dict[str, Current | None], dict[str, Promotion | None]]:
    """Every image's reads, in flight together (a run that changes nothing is mostly these): CURRENT of its
    `repository:version` (by that reference) and, beside it, where its tags stand (`read`, by image name).
    The first error any raised is raised."""
    images = plan.images
    pool = ThreadPoolExecutor(max_workers=max(1, min(READ_JOBS, 2 * len(images))), thread_name_prefix="read")
    try:
        currents = [pool.submit(current, f"{i.repository}:{i.spec.version}") for i in images]
        states = [pool.submit(read, tools, i) for i in images]
        found = {f"{i.repository}:{i.spec.version}": f.result() for i, f in zip(images, currents, strict=True)}
        return found, {i.name: f.result() for i, f in zip(images, states, strict=True)}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # after an error, what was still queued never starts


def reviewer(tools: Tools, states: Mapping[str, Promotion | None]) -> Callable[[PlannedImage, Decision], Decision]:
    """`review` of each image's decision against where its tags stand in STATES (from `read_ahead`)."""
    return lambda image, decision: review(tools, image, decision, states[image.name])


def review(tools: Tools, image: PlannedImage, decision: Decision, state: Promotion | None) -> Decision:
    """DECISION, unless IMAGE's tags disagree (STATE, from `read`): then CONVERGE onto the newest promoted
    digest when it is proven passed, else BUILD (never settled on a published digest), with the reasons a
    person reads."""
    if state is None or not state.behind:
        return decision
    problems = proof_failures(tools, state)
    if problems:
        why = f"{state.describe()}; not converged onto it: {'; '.join(problems)}"
        if decision.action is Action.BUILD:
            return dataclasses.replace(decision, reasons=(why, *decision.reasons), disagrees=True)
        return dataclasses.replace(
            decision, action=Action.BUILD, reasons=(why, "built to promote anew"), disagrees=True
        )
    reasons = [f"{state.describe()}: converging them onto it (no build, no test: it passed)"]
    if decision.action is Action.BUILD:
        reasons.append(f"not built in this run ({'; '.join(decision.reasons)}): the next run judges it again")
    return dataclasses.replace(
        decision,
        action=Action.CONVERGE,
        reasons=tuple(reasons),
        current_digest=state.digest,
        moves=state.behind,
        proof=state.newest,
    )


def proof_failures(tools: Tools, state: Promotion) -> list[str]:
    """Why the digest of STATE's newest immutable tag is not proven passed: [] without a signing key (the
    immutable tag is the proof), else what its signature and signed test record lack."""
    signer = tools.signer
    if signer.key is None:
        return []
    index = tools.registry.index(parse_reference(f"{state.repository}@{state.digest}"))
    return own_key_failures(signer, f"{state.repository}@{state.digest}", index)
