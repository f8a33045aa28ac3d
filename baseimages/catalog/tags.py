"""The tags each image gets: one immutable per-build tag and the rolling tags that move on promotion.

For version X.Y.Z built on date D:
  immutable  X.Y.Z-YYYYMMDD.N        one per distinct build of that day (N = 1, 2, ... read from the
                                     registry at promotion); never moved to another digest
  rolling    X.Y.Z, X.Y, X, latest   (a pre-release gets only its own X.Y.Z-pre)
  monthly    YYYY.MM
  candidate  candidate-X.Y.Z         where a build is pushed before it is tested (never promoted as is)
Build metadata (`+meta`) is dropped: `+` is not allowed in Docker tags.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import semver

from ..core.reference import is_valid_tag


@dataclass(frozen=True)
class TagSet:
    dated: str  # X.Y.Z-YYYYMMDD: the immutable tags of that day are dated.1, dated.2, ...
    rolling: tuple[str, ...]
    candidate: str

    def immutable(self, build: int) -> str:
        """The immutable tag of the day's BUILD-th distinct build (1-based)."""
        return f"{self.dated}.{build}"

    @property
    def shown(self) -> tuple[str, ...]:
        """Every tag a promotion sets, the immutable one with its build number still open (`.N`)."""
        return (f"{self.dated}.N", *self.rolling)


def compute_tags(version: str, build_date: dt.date) -> TagSet:
    """The tags of VERSION built on BUILD_DATE. ValueError on a version that is not semver."""
    v = semver.Version.parse(version)
    core = f"{v.major}.{v.minor}.{v.patch}"
    full = f"{core}-{v.prerelease}" if v.prerelease else core
    dated = f"{full}-{build_date:%Y%m%d}"
    if v.prerelease:
        rolling: tuple[str, ...] = (full,)
    else:
        rolling = (core, f"{v.major}.{v.minor}", f"{v.major}", "latest", f"{build_date:%Y.%m}")
    tags = TagSet(dated=dated, rolling=rolling, candidate=f"candidate-{full}")
    for tag in (tags.immutable(1), *tags.rolling, tags.candidate):
        if not is_valid_tag(tag):
            raise ValueError(f"{tag!r} is not a valid Docker tag")
    return tags


_IMMUTABLE = re.compile(r"^(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)-(?P<date>\d{8})\.(?P<build>\d+)$")


@dataclass(frozen=True, order=True)
class ImmutableTag:
    """An immutable tag `X.Y.Z-YYYYMMDD.N` read back: ordered by day, then build number."""

    date: dt.date
    build: int
    version: str  # X.Y.Z or X.Y.Z-pre: the rolling tag that moved with it (its tag line)

    @property
    def tag(self) -> str:
        return f"{self.version}-{self.date:%Y%m%d}.{self.build}"


def parse_immutable(tag: str) -> ImmutableTag | None:
    """TAG as an immutable tag, or None when it is another kind of tag (rolling, monthly, candidate...)."""
    match = _IMMUTABLE.match(tag)
    if not match:
        return None
    try:
        date = dt.datetime.strptime(match["date"], "%Y%m%d").date()
    except ValueError:
        return None
    return ImmutableTag(date, int(match["build"]), match["version"])


def in_line(tag: ImmutableTag, line: str) -> bool:
    """Whether the rolling tag LINE (X.Y.Z, X.Y, X, latest, X.Y.Z-pre or the monthly YYYY.MM) moved with
    the build TAG names when it was promoted (a pre-release moves only its own X.Y.Z-pre)."""
    release = "-" not in tag.version
    if line == "latest":
        return release
    if re.fullmatch(r"\d{4}\.\d{2}", line):
        return release and f"{tag.date:%Y.%m}" == line
    if line == tag.version:
        return True
    return release and tag.version.startswith(f"{line}.")
