"""The retention policy and its rules: which tags of an image's repository `prune` keeps, which it removes,
and why. Pure: it reads tags and build times, and asks nothing of a registry.

The factory's tags (see `tags`), and the rule for each kind:
  rolling    X.Y.Z, X.Y, X, latest, X.Y.Z-pre   always kept
  dated      X.Y.Z-YYYYMMDD.N                   the newest `keep-dated` kept, and all of the last
                                                `keep-dated-months` months
  monthly    YYYY.MM                            kept for `keep-monthly-months` months (this one included)
  candidate  candidate-X.Y.Z                    removed once its build promoted (an immutable tag points at
                                                its digest), or `candidate-days` days after its build
  artifact   sha256-<hex>[.sig|.att|.sbom|...]  follows the manifest it belongs to (decided in `prune_plan`)
  cache      cache, cache-*, buildcache*        kept while the image is in the catalog, removed after
  other      anything else                      kept: prune never removes a tag the factory does not make
A tag that points at what an interrupted prune left behind (`PRUNED_KEY`) is removed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..settings.config import Settings

PRUNED_KEY = "io.baseimages.pruned"  # on the placeholder manifest that takes a tag away (see prune_apply)

_DATED = re.compile(r"^(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)-(?P<date>\d{8})\.(?P<build>\d+)$")
_MONTHLY = re.compile(r"^(?P<year>\d{4})\.(?P<month>0[1-9]|1[0-2])$")
_ROLLING = re.compile(r"^(?:latest|\d+|\d+\.\d+|\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$")
_CANDIDATE = re.compile(r"^candidate-\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
_ARTIFACT = re.compile(r"^(?P<algorithm>sha256|sha512)-(?P<hex>[0-9a-f]{64}|[0-9a-f]{128})(?:\.[A-Za-z0-9_.-]+)?$")
_CACHE = re.compile(r"^(?:build)?cache(?:[-_.].*)?$")


class TagKind(StrEnum):
    ROLLING = "rolling"
    DATED = "dated"
    MONTHLY = "monthly"
    CANDIDATE = "candidate"
    ARTIFACT = "artifact"
    CACHE = "cache"
    OTHER = "other"


@dataclass(frozen=True)
class RetentionPolicy:
    """How long `prune` keeps each kind of tag (the `retention.*` settings)."""

    keep_dated: int = 6  # the newest N dated immutable tags of an image
    keep_dated_months: int = 6  # and every dated tag of the last M months
    keep_monthly_months: int = 12  # YYYY.MM tags of the last K months, this one included
    candidate_days: int = 7  # an unpromoted candidate this many days after its build
    keep_storage: str = "10GB"  # `--local`: the BuildKit cache `docker builder prune` leaves

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            keep_dated=settings.retention_keep_dated,
            keep_dated_months=settings.retention_keep_dated_months,
            keep_monthly_months=settings.retention_keep_monthly_months,
            candidate_days=settings.retention_candidate_days,
            keep_storage=settings.retention_keep_storage,
        )


@dataclass(frozen=True)
class TagState:
    """What the registry says about one tag: its digest, the build time its manifest records, and whether
    it is a placeholder an interrupted prune left behind."""

    tag: str
    digest: str
    built: dt.datetime | None = None
    leftover: bool = False


@dataclass(frozen=True)
class Verdict:
    tag: str
    digest: str
    kind: TagKind
    keep: bool
    rule: str  # why, in words

    @property
    def subject(self) -> str | None:
        """The digest an artifact tag belongs to (`sha256-<hex>.sig` -> sha256:<hex>)."""
        match = _ARTIFACT.match(self.tag)
        return f"{match['algorithm']}:{match['hex']}" if match and self.kind is TagKind.ARTIFACT else None


def classify(tag: str) -> TagKind:
    if _DATED.match(tag) and _date(tag) is not None:
        return TagKind.DATED
    if _MONTHLY.match(tag) and int(tag[:4]) >= 2000:
        return TagKind.MONTHLY
    for kind, pattern in (
        (TagKind.ROLLING, _ROLLING),
        (TagKind.CANDIDATE, _CANDIDATE),
        (TagKind.ARTIFACT, _ARTIFACT),
        (TagKind.CACHE, _CACHE),
    ):
        if pattern.match(tag):
            return kind
    return TagKind.OTHER


def months_before(now: dt.datetime, months: int) -> dt.date:
    """The day MONTHS calendar months before NOW's (clamped to the month's last day)."""
    index = now.year * 12 + now.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(now.day, last))


def judge(
    tags: Sequence[TagState], policy: RetentionPolicy, now: dt.datetime, in_catalog: bool = True
) -> list[Verdict]:
    """The verdict on each tag of one repository. Artifact tags are kept here; whether they follow their
    subject out is decided where manifests are known (prune_plan). A repository of an image no longer in
    the catalog (IN_CATALOG false) loses only its cache refs."""
    promoted = {t.digest for t in tags if classify(t.tag) is TagKind.DATED}
    dated = _dated_keepers(tags, policy, now) if in_catalog else {}
    verdicts = []
    for state in tags:
        kind = classify(state.tag)
        if state.leftover and kind not in (TagKind.ROLLING, TagKind.OTHER):
            keep, rule = False, "a placeholder an interrupted prune left at this tag"
        elif kind is TagKind.CACHE:
            keep = in_catalog
            rule = "cache ref of a catalog image" if keep else "cache ref of an image no longer in the catalog"
        elif not in_catalog:
            keep, rule = True, "image no longer in the catalog: only its cache refs go"
        elif kind is TagKind.DATED:
            keep, rule = dated[state.tag]
        elif kind is TagKind.MONTHLY:
            keep, rule = _monthly(state.tag, policy, now)
        elif kind is TagKind.CANDIDATE:
            keep, rule = _candidate(state, state.digest in promoted, policy, now)
        elif kind is TagKind.ARTIFACT:
            keep, rule = True, "artifact: follows the manifest it belongs to"
        elif kind is TagKind.ROLLING:
            keep, rule = True, "rolling tag: always kept"
        else:
            keep, rule = True, "not a tag the factory makes: never removed"
        verdicts.append(Verdict(state.tag, state.digest, kind, keep, rule))
    return verdicts


def _date(tag: str) -> dt.date | None:
    match = _DATED.match(tag)
    if not match:
        return None
    try:
        return dt.datetime.strptime(match["date"], "%Y%m%d").date()
    except ValueError:
        return None


def _dated_keepers(tags: Sequence[TagState], policy: RetentionPolicy, now: dt.datetime) -> dict[str, tuple[bool, str]]:
    """Per dated tag: kept (among the newest N, or within M months) or removed, and the rule."""
    dated = [t.tag for t in tags if classify(t.tag) is TagKind.DATED]

    def order(tag: str) -> tuple[dt.date, int]:
        match = _DATED.match(tag)
        assert match is not None
        return _date(tag) or dt.date.min, int(match["build"])

    newest = sorted(dated, key=order, reverse=True)
    cutoff = months_before(now, policy.keep_dated_months)
    out = {}
    for rank, tag in enumerate(newest, 1):
        day = order(tag)[0]
        if rank <= policy.keep_dated:
            out[tag] = (True, f"dated: among the newest {policy.keep_dated} ({rank})")
        elif day >= cutoff:
            out[tag] = (True, f"dated: within {policy.keep_dated_months} months (since {cutoff})")
        else:
            out[tag] = (
                False,
                f"dated: not among the newest {policy.keep_dated}, older than {policy.keep_dated_months} months",
            )
    return out


def _monthly(tag: str, policy: RetentionPolicy, now: dt.datetime) -> tuple[bool, str]:
    age = (now.year * 12 + now.month) - (int(tag[:4]) * 12 + int(tag[5:]))
    if age < policy.keep_monthly_months:
        return True, f"monthly: within {policy.keep_monthly_months} months"
    return False, f"monthly: older than {policy.keep_monthly_months} months"


def _candidate(state: TagState, promoted: bool, policy: RetentionPolicy, now: dt.datetime) -> tuple[bool, str]:
    if promoted:
        return False, "candidate: its build promoted (an immutable tag points at it)"
    if state.built is None:
        return True, "candidate: not promoted, build time unknown"
    days = (now - state.built).days
    if days >= policy.candidate_days:
        return False, f"candidate: not promoted, built {days} days ago (limit {policy.candidate_days})"
    return True, f"candidate: not promoted, built {days} days ago (kept {policy.candidate_days} days)"
