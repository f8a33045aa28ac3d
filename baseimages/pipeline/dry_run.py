"""A dry run as data: per image, why it builds and the actions of each of its stages (the very records a
run executes), with the registry's current digest of each tag a promotion would move. It renders
itself two ways: `readable()`, the plan a person reads (`--dry-run`), and `commands()`, the exact
command lines and `#` lines for what baseimages does itself (`--dry-run=commands`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from ..catalog.changes import Decision
from ..catalog.plan import Plan, PlannedImage
from .actions import (
    Action,
    CacheWarm,
    ContainerRun,
    ContractBuild,
    LoadArchive,
    MergePlatforms,
    MoveTags,
    Notify,
    PlatformBuild,
    UploadArchive,
    is_placeholder,
    only,
)

Mode = Literal["plan", "commands"]
MODES: tuple[Mode, ...] = ("plan", "commands")
UNKNOWN = "unknown"
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")  # a tag's current digest when the registry could not be asked


def parse_mode(text: str) -> Mode:
    """TEXT as a dry run's mode (one of MODES)."""
    for mode in MODES:
        if text == mode:
            return mode
    raise ValueError(f"not a dry run mode: {text!r} (one of {', '.join(MODES)})")


@dataclass(frozen=True)
class StageActions:
    stage: str  # the stage's key (build, push, smoke, ...)
    actions: tuple[Action, ...]


@dataclass
class ImagePlan:
    """One image of a dry run: built with STAGES, or left as PUBLISHED (unchanged: nothing runs)."""

    image: PlannedImage
    decision: Decision | None  # pushing: the change detection's verdict (None: not asked)
    stages: list[StageActions] = field(default_factory=list)
    published: str | None = None  # the digest it stays at, when unchanged
    current: dict[str, str | None] = field(default_factory=dict)  # tag -> its digest now (None: new)

    @property
    def name(self) -> str:
        return self.image.name

    @property
    def actions(self) -> list[Action]:
        return [action for stage in self.stages for action in stage.actions]


@dataclass
class DryRun:
    """What a run of PLAN would do, without running anything."""

    plan: Plan
    push: bool
    images: list[ImagePlan]
    unreachable: str | None = None  # why the registry was not (fully) read

    def image(self, name: str) -> ImagePlan:
        return next(item for item in self.images if item.name == name)

    def lines(self, mode: Mode = "plan") -> list[str]:
        return self.commands() if mode == "commands" else self.readable()

    def commands(self) -> list[str]:
        """Every command, in order, with placeholders for digests not yet known."""
        return [line for item in self.images for action in item.actions for line in action.commands()]

    def readable(self) -> list[str]:
        """Per image: why it builds, each platform's build, the upload, the checks, the contract, signing
        and attestations, and each tag that would move (from its current digest, or new)."""
        verb = "push" if self.push else "build"
        out = [f"{verb} --dry-run: {len(self.images)} image(s), nothing runs; digests in <> are known only in a run"]
        if self.unreachable:
            out.append(f"registry not asked (what it holds is unknown): {self.unreachable}")
        for item in self.images:
            out += ["", *_image_lines(item, self.push, self.unreachable)]
        return [_DIGEST.sub(lambda found: short(found.group()), line) for line in out]


def _image_lines(item: ImagePlan, push: bool, unreachable: str | None) -> list[str]:
    image = item.image
    spec = image.spec
    out = [f"{image.name} {spec.version}  FROM {spec.parent}  ({image.repository})"]
    if not push:
        out.append("  why: build builds and tests every selected image (it pushes nothing)")
    elif item.decision is None:
        out.append(f"  why: unknown, {'the registry did not answer' if unreachable else 'not asked'}: built")
    else:
        out.append(f"  why: {item.decision.action.value}: {'; '.join(item.decision.reasons)}")
    if item.published is not None:
        out.append(f"  nothing runs: it stays at {short(item.published)}; its children build FROM it")
        return out
    for stage in item.stages:
        out += _stage_lines(stage, item)
    return out


def _stage_lines(stage: StageActions, item: ImagePlan) -> list[str]:
    actions = stage.actions
    builds = only(actions, PlatformBuild)
    if builds:
        out = ["  build, one per platform:"] + [f"    {build.summary()}" for build in builds]
        merge = only(actions, MergePlatforms) + only(actions, LoadArchive)
        return out + [f"    then {' and '.join(a.summary() for a in merge)}"]
    warms = only(actions, CacheWarm)
    if warms:
        title = "  cache warm-up, while the parent still builds (if that platform ends first and a job is free):"
        return [title] + [f"    {warm.summary()}" for warm in warms]
    if only(actions, ContainerRun):
        runs = only(actions, ContainerRun)
        total = sum(len(run.checks) for run in runs)
        return [f"  smoke tests ({total} checks):"] + [f"    {run.summary()}" for run in runs]
    contract = only(actions, ContractBuild)
    if contract:
        title = "  contract (its checks run inside the service build):"
        return [title] + [f"    {build.summary()}" for build in contract]
    uploads = only(actions, UploadArchive)
    if uploads:
        return [f"  {upload.summary()}" for upload in uploads]
    moves = only(actions, MoveTags)
    if moves:
        return [line for move in moves for line in _tag_lines(move, item.current)]
    if only(actions, Notify):
        return [f"  {note.summary()}" for note in only(actions, Notify)]
    return [f"  {stage.stage}: {action.summary()}" for action in actions]


def _tag_lines(move: MoveTags, current: dict[str, str | None]) -> list[str]:
    out = [f"  tags of {move.repository} that would move to {short(move.digest)}:"]
    width = max(len(tag) for tag in move.tags)
    for tag in move.tags:
        now = current.get(tag, UNKNOWN)
        was = "new" if now is None else ("unknown" if now == UNKNOWN else short(now))
        out.append(f"    {tag:<{width}}  {was} -> {short(move.digest)}")
    return out


def short(digest: str) -> str:
    """A digest as a person reads it: `sha256:` and 12 hex digits (a placeholder as it is)."""
    if is_placeholder(digest) or not digest.startswith("sha256:"):
        return digest
    return digest[:19] + "…"
