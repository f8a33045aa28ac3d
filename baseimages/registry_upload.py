"""Uploading an OCI image archive (buildx's OCI output) over the distribution API, and manifest PUTs.

Every blob the archive's index reaches is uploaded once (POST then a monolithic PUT), skipped when
the registry has it, or mounted from a repository of the same registry that has it; then each
platform's manifest by digest; then the index at the target tag. Each request is retried on its own.
"""

from __future__ import annotations

import tarfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import RegistryError
from .reference import Reference
from .registry_documents import descriptor, digest_of, field_of, parse_json, platform_of
from .registry_http import HttpClient, Response


@dataclass(frozen=True)
class UploadResult:
    digest: str
    blobs_uploaded: int
    blobs_present: int
    blobs_mounted: int


def put_manifest(http: HttpClient, ref: Reference, media_type: str, body: bytes) -> str:
    """PUT BODY as the manifest at REF (a tag or its own digest); returns its digest, checked against
    the one the registry says it stored."""
    target = ref.tag or ref.digest
    answer = http.call(
        "PUT",
        ref,
        f"/v2/{ref.path}/manifests/{target}",
        body=body,
        headers={"Content-Type": media_type},
        scope="pull,push",
        expect=(201, 200),
    )
    digest = digest_of(body)
    stored = answer.headers.get("docker-content-digest")
    if stored and stored.startswith("sha256:") and stored != digest:
        raise RegistryError(f"{ref.domain}: PUT of manifest {digest} at {ref} answered that it stored {stored}")
    return digest


class _Archive:
    """The blobs of an open `docker image save` archive, by digest."""

    def __init__(self, path: Path, tar: tarfile.TarFile) -> None:
        self.path = path
        self.tar = tar
        self.members = {m.name: m for m in tar.getmembers() if m.isfile()}

    def member(self, digest: str, size: int | None = None) -> tarfile.TarInfo:
        member = self.members.get(f"blobs/{digest.replace(':', '/', 1)}")
        if member is None:
            raise RegistryError(f"{self.path}: blob {digest} is missing from the archive")
        if size is not None and member.size != size:
            raise RegistryError(f"{self.path}: blob {digest} has {member.size} bytes in the archive, not {size}")
        return member

    def opener(self, digest: str, size: int) -> Callable[[], IO[bytes]]:
        member = self.member(digest, size)
        return lambda: self._open(member)

    def read(self, digest: str) -> bytes:
        return self._open(self.member(digest)).read()

    def json(self, name: str, body: bytes) -> dict[str, Any]:
        return parse_json(Response(200, {}, body), f"{self.path}: {name}", "a JSON document")

    def image(self) -> tuple[str, str, bytes, list[tuple[str, str, bytes]]]:
        """The digest, media type and body of the archive's image index, and (digest, media type, body)
        of each manifest it lists."""
        where = str(self.path)
        if "index.json" not in self.members:
            raise RegistryError(f"{where}: no index.json; not an OCI image archive")
        layout = self.json("index.json", self._open(self.members["index.json"]).read())
        entries = field_of(layout, "manifests", list, where, "index.json")
        if not entries:
            raise RegistryError(f"{where}: index.json lists no image")
        top_digest, _ = descriptor(entries[0], where, "index.json's image")
        top_type = field_of(entries[0], "mediaType", str, where, "index.json's image")
        index_body = self.read(top_digest)
        manifests = []
        for number, entry in enumerate(field_of(self.json(top_digest, index_body), "manifests", list, where, "index")):
            digest, _ = descriptor(entry, where, f"index entry {number}")
            media_type = field_of(entry, "mediaType", str, where, f"index entry {number}")
            manifests.append((digest, media_type, self.read(digest)))
        return top_digest, top_type, index_body, manifests

    def _open(self, member: tarfile.TarInfo) -> IO[bytes]:
        handle = self.tar.extractfile(member)
        if handle is None:
            raise RegistryError(f"{self.path}: {member.name} is not a file")
        return handle


def archive_index(archive: Path) -> tuple[str, dict[str, str]]:
    """The digest of ARCHIVE's image index and its platform manifests by platform (attestations left out)."""
    try:
        with tarfile.open(archive) as tar:
            image = _Archive(archive, tar)
            top_digest, _, index_body, _ = image.image()
            entries = field_of(image.json(top_digest, index_body), "manifests", list, str(archive), "index")
    except (tarfile.TarError, OSError) as exc:
        raise RegistryError(f"{archive}: cannot read the image archive: {exc}") from None
    platforms = {}
    for entry in entries:
        platform = platform_of(entry, str(archive))
        if platform is not None:
            platforms[platform] = descriptor(entry, str(archive), "an index entry")[0]
    return top_digest, platforms


