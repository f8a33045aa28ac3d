"""The tags each image gets: one immutable per-build tag and the rolling tags that move on promotion.

For version X.Y.Z built on date D:
  immutable  X.Y.Z-YYYYMMDD          never overwritten with another digest
  rolling    X.Y.Z, X.Y, X, latest   (a pre-release gets only its own X.Y.Z-pre)
  monthly    YYYY.MM
  candidate  candidate-X.Y.Z         where a build is pushed before it is tested (never promoted as is)
Build metadata (`+meta`) is dropped: `+` is not allowed in Docker tags.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import semver

from .reference import is_valid_tag


@dataclass(frozen=True)
class TagSet:
    immutable: str
    rolling: tuple[str, ...]
    candidate: str

    @property
    def all(self) -> tuple[str, ...]:
        return (self.immutable, *self.rolling)


def compute_tags(version: str, build_date: dt.date) -> TagSet:
    """The tags of VERSION built on BUILD_DATE. ValueError on a version that is not semver."""
    v = semver.Version.parse(version)
    core = f"{v.major}.{v.minor}.{v.patch}"
    full = f"{core}-{v.prerelease}" if v.prerelease else core
    immutable = f"{full}-{build_date:%Y%m%d}"
    if v.prerelease:
        rolling: tuple[str, ...] = (full,)
    else:
        rolling = (core, f"{v.major}.{v.minor}", f"{v.major}", "latest", f"{build_date:%Y.%m}")
    tags = TagSet(immutable=immutable, rolling=rolling, candidate=f"candidate-{full}")
    for tag in (*tags.all, tags.candidate):
        if not is_valid_tag(tag):
            raise ValueError(f"{tag!r} is not a valid Docker tag")
    return tags
