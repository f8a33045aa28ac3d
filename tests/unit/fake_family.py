"""The family's tags in memory, as `dependents` reads them (a tag list per repository, a digest per tag),
and a sample service repository to read: for the tests of `dependents` and `bump`.

    family = FamilyTags()
    old = family.build("python311-uv", "1.2.3", "20260101")          # 1.2.3-20260101.1, then rolling tags
    new = family.build("python311-uv", "1.2.3", "20260301", n=2)     # moves 1.2.3, 1.2, 1, latest
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from baseimages.core.reference import Reference
from baseimages.dependents.model import Family

REGISTRY = "registry.example.com"
NAMESPACE = "team"
FAMILY = Family.of(REGISTRY, NAMESPACE)
UV = f"{REGISTRY}/{NAMESPACE}/python311-uv"


def fake_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class FamilyTags:
    by_repository: dict[str, dict[str, str]] = field(default_factory=dict)  # repository -> tag -> digest
    asked: list[str] = field(default_factory=list)  # every digest question, `repo:tag`
    listed: list[str] = field(default_factory=list)  # every tag list asked for, by repository

    def build(self, image: str, version: str, day: str, n: int = 1, rolling: bool = True) -> str:
        """A promoted build of IMAGE: its immutable tag and (ROLLING) its X.Y.Z, X.Y, X and latest."""
        digest = fake_digest(f"{image}:{version}-{day}.{n}")
        tags = self.by_repository.setdefault(f"{REGISTRY}/{NAMESPACE}/{image}", {})
        tags[f"{version}-{day}.{n}"] = digest
        if rolling:
            major, minor, _ = version.split(".")
            for tag in (version, f"{major}.{minor}", major, "latest"):
                tags[tag] = digest
        return digest

    def digest(self, ref: Reference) -> str | None:
        self.asked.append(f"{ref.repository}:{ref.tag}")
        return self.by_repository.get(ref.repository, {}).get(ref.tag or "latest")

    def tags(self, repository: Reference) -> list[str]:
        self.listed.append(repository.repository)
        return sorted(self.by_repository.get(repository.repository, {}))
