"""What `dependents` finds and says: a reference to a family image in a service repository (`Use`), how
it is pinned (`PinKind`), and what the registry promotes for it now (`Pin`, `DependentsReport`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..core.reference import Reference, parse_reference

DescribeChange = Callable[[str, str], str]
"""The changelog between two references (the pinned one, the promoted one), as text: what a behind pin
misses. `dependents` and `bump` take one, and show nothing of the kind without it."""


class PinKind(StrEnum):
    ROLLING = "rolling"  # a tag that moves on promotion (X.Y.Z, X.Y, X, latest, YYYY.MM) or none at all
    IMMUTABLE = "immutable"  # X.Y.Z-YYYYMMDD.N: never moves
    DIGEST = "digest"  # @sha256:..., with or without a tag in front


@dataclass(frozen=True)
class Use:
    """One reference to an image found in a file: FILE and LINE where its text is, TEXT as written there
    (None when the reference is assembled from parts, e.g. `repo:${TAG}`: nothing to rewrite in place),
    REFERENCE what it resolves to, and WHERE in the file (`FROM`, `ARG BASE`, `target app: args.BASE`...)."""

    file: Path
    line: int
    text: str | None
    reference: str
    where: str

    @property
    def key(self) -> tuple[str, int, str]:
        return (str(self.file), self.line, self.text if self.text is not None else self.reference)


@dataclass(frozen=True)
class Family:
    """The family's repositories: every `registry/namespace/<name>`, compared as normalised references."""

    domain: str
    namespace: str  # the path before the image name; "" for none

    @classmethod
    def of(cls, registry: str, namespace: str) -> Family:
        probe = parse_reference("/".join(p for p in (registry, namespace, "x") if p))
        return cls(probe.domain, probe.path.rpartition("/")[0])

    def image(self, ref: Reference) -> str | None:
        """The family image REF names, or None when it names another repository."""
        parent, _, name = ref.path.rpartition("/")
        return name if ref.domain == self.domain and parent == self.namespace else None

    def repository(self, image: str) -> Reference:
        return Reference(self.domain, f"{self.namespace}/{image}" if self.namespace else image)


def pin_kind(ref: Reference, immutable: Callable[[str], bool]) -> PinKind:
    if ref.digest:
        return PinKind.DIGEST
    return PinKind.IMMUTABLE if ref.tag and immutable(ref.tag) else PinKind.ROLLING


@dataclass(frozen=True)
class Pin:
    """A family reference and what the registry says of it now.

    LINE is the rolling tag it follows (an immutable tag's X.Y.Z, a rolling tag itself, the tag of a digest
    pin or the line of the build its digest names); PROMOTED_TAG and PROMOTED_DIGEST what that line
    promotes now (None: the registry holds nothing of it); BEHIND whether the pin names another digest
    (never for a rolling tag: it follows its line); REPLACEMENT the text `bump` writes instead of the
    use's text, None when it leaves it alone."""

    use: Use
    image: str
    kind: PinKind
    line: str
    pinned_digest: str | None
    promoted_tag: str | None
    promoted_digest: str | None
    behind: bool
    replacement: str | None = None
    changelog: str | None = None

    @property
    def promoted_reference(self) -> str | None:
        """The promoted build as a full reference, `repository:tag@digest`."""
        if self.promoted_digest is None:
            return None
        ref = parse_reference(self.use.reference)
        tag = self.promoted_tag or self.line
        return str(Reference(ref.domain, ref.path, tag, self.promoted_digest))

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.use.file),
            "line": self.use.line,
            "text": self.use.text,
            "reference": self.use.reference,
            "where": self.use.where,
            "image": self.image,
            "pin": self.kind.value,
            "tag_line": self.line,
            "pinned_digest": self.pinned_digest,
            "promoted": None
            if self.promoted_digest is None
            else {"tag": self.promoted_tag, "digest": self.promoted_digest},
            "behind": self.behind,
            "bump_to": self.replacement,
            "changelog": self.changelog,
        }

    def lines(self) -> list[str]:
        """What `dependents` prints for this pin: where, what, and its state."""
        use = self.use
        head = f"{use.file}:{use.line}: {use.text or use.reference} ({self.kind.value}, {use.where})"
        now = f"{self.promoted_tag or '(no immutable tag)'} {self.promoted_digest}"
        if self.promoted_digest is None:
            state = f"unknown: the registry holds nothing of {self.image}:{self.line}"
        elif self.kind is PinKind.ROLLING:
            state = f"follows {self.line}: now {now}"
        elif self.behind:
            state = f"BEHIND {self.line}: promoted now {now}"
        else:
            state = f"current: {self.line} promotes {self.promoted_tag or self.promoted_digest}"
        out = [head, f"  {state}"]
        if self.behind and self.use.text is None:
            out.append("  assembled from build arguments: bump cannot rewrite it in place")
        if self.changelog:
            out.extend(f"    {line}" for line in self.changelog.splitlines())
        return out


@dataclass(frozen=True)
class DependentsReport:
    pins: tuple[Pin, ...]
    files: tuple[Path, ...]  # every file read

    @property
    def behind(self) -> tuple[Pin, ...]:
        return tuple(p for p in self.pins if p.behind)

    def summary(self) -> str:
        return f"{len(self.pins)} references to the family in {len(self.files)} files read, {len(self.behind)} behind"

    def lines(self) -> list[str]:
        return [line for pin in self.pins for line in pin.lines()] + [self.summary()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "pins": [p.to_dict() for p in self.pins],
            "files": [str(f) for f in self.files],
            "total": len(self.pins),
            "behind": len(self.behind),
        }
