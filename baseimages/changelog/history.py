"""The history of an image: each immutable tag of its repository (`X.Y.Z-YYYYMMDD.N`), newest first, with
its digest, when it was built, its platforms and its changelog against the build before it, read from the
registry alone (`python -m baseimages history IMAGE`).

Newest first means by day, then version, then build number (the tags' own order on a day). When it was
built comes from the index's `org.opencontainers.image.created` annotation the factory writes, else from
the `created` of its first platform's image config. The changelog of the oldest build in the repository
is a first promotion. LIMIT bounds the registry reads: only the newest LIMIT builds are read (and, for the
last of them, the build before it); layers the builds share are read once (CACHE).

`History.to_dict()` is the JSON document `--json` prints, schema `baseimages.history/v1`
(docs/changelog.md describes it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from ..catalog.changes import parse_time
from ..catalog.fingerprint import CREATED_KEY
from ..catalog.tags import Immutable, parse_immutable
from ..core.errors import ConfigError
from ..core.reference import Reference
from ..registry.client import RegistryClient
from .compute import changelog
from .layers import LayerFacts
from .model import Changelog

SCHEMA = "baseimages.history/v1"
DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class Build:
    """One immutable tag: its DIGEST, when it was built (None: neither annotation nor config says), its
    PLATFORMS, the immutable tag of the build before it (None: the oldest) and the CHANGELOG against it."""

    tag: str
    digest: str
    created: dt.datetime | None
    platforms: tuple[str, ...]
    previous: str | None
    changelog: Changelog

    def to_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "digest": self.digest,
            "created": self.created.isoformat() if self.created else None,
            "platforms": list(self.platforms),
            "previous": self.previous,
            "changelog": self.changelog.to_dict(),
        }


@dataclass(frozen=True)
class History:
    """The newest BUILDS of REPOSITORY, newest first, of TOTAL immutable tags it has."""

    repository: str
    total: int
    builds: tuple[Build, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "repository": self.repository,
            "total": self.total,
            "shown": len(self.builds),
            "builds": [build.to_dict() for build in self.builds],
        }


def newest_first(tags: list[str]) -> list[Immutable]:
    """The immutable tags among TAGS, newest first: by day, then version, then build number."""
    found = [tag for tag in map(parse_immutable, tags) if tag is not None]
    return sorted(found, key=lambda t: (t.day, t.version, t.build), reverse=True)


def history(
    registry: RegistryClient,
    repository: Reference,
    limit: int = DEFAULT_LIMIT,
    cache: MutableMapping[str, LayerFacts] | None = None,
) -> History:
    """The newest LIMIT immutable tags of REPOSITORY (its tag and digest, if any, are ignored), each with
    its changelog against the build before it. ConfigError when LIMIT is below 1 or the repository has no
    immutable tag; RegistryError when the registry cannot be read."""
    if limit < 1:
        raise ConfigError("--limit", str(limit), "must be at least 1")
    repo = Reference(repository.domain, repository.path)
    builds = newest_first(registry.tags(repo))
    if not builds:
        raise ConfigError(
            "IMAGE", repo.repository, "has no immutable tags (X.Y.Z-YYYYMMDD.N) in the registry: never promoted"
        )
    layers: MutableMapping[str, LayerFacts] = {} if cache is None else cache
    shown = []
    for index, build in enumerate(builds[:limit]):
        before = builds[index + 1] if index + 1 < len(builds) else None
        shown.append(_build(registry, repo, build, before, layers))
    return History(repo.repository, len(builds), tuple(shown))


def _build(
    registry: RegistryClient,
    repo: Reference,
    build: Immutable,
    before: Immutable | None,
    cache: MutableMapping[str, LayerFacts],
) -> Build:
    ref = Reference(repo.domain, repo.path, build.tag)
    old = Reference(repo.domain, repo.path, before.tag) if before is not None else None
    summary = registry.summary(ref)
    if summary is None:  # removed while we read
        raise ConfigError("IMAGE", str(ref), "was removed from the registry while its history was read")
    digest, notes = summary
    log = changelog(registry, old, ref, cache=cache)
    platforms = tuple(sorted(name for name, p in log.platforms.items() if p.new_digest is not None))
    created = parse_time(notes.get(CREATED_KEY, "")) or _config_created(registry, ref)
    return Build(build.tag, digest, created, platforms, before.tag if before else None, log)


def _config_created(registry: RegistryClient, ref: Reference) -> dt.datetime | None:
    """The `created` of the first platform's image config at REF; None when it has none."""
    index = registry.index(ref)
    if not index.manifests:
        return None
    config = registry.blob_json(ref, index.manifests[0].config_digest)
    created = config.get("created")
    return parse_time(created) if isinstance(created, str) else None
