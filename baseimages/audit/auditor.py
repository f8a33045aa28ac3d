"""`audit`: for every image of the plan, every tag its repository holds, checked against what promotion
promises. Reads only.

- The rolling and monthly tags agree with the newest immutable tag (per version, as `catalog.tags.
  following` says which tags follow which; each monthly tag names the newest build of its month): a tag
  elsewhere is a promotion cut short (`disagree`), a tag a complete promotion sets and that is absent
  is `missing`.
- Each promoted digest (one an immutable tag names) has every platform the catalog names (`platforms`).
- With the publisher's public key: each promoted digest is signed by it and carries a signed test record
  that says every platform passed, checked as `verify` checks them (`trust`).
- A candidate tag older than the newest promotion (of its version), or at a digest that promoted and is
  not that newest one, is a `leftover` (what a killed or failed run leaves; `prune` removes it). The
  candidate of the newest promotion is what every push leaves: not reported.

Registry errors are raised (RegistryError, exit code 3); what does not hold is a Problem of the report.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

from ..catalog.changes import parse_time
from ..catalog.fingerprint import CREATED_KEY
from ..catalog.plan import Plan, PlannedImage
from ..catalog.tags import Immutable, following, parse_immutable
from ..core.errors import ConfigError
from ..core.reference import parse_reference
from ..registry.client import RegistryClient
from ..trust.signing import Cosign
from ..trust.verify import promotion_failures
from .model import AuditReport, ImageAudit, Kind, Problem

_MONTHLY = re.compile(r"^\d{4}\.(?:0[1-9]|1[0-2])$")
CANDIDATE_PREFIX = "candidate-"


def audit(
    plan: Plan,
    registry: RegistryClient,
    public_key: Path | None = None,
    cosign: Cosign | None = None,
    on_image: Callable[[ImageAudit], None] | None = None,
) -> AuditReport:
    """Audit every image of PLAN in REGISTRY; with PUBLIC_KEY, signatures and test records too (through
    COSIGN, default: the `cosign` on PATH). ON_IMAGE receives each image's audit as it is done."""
    if public_key is not None and not public_key.is_file():
        raise ConfigError("--key", str(public_key), "no such file (the publisher's cosign public key)")
    report = AuditReport(signatures=public_key is not None)
    for image in plan.images:
        found = _Repository(registry, image).audit(public_key, cosign or Cosign())
        report.images.append(found)
        if on_image is not None:
            on_image(found)
    return report


class _Repository:
    """One image's repository: its tags, listed once, and each tag's digest, read once."""

    def __init__(self, registry: RegistryClient, image: PlannedImage) -> None:
        self.registry = registry
        self.image = image
        self.name = image.repository
        self.tags = registry.tags(parse_reference(self.name))
        self.dated = sorted(found for found in map(parse_immutable, self.tags) if found is not None)
        self._digests: dict[str, str | None] = {}

    def digest(self, tag: str) -> str | None:
        if tag not in self.tags:
            return None
        if tag not in self._digests:
            self._digests[tag] = self.registry.digest(parse_reference(f"{self.name}:{tag}"))
        return self._digests[tag]

    def problem(self, kind: Kind, tag: str, detail: str, digest: str | None = None) -> Problem:
        return Problem(self.image.name, kind, tag, detail, digest)

    def audit(self, public_key: Path | None, cosign: Cosign) -> ImageAudit:
        result = ImageAudit(self.image.name, self.name, tags=len(self.tags))
        if not self.dated:
            return result  # never promoted: nothing to hold, and no candidate is older than a promotion
        result.newest = self.dated[-1].tag
        result.problems += self.agreement()
        promoted: dict[str, str] = {}  # digest -> the newest immutable tag that names it
        for found in reversed(self.dated):
            digest = self.digest(found.tag)
            if digest is not None:
                promoted.setdefault(digest, found.tag)
        result.promoted = len(promoted)
        for digest, tag in promoted.items():
            result.problems += self.promoted(digest, tag, public_key, cosign)
        result.problems += self.leftovers(promoted)
        return result

    def agreement(self) -> list[Problem]:
        """Each tag that must follow an immutable tag and does not."""
        problems = []
        for tag, newest in self.expected().items():
            now, target = self.digest(tag), self.digest(newest.tag)
            if target is None:
                continue
            if now is None:
                detail = f"absent; a complete promotion of {newest.tag} sets it"
                problems.append(self.problem(Kind.MISSING, tag, detail))
            elif now != target:
                detail = f"names {_short(now)}, not {newest.tag} ({_short(target)}): a promotion cut short"
                problems.append(self.problem(Kind.DISAGREE, tag, detail, now))
        return problems

    def expected(self) -> dict[str, Immutable]:
        """Tag -> the immutable tag whose digest it must name: each version's rolling tags, each month's."""
        expected: dict[str, Immutable] = {}
        for version in sorted({found.version for found in self.dated}):
            followed = following(str(version), self.tags)
            if followed is not None:
                expected.update(dict.fromkeys(followed[1], followed[0]))
        for tag in filter(_MONTHLY.match, self.tags):
            month = [found for found in self.dated if found.month == tag and not found.version.prerelease]
            if month:
                expected[tag] = max(month)
        return expected

    def promoted(self, digest: str, tag: str, public_key: Path | None, cosign: Cosign) -> list[Problem]:
        """DIGEST (named by the immutable TAG) has every platform of the catalog; with PUBLIC_KEY, its
        signature and a passing signed test record."""
        index = self.registry.index(parse_reference(f"{self.name}@{digest}"))
        problems = []
        missing = [p for p in self.image.spec.platforms if p not in index.platforms]
        if missing:
            detail = f"{_short(digest)} lacks {', '.join(missing)} (it has {', '.join(index.platforms) or 'none'})"
            problems.append(self.problem(Kind.PLATFORMS, tag, detail, digest))
        if public_key is not None:
            for failure in promotion_failures(cosign, f"{self.name}@{digest}", public_key, index):
                problems.append(self.problem(Kind.TRUST, tag, failure, digest))
        return problems

    def leftovers(self, promoted: dict[str, str]) -> list[Problem]:
        """Candidate tags left behind: at a digest that promoted but is not its version's newest promotion,
        or built before the day of that promotion (of the image's newest, for a version never promoted).
        A candidate at its version's newest promotion is what every push leaves (`prune` removes it)."""
        by_time = max(self.dated, key=lambda found: (found.day, found.build))
        problems = []
        for tag in (tag for tag in self.tags if tag.startswith(CANDIDATE_PREFIX)):
            own = [found for found in self.dated if str(found.version) == tag.removeprefix(CANDIDATE_PREFIX)]
            newest = max(own) if own else by_time
            summary = self.registry.summary(parse_reference(f"{self.name}:{tag}"))
            if summary is None or (own and summary[0] == self.digest(newest.tag)):
                continue
            digest, notes = summary
            built = parse_time(notes.get(CREATED_KEY, ""))
            since = dt.datetime(newest.day.year, newest.day.month, newest.day.day, tzinfo=dt.UTC)
            if digest in promoted:
                detail = f"{_short(digest)} promoted as {promoted[digest]}, not the newest {newest.tag}: left over"
            elif built is not None and built < since:
                detail = f"built {built:%Y-%m-%d}, before the newest promotion {newest.tag}: left over"
            else:
                continue
            problems.append(self.problem(Kind.LEFTOVER, tag, detail, digest))
        return problems


def _short(digest: str) -> str:
    return digest[: len("sha256:") + 12]