def upload_archive(http: HttpClient, archive: Path, target: Reference, mount_from: tuple[str, ...]) -> UploadResult:
    """Upload ARCHIVE to TARGET (repository:tag): its blobs, then its manifests, then the index at the tag."""
    try:
        with tarfile.open(archive) as tar:
            return _upload(http, _Archive(archive, tar), target, mount_from)
    except (tarfile.TarError, OSError) as exc:
        raise RegistryError(f"{archive}: cannot read the image archive: {exc}") from None


def _upload(http: HttpClient, archive: _Archive, target: Reference, mount_from: tuple[str, ...]) -> UploadResult:
    top_digest, top_type, index_body, manifests = archive.image()
    counts = {"uploaded": 0, "present": 0, "mounted": 0}
    seen: set[str] = set()
    for digest, _, body in manifests:
        manifest = archive.json(digest, body)
        where, what = str(archive.path), f"manifest {digest}"
        for blob in [field_of(manifest, "config", dict, where, what), *field_of(manifest, "layers", list, where, what)]:
            blob_digest, size = descriptor(blob, where, f"a blob of {what}")
            if blob_digest not in seen:
                seen.add(blob_digest)
                how = _upload_blob(http, target, blob_digest, size, archive.opener(blob_digest, size), mount_from)
                counts[how] += 1
    for digest, media_type, body in manifests:
        put_manifest(http, Reference(target.domain, target.path, None, digest), media_type, body)
    digest = put_manifest(http, target, top_type, index_body)
    if digest != top_digest:
        raise RegistryError(f"{target}: the registry stored {digest}, expected {top_digest}")
    return UploadResult(digest, counts["uploaded"], counts["present"], counts["mounted"])


def _upload_blob(
    http: HttpClient,
    repo: Reference,
    digest: str,
    size: int,
    open_body: Callable[[], IO[bytes]],
    mount_from: tuple[str, ...],
) -> str:
    """Make DIGEST present in REPO: 'present' (it was), 'mounted' (from a MOUNT_FROM repository) or 'uploaded'."""
    path = f"/v2/{repo.path}/blobs/"
    head = http.call("HEAD", repo, path + digest, scope="pull,push", expect=(200, 404))
    if head.status == 200:
        _check_present(head, repo, digest, size)
        return "present"
    location = ""
    for source in mount_from:
        query = urllib.parse.urlencode({"mount": digest, "from": source})
        answer = http.call("POST", repo, f"{path}uploads/?{query}", scope="pull,push", expect=(201, 202))
        if answer.status == 201:
            return "mounted"
        location = answer.headers.get("location", "")  # not mounted: the upload session it opened instead
    # A monolithic upload (POST, then PUT). A PUT the registry rejects for a broken session starts over.
    for _ in range(3):
        if not location:
            answer = http.call("POST", repo, f"{path}uploads/", scope="pull,push", expect=(202,))
            location = answer.headers.get("location", "")
            if not location:
                raise RegistryError(f"{repo.domain}: POST {path}uploads/ opened no upload session (no Location)")
        sep = "&" if "?" in location else "?"
        try:
            http.call(
                "PUT",
                repo,
                f"{location}{sep}digest={urllib.parse.quote(digest)}",
                body=open_body,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                scope="pull,push",
                expect=(201,),
            )
            return "uploaded"
        except RegistryError as exc:
            if exc.status not in (400, 404):  # other than "that upload session is gone"
                raise
            location = ""
    raise RegistryError(f"{repo.domain}: upload of {digest} to {repo.path} kept failing (HTTP 400/404 on PUT)")


def _check_present(head: Response, repo: Reference, digest: str, size: int) -> None:
    """A blob HEAD that says 'present' must describe that blob (a proxy answering 200 to anything does not)."""
    claimed = head.headers.get("docker-content-digest")
    length = head.headers.get("content-length", "")
    if (claimed and claimed != digest) or (length.isdigit() and int(length) != size):
        raise RegistryError(
            f"{repo.domain}: HEAD of blob {digest} ({size} bytes) in {repo.path} answered 200 for "
            f"{claimed or 'a blob'} of {length or '?'} bytes; a proxy may be in the way"
        )
