"""What a stage does that changes the world, as typed, frozen records: a stage computes them from its
image's context (`Stage.actions`), its run executes exactly those records (through the engine, the
registry client and cosign), and `--dry-run` renders the same records. Where a value is known only
during a run (a digest), a dry run's context holds a placeholder (`placeholder`), so that the same code
computes the actions in both modes.

Each action renders the exact lines `--dry-run=commands` prints (`commands`: a command line, or `#`
lines for what baseimages does itself, e.g. registry API requests) and one readable line (`summary`).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from ..engine.requests import BuildRequest, RunRequest
from ..outputs.notify import Delivery


def placeholder(what: str) -> str:
    """What a dry run shows for the digest of WHAT, known only once a run made or read it."""
    return f"<digest of {what}>"


def is_placeholder(value: str) -> bool:
    return value.startswith("<") and value.endswith(">")


class Action:
    """One thing a stage does. `writes` says whether it changes the world (a read is shown, never compared)."""

    writes: bool = True

    def commands(self) -> list[str]:
        """The exact lines `--dry-run=commands` prints for it."""
        raise NotImplementedError

    def summary(self) -> str:
        """One readable line for the plan `--dry-run` prints."""
        raise NotImplementedError


@dataclass(frozen=True)
class PlatformBuild(Action):
    """One `docker buildx build` of one platform on its builder, into its own OCI archive."""

    platform: str
    builder: str  # its name, or `default`
    request: BuildRequest

    @property
    def archive(self) -> Path:
        return Path(self.request.output["dest"])

    def commands(self) -> list[str]:
        return [shlex.join(self.request.argv())]

    def summary(self) -> str:
        return f"{self.platform} on {self.builder}, FROM {self.request.build_args.get('BASE_IMAGE', '?')}"


@dataclass(frozen=True)
class CacheProbe(Action):
    """A `docker buildx build` of one platform that exports nothing (`type=cacheonly`): whether BuildKit
    finds every step in the cache. It changes nothing (its cache is not written)."""

    platform: str
    builder: str
    request: BuildRequest
    writes = False

    def commands(self) -> list[str]:
        return [shlex.join(self.request.argv())]

    def summary(self) -> str:
        return f"{self.platform} on {self.builder}: is every step in the registry cache?"


@dataclass(frozen=True)
class CacheWarm(Action):
    """A build of one platform FROM the parent's output of that platform (SOURCE), run as soon as the
    parent built it while its other platforms still build, exporting nothing (`type=cacheonly`, the
    registry cache not written): the image's own build of that platform then finds its steps in BuildKit's
    cache, whose keys follow a base's layers, not where they were read from. Skipped when the parent's
    candidate exists first, or no `jobs` permit is free."""

    platform: str
    builder: str
    source: str
    request: BuildRequest
    writes = False

    def commands(self) -> list[str]:
        return [shlex.join(self.request.argv())]

    def summary(self) -> str:
        return f"{self.platform} on {self.builder}: its steps FROM {self.source}, exporting nothing"


@dataclass(frozen=True)
class MergePlatforms(Action):
    """The platform archives merged into one image index (its archive, and an OCI layout when a child on
    another builder reads it), annotated."""

    archives: tuple[Path, ...]
    layout: Path | None
    archive: Path
    annotations: Mapping[str, str] = field(default_factory=dict)

    def commands(self) -> list[str]:
        annotated = "".join(f", {key}={value}" for key, value in self.annotations.items())
        into = f"{self.layout} and {self.archive}" if self.layout is not None else str(self.archive)
        return [f"# merge the platform archives into one index: {into}{annotated}"]

    def summary(self) -> str:
        return f"merge {len(self.archives)} platform archives into one index ({self.archive})"


@dataclass(frozen=True)
class LoadArchive(Action):
    """`docker image load` of an OCI archive into the local image store (smoke tests, contract)."""

    archive: Path
    name: str  # the name the archive's index carries

    def argv(self) -> list[str]:
        return ["docker", "image", "load", "--quiet", "--input", str(self.archive)]

    def commands(self) -> list[str]:
        return [shlex.join(self.argv())]

    def summary(self) -> str:
        return f"load it into the local image store as {self.name}"


@dataclass(frozen=True)
class UploadArchive(Action):
    """The registry API upload of an OCI archive to a tag: blobs (JOBS at once, mounted where they can
    be), manifests, then the index at TARGET."""

    archive: Path
    target: str  # repository:tag
    mount_from: tuple[str, ...]
    jobs: int

    def commands(self) -> list[str]:
        return [f"# upload {self.archive} to {self.target} (registry API: blobs {self.jobs} at once, manifests, index)"]

    def summary(self) -> str:
        mounts = f", blobs mounted from {', '.join(self.mount_from)}" if self.mount_from else ""
        return f"upload {self.archive} to {self.target} ({self.jobs} blobs at once{mounts})"


@dataclass(frozen=True)
class ContainerRun(Action):
    """One container of a platform's smoke tests: the check runner, running CHECKS (None: nothing runs in
    a container, e.g. only metadata checks)."""

    platform: str
    request: RunRequest | None
    checks: tuple[str, ...]  # the names of every check on this platform, the container's and the others

    def commands(self) -> list[str]:
        return [] if self.request is None else [self.request.describe()]

    def summary(self) -> str:
        where = f"in one container of {self.request.image}" if self.request else "no container"
        return f"{self.platform}: {_checks(self.checks)} ({where})"


@dataclass(frozen=True)
class ContractBuild(Action):
    """One build of the contract service for PLATFORMS, FROM the candidate, its checks run inside the
    build (the recipe with APPENDED stages), only their results written out."""

    platforms: tuple[str, ...]
    request: BuildRequest
    recipe: Path
    appended: tuple[str, ...]  # the lines appended to the recipe (with a placeholder run id)
    checks: tuple[str, ...]

    def commands(self) -> list[str]:
        lines = [f"# {self.request.dockerfile}: {self.recipe}, then:"]
        lines += [f"#   {line}" for line in self.appended]
        return [*lines, shlex.join(self.request.argv())]

    def summary(self) -> str:
        args = self.request.build_args
        return (
            f"{', '.join(self.platforms)}: service FROM {args.get('BASE_IMAGE')}, runtime {args.get('RUNTIME_IMAGE')}; "
            f"{_checks(self.checks)}"
        )


@dataclass(frozen=True)
class CosignSign(Action):
    subject: str
    argv: tuple[str, ...]

    def commands(self) -> list[str]:
        return [shlex.join(self.argv)]

    def summary(self) -> str:
        return f"sign {self.subject}"


@dataclass(frozen=True)
class CosignAttest(Action):
    """A signed in-toto attestation of PREDICATE_TYPE attached to SUBJECT; the predicate is written to
    PREDICATE first."""

    subject: str
    predicate_type: str
    predicate: Path
    argv: tuple[str, ...]

    def commands(self) -> list[str]:
        return [shlex.join(self.argv)]

    def summary(self) -> str:
        return f"attest {self.predicate_type} on {self.subject}"


@dataclass(frozen=True)
class GenerateSbom(Action):
    """One platform's root filesystem of IMAGE exported into ROOTFS, then cdxgen's SBOM of it into OUTPUT."""

    image: str
    platform: str
    rootfs: Path
    output: Path

    def commands(self) -> list[str]:
        return [
            f"# export the {self.platform} root filesystem of {self.image} into {self.rootfs}, "
            f"then: cdxgen -t rootfs {self.rootfs} -o {self.output} --only pkg:deb --only pkg:pypi"
        ]

    def summary(self) -> str:
        return f"SBOM of {self.platform} (cdxgen on its exported root filesystem)"


@dataclass(frozen=True)
class MoveTags(Action):
    """Point TAGS of REPOSITORY at DIGEST: the same manifest bytes, one PUT per tag."""

    repository: str
    digest: str
    tags: tuple[str, ...]

    def commands(self) -> list[str]:
        return [
            f"# tag {self.repository}@{self.digest} as {', '.join(self.tags)} (registry API: one manifest PUT per tag)"
        ]

    def summary(self) -> str:
        return f"tag {self.repository}@{self.digest} as {', '.join(self.tags)}"


@dataclass(frozen=True)
class Notify(Action):
    """The notification of a promotion to one `notify-url`: the DELIVERY the run's notifier sends once the
    tags moved (its URL shown without credentials; a token is never part of it)."""

    delivery: Delivery

    def commands(self) -> list[str]:
        return self.delivery.commands()

    def summary(self) -> str:
        return self.delivery.summary()


@dataclass(frozen=True)
class Read(Action):
    """A registry read a stage makes (no change): shown in the commands, never compared."""

    what: str
    writes = False

    def commands(self) -> list[str]:
        return [f"# {self.what}"]

    def summary(self) -> str:
        return self.what


@dataclass(frozen=True)
class Notice(Action):
    """Something a stage does not do, and why (e.g. no signing key)."""

    text: str
    writes = False

    def commands(self) -> list[str]:
        return [f"# {self.text}"]

    def summary(self) -> str:
        return self.text


def _checks(names: Sequence[str]) -> str:
    shown = ", ".join(names[:6]) + (f", +{len(names) - 6} more" if len(names) > 6 else "")
    return f"{len(names)} check{'s' if len(names) != 1 else ''}" + (f": {shown}" if names else "")


A = TypeVar("A", bound=Action)


def only(actions: Sequence[Action], kind: type[A]) -> list[A]:
    """The actions of KIND, in order."""
    return [action for action in actions if isinstance(action, kind)]
