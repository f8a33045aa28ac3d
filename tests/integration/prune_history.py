"""A year of simulated monthly builds on a real registry, made from ONE real two-platform image that the
factory built and pushed: each month gets its own index (the factory's annotations with that month's
build time), some with platform manifests of their own (copies annotated with the month, over the same
config and layers), some sharing the real ones; some with an attestation-like manifest; the dated,
monthly, rolling and candidate tags the factory uses; cosign-style signature tags; and a cache ref of an
image no longer in the catalog. Everything goes through the project's registry client.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from dataclasses import dataclass, field, replace
from typing import Any

from baseimages.catalog.fingerprint import CREATED_KEY
from baseimages.core.reference import Reference
from baseimages.oci.documents import INDEX_TYPES, MANIFEST_TYPES, digest_of
from baseimages.registry.client import RegistryClient

INDEX, MANIFEST = INDEX_TYPES[0], MANIFEST_TYPES[0]


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


def month_start(today: dt.date, months_back: int) -> dt.date:
    index = today.year * 12 + today.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass
class RealHistory:
    client: RegistryClient
    repository: Reference  # domain/path of the tiny image's repository
    index: dict[str, Any]  # the real index the factory pushed
    index_body: bytes = b""
    platform_manifests: dict[str, dict[str, Any]] = field(default_factory=dict)  # digest -> document
    bodies: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # digest -> media type, bytes as pushed

    @classmethod
    def of(cls, client: RegistryClient, repository: Reference, digest: str) -> RealHistory:
        manifest = client.manifest(replace(repository, digest=digest))
        assert manifest is not None and manifest.is_index
        history = cls(client, repository, manifest.doc, manifest.body)
        for entry in manifest.doc["manifests"]:
            child = client.manifest(replace(repository, digest=entry["digest"]))
            assert child is not None
            history.platform_manifests[entry["digest"]] = child.doc
            history.bodies[entry["digest"]] = (child.media_type, child.body)
        return history

    def put(self, doc: dict[str, Any], media_type: str, tag: str | None = None) -> str:
        body = canonical(doc)
        digest = self.client.put_manifest(replace(self.repository, digest=digest_of(body)), media_type, body)
        if tag is not None:
            self.tag(tag, digest)
        return digest

    def tag(self, tag: str, digest: str) -> None:
        self.client.copy_tags(replace(self.repository, digest=digest), [tag])

    def build(self, day: dt.date, tags: list[str], unique: bool, attestation: bool = False) -> str:
        """An index built on DAY at TAGS: the real platform manifests, or copies of its own (UNIQUE)."""
        entries = []
        for entry in self.index["manifests"]:
            if unique:
                doc = dict(self.platform_manifests[entry["digest"]])
                doc["annotations"] = {**doc.get("annotations", {}), "io.baseimages.test.built": day.isoformat()}
                body_digest = self.put(doc, entry["mediaType"])
                entry = {**entry, "digest": body_digest, "size": len(canonical(doc))}
            entries.append(entry)
        if attestation:
            entries.append(self._attestation(entries[0], day))
        notes = {**self.index.get("annotations", {}), CREATED_KEY: f"{day.isoformat()}T00:00:00Z"}
        digest = self.put({**self.index, "manifests": entries, "annotations": notes}, INDEX)
        for tag in tags:
            self.tag(tag, digest)
        return digest

    def sign(self, subject: str, note: str) -> str:
        """A signature-like manifest of SUBJECT at the cosign scheme's tag sha256-<hex>.sig."""
        doc = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": self._config_of_first(),
            "layers": [],
            "annotations": {"dev.cosignproject.cosign/signature": f"not a real signature: {note}"},
        }
        return self.put(doc, MANIFEST, subject.replace(":", "-") + ".sig")

    def children(self, digest: str) -> list[str]:
        manifest = self.client.manifest(replace(self.repository, digest=digest))
        assert manifest is not None
        return [entry["digest"] for entry in manifest.doc.get("manifests", [])]

    def _attestation(self, subject_entry: dict[str, Any], day: dt.date) -> dict[str, Any]:
        notes = {
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": subject_entry["digest"],
        }
        doc = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "config": self._config_of_first(),
            "layers": [],
            "annotations": {**notes, "io.baseimages.test.built": day.isoformat()},
        }
        digest = self.put(doc, MANIFEST)
        return {
            "mediaType": MANIFEST,
            "digest": digest,
            "size": len(canonical(doc)),
            "annotations": notes,
            "platform": {"os": "unknown", "architecture": "unknown"},
        }

    def _config_of_first(self) -> dict[str, Any]:
        first = self.index["manifests"][0]["digest"]
        return dict(self.platform_manifests[first]["config"])


def push_blob(client: RegistryClient, repository: Reference, body: bytes) -> dict[str, Any]:
    """Upload BODY as a blob of REPOSITORY (POST, then a monolithic PUT); its descriptor."""
    path = f"/v2/{repository.path}/blobs/uploads/"
    answer = client.call("POST", repository, path, scope="pull,push", expect=(202,))
    location = answer.headers["location"]
    digest = digest_of(body)
    url = f"{location}{'&' if '?' in location else '?'}digest={urllib.parse.quote(digest)}"
    headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(body))}
    client.call("PUT", repository, url, body=body, headers=headers, scope="pull,push", expect=(201,))
    return {"mediaType": "application/vnd.buildkit.cacheconfig.v0", "digest": digest, "size": len(body)}


def mount_blob(client: RegistryClient, repository: Reference, digest: str, source: str) -> None:
    query = urllib.parse.urlencode({"mount": digest, "from": source})
    path = f"/v2/{repository.path}/blobs/uploads/?{query}"
    client.call("POST", repository, path, scope="pull,push", expect=(201,))


def retired_image(history: RealHistory, repository: Reference) -> tuple[str, str]:
    """REPOSITORY (an image no longer in the catalog) with the real index at `1.0.0` and a BuildKit cache
    ref at `cache-linux-amd64` (an image manifest whose config is a cache config); their digests."""
    client = history.client
    for doc in history.platform_manifests.values():
        for blob in [doc["config"], *doc["layers"]]:
            mount_blob(client, repository, blob["digest"], history.repository.path)
    for digest, (media_type, body) in history.bodies.items():
        client.put_manifest(replace(repository, digest=digest), media_type, body)
    index_type = str(history.index.get("mediaType") or INDEX)
    release = client.put_manifest(replace(repository, tag="1.0.0"), index_type, history.index_body)
    retired = RealHistory(client, repository, history.index)
    first = next(iter(history.platform_manifests.values()))
    cache_config = push_blob(client, repository, canonical({"layers": [], "records": [], "test": "cache"}))
    cache = {"schemaVersion": 2, "mediaType": MANIFEST, "config": cache_config, "layers": first["layers"]}
    return release, retired.put(cache, MANIFEST, "cache-linux-amd64")
