"""Where a planned image is published: the immutable tag a digest gets (or already has) on its day, the
tags that name a digest now, whether a promotion was cut short (`promotion`) and what a tag line
promotes now (`dependents`). Reads only (a tag list, HEAD per tag); the scheduler, the stages, `audit`
and `dependents` share them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import count, takewhile
from typing import Protocol

from ..catalog.plan import PlannedImage
from ..catalog.tags import compute_tags, following, in_line, parse_immutable
from ..core.reference import Reference, parse_reference
from .client import RegistryClient

HEAD_JOBS = 8  # the HEADs of one image's tags in flight at once (a run that changes nothing is mostly these)


def digests(registry: TagReader, repository: str, tags: Iterable[str]) -> dict[str, str | None]:
    """Tag -> the digest it names in REPOSITORY now (None: no such tag), a HEAD each, in flight together."""
    wanted = list(dict.fromkeys(tags))
    if len(wanted) < 2:
        return {tag: registry.digest(parse_reference(f"{repository}:{tag}")) for tag in wanted}
    with ThreadPoolExecutor(max_workers=min(HEAD_JOBS, len(wanted)), thread_name_prefix="head") as pool:
        found = pool.map(lambda tag: registry.digest(parse_reference(f"{repository}:{tag}")), wanted)
        return dict(zip(wanted, found, strict=True))


def immutable_tag(registry: RegistryClient, image: PlannedImage, digest: str) -> str:
    """The day's immutable tag for DIGEST: the one that already names it, else the next free number.
    An immutable tag that exists never moves: a new build of the day gets the next number."""
    build = 1
    while True:
        tag = image.tags.immutable(build)
        existing = registry.digest(parse_reference(f"{image.repository}:{tag}"))
        if existing is None or existing == digest:
            return tag
        build += 1


def tags_at(
    registry: RegistryClient,
    image: PlannedImage,
    digest: str,
    built: dt.datetime | None,
    seen: Promotion | None = None,
) -> list[str]:
    """The tags of IMAGE's repository that point at DIGEST now, among those a promotion on the day BUILT
    (or today) set: where a consumer finds an unchanged image. SEEN (where the version's tags stood when
    the run decided, which nothing has moved since) answers for the tags it read and those its tag list
    lacks; only the others are asked."""
    tags = image.tags if built is None else compute_tags(image.spec.version, built.date())
    candidates = [*tags.rolling, *(t for t in image.tags.rolling if t not in tags.rolling)]
    if seen is None or seen.repository != image.repository or not seen.listed:
        found = []
        build = 1
        while (now := registry.digest(parse_reference(f"{image.repository}:{tags.immutable(build)}"))) is not None:
            if now == digest:
                found.append(tags.immutable(build))
            build += 1
        return found + [tag for tag, now in digests(registry, image.repository, candidates).items() if now == digest]
    immutable = list(takewhile(seen.listed.__contains__, (tags.immutable(build) for build in count(1))))
    return [tag for tag, now in seen.now([*immutable, *candidates], registry).items() if now == digest]


class TagReader(Protocol):
    """What reading a tag line takes of a registry client (RegistryClient has both)."""

    def digest(self, ref: Reference) -> str | None: ...

    def tags(self, repository: Reference) -> list[str]: ...


@dataclass(frozen=True)
class Promoted:
    """What the rolling tag LINE of a repository promotes now: its digest, and the newest immutable tag
    that names that digest (None when no immutable tag of the line does, e.g. pruned)."""

    line: str
    digest: str
    tag: str | None


def promoted(registry: TagReader, repository: Reference, line: str, tags: Sequence[str]) -> Promoted | None:
    """What LINE (X.Y.Z, X.Y, X, latest, YYYY.MM or X.Y.Z-pre) of REPOSITORY, whose tags are TAGS,
    promotes now; None when the registry holds nothing of that line. The rolling tag decides the digest;
    without it (removed by hand), the newest immutable tag of the line does."""
    builds = sorted((t for t in map(parse_immutable, tags) if t is not None and in_line(t, line)), reverse=True)
    digest = registry.digest(Reference(repository.domain, repository.path, line))
    if digest is None:
        if not builds:
            return None
        newest = builds[0].tag
        found = registry.digest(Reference(repository.domain, repository.path, newest))
        return None if found is None else Promoted(line, found, newest)
    for build in builds:  # newest first: usually the first one is it
        if registry.digest(Reference(repository.domain, repository.path, build.tag)) == digest:
            return Promoted(line, digest, build.tag)
    return Promoted(line, digest, None)


def tag_of(registry: TagReader, repository: Reference, digest: str, tags: Sequence[str]) -> str | None:
    """The newest immutable tag of REPOSITORY (among TAGS) that names DIGEST; None when none does."""
    for build in sorted((t for t in map(parse_immutable, tags) if t is not None), reverse=True):
        if registry.digest(Reference(repository.domain, repository.path, build.tag)) == digest:
            return build.tag
    return None


@dataclass(frozen=True)
class Promotion:
    """Where the tags of one version of an image stand: NEWEST, its newest immutable tag, names DIGEST (a
    promotion writes the immutable tag first: its digest passed); AT maps each tag that must follow it
    (see `catalog.tags.following`), in promotion order, to the digest it names now (None: no such tag)."""

    repository: str
    newest: str
    digest: str
    at: dict[str, str | None]
    listed: frozenset[str] = frozenset()  # the repository's tags when it was read

    def now(self, tags: Iterable[str], registry: TagReader) -> dict[str, str | None]:
        """Tag -> the digest it named when this was read (None: no such tag), for each of TAGS: those it
        HEADed and those its tag list lacks are known; the others are asked of REGISTRY now."""
        known = {self.newest: self.digest, **self.at}
        wanted = list(dict.fromkeys(tags))
        asked = digests(registry, self.repository, [t for t in wanted if t not in known and t in self.listed])
        return {tag: known[tag] if tag in known else asked.get(tag) for tag in wanted}

    @property
    def behind(self) -> tuple[str, ...]:
        """The tags that do not name DIGEST, in promotion order: () when the promotion is complete."""
        return tuple(tag for tag, now in self.at.items() if now != self.digest)

    def describe(self) -> str:
        """One line: which tags lag, where they are, and where the newest promotion is."""
        lagging = ", ".join(f"{tag} ({_short(self.at[tag])})" for tag in self.behind)
        return f"tags disagree: {lagging} not at {self.newest} ({_short(self.digest)}), the newest promoted build"


def promotion(
    registry: RegistryClient, repository: str, version: str, tags: list[str] | None = None
) -> Promotion | None:
    """Where the tags of VERSION in REPOSITORY stand (None: VERSION has no immutable tag). Its requests: the
    tag list (unless TAGS gives it), then a HEAD of the newest immutable tag and of each tag that must
    follow it and exists."""
    listed = registry.tags(parse_reference(repository)) if tags is None else tags
    found = following(version, listed)
    if found is None:
        return None
    newest, wanted = found

    at = digests(registry, repository, [newest.tag, *(tag for tag in wanted if tag in listed)])
    digest = at[newest.tag]
    if digest is None:  # removed since it was listed
        return None
    return Promotion(repository, newest.tag, digest, {tag: at.get(tag) for tag in wanted}, frozenset(listed))


def _short(digest: str | None) -> str:
    return "missing" if digest is None else digest[: len("sha256:") + 12]
