"""Talking to registries over the distribution HTTP API: reads and tag moves (this module), the HTTP
transport with auth, tokens, TLS and retries (registry_http), the checks every answer passes before it
is read (registry_documents), uploads of image archives (registry_upload), and tag and repository
lists, referrers and manifest deletes (registry_listing).

Plain urllib (no Docker subprocess) so that answering "what is at this tag?" costs one HTTP request,
and so that every request is retried on its own. Docker's and buildx's registry clients retry
nothing: on a registry that drops 3 requests in 10, a whole `docker push` almost never gets through,
while per-request retries do. Transient failures (5xx, 429, timeouts, resets) are retried with
exponential backoff and jitter; 401/403/404, bad references, untrusted TLS certificates and answers
that are not what the API promises (an HTML page, a body that does not hash to its digest) fail at once.
Every failure is a RegistryError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import RegistryError
from ..core.reference import DOCKER_HUB, Reference
from ..oci.documents import INDEX_TYPES, MANIFEST_TYPES, descriptor, field_of, platform_of
from .documents import ACCEPT, Manifest, check_blob, check_manifest, parse_json
from .http import HttpClient, Response, base_url, is_local
from .listing import check_deletes, delete_manifest, list_repositories, list_tags, referrers
from .stream import StreamedBlob, open_blob
from .upload import UploadResult, put_manifest, upload_archive


@dataclass(frozen=True)
class PlatformManifest:
    platform: str
    digest: str
    compressed_size: int  # bytes: config + layers as stored in the registry
    config_digest: str


@dataclass(frozen=True)
class Attestation:
    """An attestation manifest BuildKit put in an index: for which platform manifest, of which predicates."""

    digest: str
    subject: str  # the platform manifest it describes (vnd.docker.reference.digest)
    predicate_types: tuple[str, ...]  # of its in-toto layers, e.g. https://slsa.dev/provenance/v0.2


@dataclass(frozen=True)
class ImageIndex:
    reference: str
    digest: str
    manifests: tuple[PlatformManifest, ...]
    attestations: tuple[Attestation, ...] = ()

    def predicates_for(self, platform: str) -> set[str]:
        """The predicate types attested in the index for PLATFORM's manifest."""
        manifest = self.for_platform(platform)
        if manifest is None:
            return set()
        return {t for a in self.attestations if a.subject == manifest.digest for t in a.predicate_types}

    @property
    def platforms(self) -> tuple[str, ...]:
        return tuple(m.platform for m in self.manifests)

    def for_platform(self, platform: str) -> PlatformManifest | None:
        return next((m for m in self.manifests if m.platform == platform), None)


