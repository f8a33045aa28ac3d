"""What `audit` found: one problem per thing that does not hold, per image, and the report."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Kind(enum.StrEnum):
    DISAGREE = "disagree"  # a rolling or monthly tag not at the newest immutable tag's digest
    MISSING = "missing"  # a rolling or monthly tag a complete promotion sets, absent
    PLATFORMS = "platforms"  # a promoted digest without every platform the catalog names
    TRUST = "trust"  # a promoted digest not signed by the key, or without a passing signed test record
    LEFTOVER = "leftover"  # a candidate older than the newest promotion


@dataclass(frozen=True)
class Problem:
    image: str
    kind: Kind
    tag: str  # the tag concerned (a promoted digest: its immutable tag)
    detail: str
    digest: str | None = None

    def line(self) -> str:
        return f"BROKEN {self.image} {self.kind.value} {self.tag}: {self.detail}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "tag": self.tag, "digest": self.digest, "detail": self.detail}


@dataclass
class ImageAudit:
    name: str
    repository: str
    tags: int = 0  # how many tags its repository has
    promoted: int = 0  # how many distinct digests its immutable tags name
    newest: str | None = None  # its newest immutable tag (of any version)
    problems: list[Problem] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "repository": self.repository,
            "tags": self.tags,
            "promoted": self.promoted,
            "newest": self.newest,
            "ok": not self.problems,
            "problems": [problem.to_dict() for problem in self.problems],
        }


@dataclass
class AuditReport:
    images: list[ImageAudit] = field(default_factory=list)
    signatures: bool = False  # whether signatures and test records were checked (a public key was given)

    @property
    def problems(self) -> list[Problem]:
        return [problem for image in self.images for problem in image.problems]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        """0 when everything holds, 1 when something is broken (a registry error is raised, exit code 3)."""
        return 0 if self.ok else 1

    def summary(self) -> str:
        tags = sum(image.tags for image in self.images)
        checked = "tags, platforms, signatures and test records" if self.signatures else "tags and platforms"
        verdict = "all holds" if self.ok else f"{len(self.problems)} problem(s)"
        return f"{len(self.images)} image(s), {tags} tag(s), {checked} checked: {verdict}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "signatures": self.signatures,
            "summary": self.summary(),
            "images": [image.to_dict() for image in self.images],
        }
