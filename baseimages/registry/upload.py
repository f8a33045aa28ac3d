"""Uploading an OCI image archive (buildx's OCI output) over the distribution API, and manifest PUTs.

Every blob the archive's index reaches is uploaded once (POST then a monolithic PUT streamed from the
archive), skipped when the registry has it (HEAD first: such a blob is never read), or mounted from a
repository of the same registry that has it. Blobs go up a few at once (`upload-jobs`), each request
retried on its own; the first blob that fails stops the others, and its error is the upload's. Then
each platform's manifest by digest, then the index at the target tag: the tag moves last.
"""

from __future__ import annotations

import tarfile
import threading
import urllib.parse
from collections import Counter
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import RegistryError
from ..core.reference import Reference
from ..oci.archive import OciArchive, open_archive
from ..oci.documents import descriptor, digest_of, field_of
from .http import HttpClient, Response


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


def upload_archive(
    http: HttpClient, archive: Path, target: Reference, mount_from: tuple[str, ...], jobs: int = 1
) -> UploadResult:
    """Upload ARCHIVE to TARGET (repository:tag): its blobs, JOBS at once, then its manifests, then the
    index at the tag."""
    try:
        with open_archive(archive) as tar:
            return _upload(http, OciArchive(archive, tar), target, mount_from, jobs)
    except (tarfile.TarError, OSError) as exc:
        raise RegistryError(f"{archive}: cannot read the image archive: {exc}") from None


def _upload(
    http: HttpClient, archive: OciArchive, target: Reference, mount_from: tuple[str, ...], jobs: int
) -> UploadResult:
    top_digest, top_type, index_body, manifests = archive.image()
    blobs: dict[str, int] = {}  # digest -> size, in the order the manifests list them
    for digest, _, body in manifests:
        manifest = archive.json(digest, body)
        where, what = str(archive.path), f"manifest {digest}"
        for blob in [field_of(manifest, "config", dict, where, what), *field_of(manifest, "layers", list, where, what)]:
            blob_digest, size = descriptor(blob, where, f"a blob of {what}")
            archive.member(blob_digest, size)  # every blob is in the archive before any request is sent
            blobs.setdefault(blob_digest, size)
    counts = Counter(_upload_blobs(http, archive, target, blobs, mount_from, jobs))
    for digest, media_type, body in manifests:
        put_manifest(http, Reference(target.domain, target.path, None, digest), media_type, body)
    digest = put_manifest(http, target, top_type, index_body)
    if digest != top_digest:
        raise RegistryError(f"{target}: the registry stored {digest}, expected {top_digest}")
    return UploadResult(digest, counts["uploaded"], counts["present"], counts["mounted"])


def _upload_blobs(
    http: HttpClient,
    archive: OciArchive,
    repo: Reference,
    blobs: dict[str, int],
    mount_from: tuple[str, ...],
    jobs: int,
) -> list[str]:
    """Make every blob of BLOBS present in REPO, JOBS at once, the largest first (the upload lasts at
    least as long as its largest blob: started last, it would run alone at the end); how each got
    there. The first failure stops the others (no new request, no next chunk of a body, no next
    attempt) and is raised."""
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, len(blobs))), thread_name_prefix="upload")
    try:
        futures = [
            pool.submit(_upload_blob, http, repo, digest, size, archive, mount_from, stop)
            for digest, size in sorted(blobs.items(), key=lambda blob: -blob[1])  # the largest first
        ]
        wait(futures, return_when=FIRST_EXCEPTION)
        failed = (f.exception() for f in futures if f.done() and not f.cancelled())
        error = next((exc for exc in failed if exc is not None), None)
        if error is not None:
            stop.set()
            raise error
        return [future.result() for future in futures]
    finally:
        stop.set()  # also when this thread is interrupted: the workers stop too
        pool.shutdown(wait=True, cancel_futures=True)


def _upload_blob(
    http: HttpClient,
    repo: Reference,
    digest: str,
    size: int,
    archive: OciArchive,
    mount_from: tuple[str, ...],
    stop: threading.Event,
) -> str:
    """Make DIGEST present in REPO: 'present' (it was), 'mounted' (from a MOUNT_FROM repository) or
    'uploaded' (read from ARCHIVE only then). Every request gives up once STOP is set."""
    path = f"/v2/{repo.path}/blobs/"
    head = http.call("HEAD", repo, path + digest, scope="pull,push", expect=(200, 404), cancel=stop)
    if head.status == 200:
        _check_present(head, repo, digest, size)
        return "present"
    location = ""
    for source in mount_from:
        query = urllib.parse.urlencode({"mount": digest, "from": source})
        answer = http.call("POST", repo, f"{path}uploads/?{query}", scope="pull,push", expect=(201, 202), cancel=stop)
        if answer.status == 201:
            return "mounted"
        location = answer.headers.get("location", "")  # not mounted: the upload session it opened instead
    # A monolithic upload (POST, then PUT). A PUT the registry rejects for a broken session starts over.
    for _ in range(3):
        if not location:
            answer = http.call("POST", repo, f"{path}uploads/", scope="pull,push", expect=(202,), cancel=stop)
            location = answer.headers.get("location", "")
            if not location:
                raise RegistryError(f"{repo.domain}: POST {path}uploads/ opened no upload session (no Location)")
        sep = "&" if "?" in location else "?"
        try:
            http.call(
                "PUT",
                repo,
                f"{location}{sep}digest={urllib.parse.quote(digest)}",
                body=lambda: archive.stream(digest, size, stop),
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
                scope="pull,push",
                expect=(201,),
                cancel=stop,
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