@dataclass
class RegistryClient(HttpClient):
    """Reads, uploads and tag moves on registries; every failure is a RegistryError."""

    mirrors: tuple[str, ...] = ()  # tried first for Docker Hub references, like dockerd's registry-mirrors

    # ------------------------------------------------------------------ reads

    def digest(self, ref: Reference) -> str | None:
        """The digest REF's tag points at, or None when the tag (or repository) does not exist."""
        answer = self._manifest("HEAD", ref)
        if answer is None:
            return None
        if answer.digest:
            return answer.digest
        answer = self._manifest("GET", ref)
        return None if answer is None else answer.digest

    def summary(self, ref: Reference) -> tuple[str, dict[str, str]] | None:
        """Digest and annotations of the manifest at REF in one request; None when REF does not exist."""
        answer = self._manifest("GET", ref)
        if answer is None:
            return None
        notes = answer.doc.get("annotations") or {}  # checked: a mapping of strings
        return answer.digest, dict(notes)

    def index(self, ref: Reference) -> ImageIndex:
        """The index at REF with each platform's manifest digest and compressed size (a single image
        manifest at REF is an index of one platform, read from its config)."""
        answer = self._found(ref, self._manifest("GET", ref))
        attestations: tuple[Attestation, ...] = ()
        if answer.is_index:
            entries = [self._platform_entry(ref, entry) for entry in answer.doc["manifests"]]
            manifests = tuple(entry for entry in entries if entry is not None)
            found = [self._attestation_entry(ref, entry) for entry in answer.doc["manifests"]]
            attestations = tuple(entry for entry in found if entry is not None)
        else:
            manifests = (_platform_manifest(self._config_platform(ref, answer.doc), answer.digest, answer.doc),)
        return ImageIndex(str(ref), answer.digest, manifests, attestations)

    def blob_json(self, ref: Reference, digest: str, size: int | None = None) -> dict[str, Any]:
        """The blob DIGEST (of SIZE bytes, when known) of REF's repository, a JSON object: an image config."""
        answer, url = self._blob(ref, digest, size)
        return parse_json(answer, url, "an image config")

    def blob(self, ref: Reference, digest: str, size: int | None = None) -> bytes:
        """The bytes of the blob DIGEST of REF's repository, checked against DIGEST, read into memory: a layer
        of SIZE bytes (its descriptor's), or a document of at most 16 MiB when no size is given."""
        answer, _ = self._blob(ref, digest, size, limit=size)
        return answer.body

    def open_blob(self, ref: Reference, digest: str, size: int) -> StreamedBlob:
        """The blob DIGEST of SIZE bytes of REF's repository as a stream (a layer, never held in memory): read
        it with `read(n)`, then `finish()` it, which checks its size and digest (RegistryError otherwise).
        Mirrors come first for Docker Hub references, as for every read; close it (or use `with`)."""
        if ref.domain == DOCKER_HUB:
            for mirror in self.mirrors:
                try:
                    source = Reference(mirror, ref.path)
                    return open_blob(self, source, f"{base_url(mirror)}/v2/{ref.path}/blobs/{digest}", digest, size)
                except RegistryError:
                    continue
        return open_blob(self, ref, f"{base_url(ref.domain)}/v2/{ref.path}/blobs/{digest}", digest, size)

    def manifest(self, ref: Reference) -> Manifest | None:
        """The manifest at REF (a tag or a digest), checked: its digest, media type, bytes and document;
        None when it does not exist."""
        return self._manifest("GET", ref)

    def tags(self, repository: Reference) -> list[str]:
        """The tags of REPOSITORY, sorted (every page of the tag list); [] when it does not exist."""
        return list_tags(self, repository)

    def repositories(self, domain: str) -> list[str]:
        """The repositories of the registry at DOMAIN (every page of `/v2/_catalog`)."""
        return list_repositories(self, domain)

    def referrers(self, ref: Reference) -> list[tuple[str, str]] | None:
        """(digest, media type) of the manifests whose subject is REF (by digest); None without the API."""
        return referrers(self, ref)

    # ------------------------------------------------------------------ writes

    def put_manifest(self, ref: Reference, media_type: str, body: bytes) -> str:
        """PUT BODY as the manifest at REF (a tag or its own digest); returns its digest."""
        return put_manifest(self, ref, media_type, body)

    def copy_tags(self, source: Reference, tags: list[str]) -> None:
        """Point TAGS of SOURCE's repository at the manifest SOURCE names (by digest): the same bytes,
        PUT once per tag (what `imagetools create` does for a single source), each PUT retried.
        The bytes are checked first (a manifest that hashes to SOURCE's digest), so a garbage answer
        moves no tag."""
        answer = self._found(source, self._manifest("GET", source))
        for tag in tags:
            self.put_manifest(Reference(source.domain, source.path, tag), answer.media_type, answer.body)

    def delete_manifest(self, ref: Reference) -> bool:
        """DELETE the manifest REF names by digest (its tags go with it); False when it was gone already."""
        return delete_manifest(self, ref)

    def check_deletes(self, repository: Reference) -> None:
        """RegistryError (exit code 3) unless REPOSITORY's registry allows manifest deletes; changes nothing."""
        check_deletes(self, repository)

    def upload_archive(
        self, archive: Path, target: Reference, mount_from: tuple[str, ...] = (), jobs: int = 1
    ) -> UploadResult:
        """Upload an OCI image archive (buildx's `type=oci` output) to TARGET (repository:tag): every blob
        the archive's index reaches (JOBS at once), then the manifests, then the index at the tag.
        Blobs the registry has are skipped unread; blobs in MOUNT_FROM repositories of the same registry
        are mounted instead of uploaded."""
        return upload_archive(self, archive, target, mount_from, jobs)

    # ------------------------------------------------------------------ plumbing

    def _manifest(self, method: str, ref: Reference, size: int | None = None) -> Manifest | None:
        """The manifest at REF, checked (type, shape, digest, SIZE when known); None when not found."""
        target = ref.digest or ref.tag or "latest"

        def check(answer: Response, url: str) -> Manifest:
            manifest = check_manifest(answer, url, method, target)
            if size is not None and method == "GET" and len(answer.body) != size:
                raise RegistryError(
                    f"{url}: answered {len(answer.body)} bytes where the index lists a manifest of {size} bytes"
                )
            return manifest

        answer, url = self._read(method, ref, "manifests", target, check)
        return None if answer.status == 404 else check(answer, url)

    def _platform_entry(self, ref: Reference, entry: dict[str, Any]) -> PlatformManifest | None:
        """The platform manifest an (already checked) index entry names; None for attestations."""
        key = platform_of(entry, str(ref))
        if key is None:
            return None
        digest, size = descriptor(entry, str(ref), "an index entry")
        entry_ref = Reference(ref.domain, ref.path, None, digest)
        manifest = self._found(entry_ref, self._manifest("GET", entry_ref, size))
        if manifest.is_index:
            raise RegistryError(f"{entry_ref}: {key} is an index, expected an image manifest")
        return _platform_manifest(key, digest, manifest.doc)

    def _attestation_entry(self, ref: Reference, entry: dict[str, Any]) -> Attestation | None:
        """The attestation manifest an index entry names (BuildKit's provenance and SBOMs); None otherwise."""
        notes = entry.get("annotations") or {}
        if notes.get(ATTESTATION_TYPE_KEY) != "attestation-manifest" or not notes.get(ATTESTATION_SUBJECT_KEY):
            return None
        digest, size = descriptor(entry, str(ref), "an attestation entry")
        entry_ref = Reference(ref.domain, ref.path, None, digest)
        manifest = self._found(entry_ref, self._manifest("GET", entry_ref, size))
        types = tuple(
            str((layer.get("annotations") or {}).get(PREDICATE_TYPE_KEY, ""))
            for layer in manifest.doc.get("layers") or []
            if isinstance(layer, dict)
        )
        return Attestation(digest, str(notes[ATTESTATION_SUBJECT_KEY]), tuple(t for t in types if t))

    def _config_platform(self, ref: Reference, manifest: dict[str, Any]) -> str:
        """`os/architecture` of an image manifest, from its config blob."""
        digest, size = descriptor(manifest["config"], str(ref), "the config")
        config = self.blob_json(ref, digest, size)
        what = f"the image config {digest}"
        return f"{field_of(config, 'os', str, str(ref), what)}/{field_of(config, 'architecture', str, str(ref), what)}"

    def _blob(self, ref: Reference, digest: str, size: int | None, limit: int | None = None) -> tuple[Response, str]:
        answer, url = self._read("GET", ref, "blobs", digest, lambda a, u: check_blob(a, u, digest, size), limit)
        if answer.status == 404:
            raise RegistryError(f"{ref.repository}: blob {digest} not found")
        check_blob(answer, url, digest, size)
        return answer, url

    def _found(self, ref: Reference, answer: Manifest | None) -> Manifest:
        if answer is None:
            raise RegistryError(f"{ref}: not found in the registry")
        return answer

    def _read(
        self,
        method: str,
        ref: Reference,
        kind: str,
        target: str,
        check: Callable[[Response, str], object] | None = None,
        limit: int | None = None,
    ) -> tuple[Response, str]:
        """HEAD/GET a manifest or blob, trying dockerd's mirrors first for Docker Hub references; a mirror
        that fails, or whose answer fails CHECK, is passed over. Returns the answer and the URL asked."""
        mirrors = self.mirrors if ref.domain == DOCKER_HUB else ()
        path = f"/v2/{ref.path}/{kind}/{target}"
        headers = {"Accept": ACCEPT}
        for mirror in mirrors:
            source = Reference(mirror, ref.path)
            try:
                answer = self.call(method, source, path, expect=(200, 404), headers=headers, limit=limit)
                if answer.status != 404 and check is not None:
                    check(answer, base_url(mirror) + path)
            except RegistryError:
                continue
            if answer.status != 404:
                return answer, base_url(mirror) + path
        answer = self.call(method, ref, path, expect=(200, 404), headers=headers, limit=limit)
        return answer, base_url(ref.domain) + path


ATTESTATION_TYPE_KEY = "vnd.docker.reference.type"
ATTESTATION_SUBJECT_KEY = "vnd.docker.reference.digest"
PREDICATE_TYPE_KEY = "in-toto.io/predicate-type"


def _platform_manifest(platform: str, digest: str, manifest: dict[str, Any]) -> PlatformManifest:
    """Checked MANIFEST's compressed size: its config and layers as stored."""
    size = manifest["config"]["size"] + sum(layer["size"] for layer in manifest["layers"])
    return PlatformManifest(platform, digest, size, manifest["config"]["digest"])


__all__ = [
    "INDEX_TYPES",
    "Attestation",
    "StreamedBlob",
    "MANIFEST_TYPES",
    "ImageIndex",
    "Manifest",
    "PlatformManifest",
    "RegistryClient",
    "Response",
    "UploadResult",
    "is_local",
]
