"""The tags each image gets: one immutable per-build tag and the rolling tags that move on promotion.

For version X.Y.Z built on date D:
  immutable  X.Y.Z-YYYYMMDD.N        one per distinct build of that day (N = 1, 2, ... read from the
                                     registry at promotion); never moved to another digest
  rolling    X.Y.Z, X.Y, X, latest   (a pre-release gets only its own X.Y.Z-pre)
  monthly    YYYY.MM
  candidate  candidate-X.Y.Z         where a build is pushed before it is tested (never promoted as is)
Build metadata (`+meta`) is dropped: `+` is not allowed in Docker tags.

The promotion order. A promotion is one PUT per tag, so a run killed between two of them leaves some
tags at the new digest and the others at the previous one. The tags are written from the most specific
to the most general, so that whichever single tag a consumer reads during a promotion, the digest it
names is already at every tag more specific than it:

  1. the immutable tag `X.Y.Z-YYYYMMDD.N`: written first, it is the proof that the digest passed (it is
     written only after every check passed and the digest was signed), and the target a later run
     converges the other tags onto;
  2. `X.Y.Z`, `X.Y`, `X`: the version's rolling tags, each wider than the one before;
  3. `YYYY.MM`: the month's newest build, wider than a version (it spans the versions of a month) and
     narrower than `latest` (a month, where `latest` spans every month);
  4. `latest`, last: a digest at `latest` is at every other tag of its promotion.

`TagSet.rolling` is in that order (the immutable tag goes before it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import semver

from ..core.reference import is_valid_tag

_IMMUTABLE = re.compile(r"^(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)-(?P<date>\d{8})\.(?P<build>[1-9]\d*)$")


@dataclass(frozen=True)
class TagSet:
    dated: str  # X.Y.Z-YYYYMMDD: the immutable tags of that day are dated.1, dated.2, ...
    rolling: tuple[str, ...]  # in promotion order (see the module's docstring), the monthly tag included
    candidate: str

    def immutable(self, build: int) -> str:
        """The immutable tag of the day's BUILD-th distinct build (1-based)."""
        return f"{self.dated}.{build}"

    @property
    def shown(self) -> tuple[str, ...]:
        """Every tag a promotion sets, in the order it sets them, the immutable one with its build number
        still open (`.N`)."""
        return (f"{self.dated}.N", *self.rolling)


@dataclass(frozen=True, order=True)
class Immutable:
    """An immutable tag `X.Y.Z-YYYYMMDD.N`, ordered by version, then day, then build number."""

    version: semver.Version
    day: dt.date
    build: int
    tag: str

    @property
    def month(self) -> str:
        """The monthly tag of its day (`YYYY.MM`)."""
        return f"{self.day:%Y.%m}"


def parse_immutable(tag: str) -> Immutable | None:
    """TAG as an immutable tag, or None when it is not one (a rolling, monthly or candidate tag...)."""
    found = _IMMUTABLE.match(tag)
    if found is None:
        return None
    try:
        version = semver.Version.parse(found["version"])
        day = dt.datetime.strptime(found["date"], "%Y%m%d").date()
    except ValueError:
        return None
    return Immutable(version, day, int(found["build"]), tag)


def version_tags(version: str) -> tuple[str, ...]:
    """The rolling tags a promotion of VERSION sets, the monthly tag aside, in promotion order."""
    v = semver.Version.parse(version)
    core = f"{v.major}.{v.minor}.{v.patch}"
    if v.prerelease:
        return (f"{core}-{v.prerelease}",)
    return (core, f"{v.major}.{v.minor}", f"{v.major}", "latest")


def compute_tags(version: str, build_date: dt.date) -> TagSet:
    """The tags of VERSION built on BUILD_DATE. ValueError on a version that is not semver."""
    v = semver.Version.parse(version)
    core = f"{v.major}.{v.minor}.{v.patch}"
    full = f"{core}-{v.prerelease}" if v.prerelease else core
    dated = f"{full}-{build_date:%Y%m%d}"
    if v.prerelease:
        rolling: tuple[str, ...] = (full,)
    else:
        *wider, latest = version_tags(version)
        rolling = (*wider, f"{build_date:%Y.%m}", latest)
    tags = TagSet(dated=dated, rolling=rolling, candidate=f"candidate-{full}")
    for tag in (tags.immutable(1), *tags.rolling, tags.candidate):
        if not is_valid_tag(tag):
            raise ValueError(f"{tag!r} is not a valid Docker tag")
    return tags


def following(version: str, tags: Iterable[str]) -> tuple[Immutable, tuple[str, ...]] | None:
    """Among a repository's TAGS: the newest immutable tag of VERSION (by day, then build number), and the
    tags that must name its digest once its promotion is complete, in promotion order; None when VERSION
    has no immutable tag.

    Those are VERSION's rolling tags, less any a newer version in TAGS also sets (`latest` and `X` belong
    to the newest version that has them), and the monthly tag of its day when it is the newest build of
    that month (by version, day and build number). An older version's tags and older months' tags are
    never among them."""
    dated = [found for found in map(parse_immutable, tags) if found is not None]
    current = semver.Version.parse(version).replace(build=None)
    own = [found for found in dated if found.version == current]
    if not own:
        return None
    newest = max(own)
    newer = {str(found.version) for found in dated if found.version > current}
    claimed = {tag for other in newer for tag in version_tags(other)}
    wanted = [tag for tag in version_tags(version) if tag not in claimed]
    if not current.prerelease:
        month = [found for found in dated if found.month == newest.month and not found.version.prerelease]
        if max(month) == newest:
            at = wanted.index("latest") if "latest" in wanted else len(wanted)
            wanted.insert(at, newest.month)
    return newest, tuple(wanted)


def in_line(tag: Immutable, line: str) -> bool:
    """Whether the rolling tag LINE (X.Y.Z, X.Y, X, latest, X.Y.Z-pre or the monthly YYYY.MM) moved with
    the build TAG names when it was promoted (a pre-release moves only its own X.Y.Z-pre)."""
    release = not tag.version.prerelease
    version = str(tag.version)
    if line == "latest":
        return release
    if re.fullmatch(r"\d{4}\.\d{2}", line):
        return release and tag.month == line
    if line == version:
        return True
    return release and version.startswith(f"{line}.")
