"""Each family reference against the registry: the tag line it follows, what that line promotes now,
whether the pin is behind, and what `bump` would write instead.

The tag line of an immutable tag `X.Y.Z-YYYYMMDD.N` is `X.Y.Z`; of a rolling tag, the tag itself; of a
digest, its tag when it has one, else the line of the immutable tag that names the digest (`latest`
when none does any more). A pin is behind when it names another digest than its line promotes now; a
rolling tag follows its line and is never behind. Reads only: one tag list per image, HEADs per tag.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..catalog.tags import parse_immutable
from ..core.reference import Reference, parse_reference
from ..registry.published import Promoted, TagReader, promoted, tag_of
from .model import DependentsReport, DescribeChange, Family, Pin, PinKind
from .scan import FamilyUse, family_uses, files_below


def check_dependents(
    paths: Iterable[Path],
    family: Family,
    registry: TagReader,
    describe_change: DescribeChange | None = None,
) -> DependentsReport:
    """Every reference to FAMILY in the files below PATHS, each with what REGISTRY promotes for it now.
    DESCRIBE_CHANGE, when given, writes the changelog of each behind pin (pinned -> promoted)."""
    files = files_below(paths)
    lines = _Lines(registry, family)
    pins = tuple(lines.pin(found, describe_change) for found in family_uses(files, family))
    return DependentsReport(pins, tuple(files))


def line_of(tag: str) -> str:
    """The rolling tag a tag follows: an immutable tag's X.Y.Z (or X.Y.Z-pre), any other tag itself."""
    immutable = parse_immutable(tag)
    return str(immutable.version) if immutable is not None else tag


def rewrite(text: str, tag: str | None, digest: str | None) -> str:
    """TEXT (a reference as written) with its tag and digest replaced where given, the repository part
    left as written (`python311-uv:1.0@sha256:...` keeps its form)."""
    name, at, old_digest = text.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    repository, old_tag = (name[:colon], name[colon + 1 :]) if colon > slash else (name, "")
    new_tag = tag if tag is not None and old_tag else old_tag
    new_digest = digest if digest is not None and at else old_digest
    return repository + (f":{new_tag}" if new_tag else "") + (f"@{new_digest}" if new_digest else "")


@dataclass
class _Lines:
    """The registry's answers, each asked once: tag lists per image, lines per (image, line)."""

    registry: TagReader
    family: Family
    _tags: dict[str, list[str]] = field(default_factory=dict)
    _promoted: dict[tuple[str, str], Promoted | None] = field(default_factory=dict)
    _digests: dict[str, str | None] = field(default_factory=dict)

    def tags(self, image: str) -> list[str]:
        if image not in self._tags:
            self._tags[image] = self.registry.tags(self.family.repository(image))
        return self._tags[image]

    def promoted(self, image: str, line: str) -> Promoted | None:
        if (image, line) not in self._promoted:
            repository = self.family.repository(image)
            self._promoted[image, line] = promoted(self.registry, repository, line, self.tags(image))
        return self._promoted[image, line]

    def pin(self, found: FamilyUse, describe_change: DescribeChange | None) -> Pin:
        ref = parse_reference(found.use.reference)
        line = self._line(found.image, ref)
        now = self.promoted(found.image, line)
        pinned = self._pinned_digest(found, ref, now)
        behind = found.kind is not PinKind.ROLLING and now is not None and pinned != now.digest
        pin = Pin(
            use=found.use,
            image=found.image,
            kind=found.kind,
            line=line,
            pinned_digest=pinned,
            promoted_tag=now.tag if now else None,
            promoted_digest=now.digest if now else None,
            behind=behind,
            replacement=self._replacement(found, ref, now) if behind else None,
        )
        if behind and describe_change is not None and pin.promoted_reference is not None:
            return replace(pin, changelog=describe_change(str(ref), pin.promoted_reference))
        return pin

    def _line(self, image: str, ref: Reference) -> str:
        if ref.tag:
            return line_of(ref.tag)
        if ref.digest:
            found = tag_of(self.registry, self.family.repository(image), ref.digest, self.tags(image))
            return line_of(found) if found else "latest"
        return "latest"

    def _pinned_digest(self, found: FamilyUse, ref: Reference, now: Promoted | None) -> str | None:
        """The digest the pin names: its own, or what its tag names now."""
        if ref.digest:
            return ref.digest
        if now is not None and (found.kind is PinKind.ROLLING or ref.tag == now.tag):
            return now.digest
        if str(ref) not in self._digests:
            self._digests[str(ref)] = self.registry.digest(ref)
        return self._digests[str(ref)]

    def _replacement(self, found: FamilyUse, ref: Reference, now: Promoted | None) -> str | None:
        """What bump writes instead of the use's text: the promoted immutable tag and/or digest."""
        text = found.use.text
        if text is None or now is None:
            return None
        moves_tag = ref.tag is not None and parse_immutable(ref.tag) is not None
        if moves_tag and now.tag is None:
            return None  # no immutable tag of the line names what it promotes: nothing to pin to
        return rewrite(text, now.tag if moves_tag else None, now.digest)
