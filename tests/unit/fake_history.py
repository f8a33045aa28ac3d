"""A repository's history of builds in the fake registry, for the prune tests: indexes with the factory's
annotations and tags, some sharing their platform manifests, some with attestations and signatures.

    history = History(registry, "team/uv")
    first = history.build("2026-01-01", ["1.0.0-20260101.1", "2026.01"], attestation=True)
    again = history.build("2026-05-01", ["1.0.0-20260501.1"], like=first)   # the same platform manifests
    history.sign(first)                                                       # tag sha256-<hex>.sig
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from fake_image import INDEX_TYPE, MANIFEST_TYPE, FakeImage, canonical_json, make_image, sha256
from fake_registry import FakeRegistry

from baseimages.catalog.fingerprint import CREATED_KEY


def reindex(image: FakeImage, annotations: dict[str, str]) -> FakeImage:
    """IMAGE's platform manifests (and blobs) under a new index carrying ANNOTATIONS: another digest."""
    index = json.loads(image.index)
    index["annotations"] = annotations
    return FakeImage(canonical_json(index), dict(image.manifests), dict(image.blobs), image.platforms)


@dataclass
class History:
    registry: FakeRegistry
    repo: str
    images: dict[str, FakeImage] = field(default_factory=dict)  # index digest -> image

    def build(
        self,
        day: str,
        tags: list[str],
        like: str | None = None,
        attestation: bool = False,
        created: bool = True,
    ) -> str:
        """One build of DAY (YYYY-MM-DD) at TAGS: new platform manifests, or those of build LIKE."""
        notes = {CREATED_KEY: f"{day}T00:00:00Z"} if created else {"io.test.build": day}
        if like is not None:
            image = reindex(self.images[like], notes)
        else:
            image = make_image(f"{self.repo}@{day}", annotations=notes, attestation=attestation)
        digest = self.registry.preload(self.repo, image)
        for tag in tags:
            self.tag(tag, digest)
        self.images[digest] = image
        return digest

    def tag(self, tag: str, digest: str) -> None:
        self.registry.tags.setdefault(self.repo, {})[tag] = digest

    def artifact(self, subject: str, suffix: str = ".sig", with_subject: bool = False) -> str:
        """A signature-like manifest of SUBJECT, tagged the cosign way (sha256-<hex>.sig); with WITH_SUBJECT
        it names SUBJECT as its `subject` (what the referrers API lists) and is not tagged."""
        config = canonical_json({"signature of": subject, "suffix": suffix})
        self.registry.add_blob(self.repo, config)
        doc: dict[str, object] = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(config),
                "size": len(config),
            },
            "layers": [],
        }
        if with_subject:
            doc["subject"] = {"mediaType": INDEX_TYPE, "digest": subject, "size": 1}
            doc["artifactType"] = "application/vnd.example.sbom"
        digest = self.registry.add_manifest(self.repo, canonical_json(doc))
        if not with_subject:
            self.tag(subject.replace(":", "-") + suffix, digest)
        return digest

    def children(self, digest: str) -> list[str]:
        return [entry["digest"] for entry in json.loads(self.images[digest].index)["manifests"]]

    def has(self, digest: str) -> bool:
        return digest in self.registry.manifests.get(self.repo, {})

    def tags(self) -> dict[str, str]:
        return dict(self.registry.tags.get(self.repo, {}))

    def whole(self, tag: str) -> bool:
        """The tag exists and its index and every manifest it lists are in the repository."""
        digest = self.tags().get(tag)
        if digest is None or not self.has(digest):
            return False
        media_type, body = self.registry.manifests[self.repo][digest]
        if media_type != INDEX_TYPE:
            return True
        return all(self.has(entry["digest"]) for entry in json.loads(body)["manifests"])


NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
