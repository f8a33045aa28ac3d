"""Reading an OCI image archive (buildx's `type=oci` output, an uncompressed tar): its image index,
the manifests the index lists, and each blob as a stream of its own.

The tar's table of contents is read once. A blob is then read straight from the file at its member's
data offset, through a file handle of its own, in chunks: so any number of threads can each stream a
blob (a TarFile is not thread-safe), and no blob is ever held in memory whole.
"""

from __future__ import annotations

import shutil
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..core.errors import Abandoned, BuildError, RegistryError
from .documents import descriptor, field_of, json_object, platform_of

CHUNK = 1024 * 1024  # bytes per read of a blob: what one socket send gets


class BlobStream:
    """SIZE bytes of PATH from OFFSET, as chunks of at most CHUNK bytes; read once, then closed.

    An iterable, not a file: http.client sends an iterable's chunks as they are, where it would read a
    file 8 KiB at a time. With STOP set, the next chunk raises Abandoned (the upload gave up)."""

    def __init__(self, path: Path, name: str, offset: int, size: int, stop: threading.Event | None = None) -> None:
        self.path, self.name, self.size, self.stop = path, name, size, stop
        self._file = path.open("rb")
        self._file.seek(offset)

    def __iter__(self) -> Iterator[bytes]:
        left = self.size
        while left:
            if self.stop is not None and self.stop.is_set():
                raise Abandoned(f"{self.path}: upload of {self.name} abandoned")
            try:
                chunk = self._file.read(min(CHUNK, left))
            except OSError as exc:
                raise RegistryError(f"{self.path}: cannot read {self.name}: {exc}") from None
            if not chunk:
                raise RegistryError(f"{self.path}: {self.name} is cut short ({left} of {self.size} bytes missing)")
            left -= len(chunk)
            yield chunk

    def close(self) -> None:
        self._file.close()


class OciArchive:
    """The blobs of an open OCI image archive, by digest."""

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
        if member.issparse():
            raise RegistryError(f"{self.path}: blob {digest} is a sparse file in the archive; not an OCI archive")
        return member

    def stream(self, digest: str, size: int, stop: threading.Event | None = None) -> BlobStream:
        """The blob DIGEST of SIZE bytes through a file handle of its own (thread-safe); STOP abandons it."""
        member = self.member(digest, size)
        return BlobStream(self.path, f"blob {digest}", member.offset_data, size, stop)

    def read(self, digest: str) -> bytes:
        """A small blob (a manifest, the index) whole."""
        return self._read(self.member(digest))

    def json(self, name: str, body: bytes) -> dict[str, Any]:
        return json_object(body, f"{self.path}: {name}", "a JSON document")

    def image(self) -> tuple[str, str, bytes, list[tuple[str, str, bytes]]]:
        """The digest, media type and body of the archive's image index, and (digest, media type, body)
        of each manifest it lists."""
        where = str(self.path)
        if "index.json" not in self.members:
            raise RegistryError(f"{where}: no index.json; not an OCI image archive")
        layout = self.json("index.json", self._read(self.members["index.json"]))
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

    def _read(self, member: tarfile.TarInfo) -> bytes:
        handle = self.tar.extractfile(member)
        if handle is None:
            raise RegistryError(f"{self.path}: {member.name} is not a file")
        return handle.read()


def open_archive(path: Path) -> tarfile.TarFile:
    """ARCHIVE's tar, uncompressed only (blobs are read at their offsets in the file)."""
    return tarfile.open(path, "r:")


def archive_index(archive: Path) -> tuple[str, dict[str, str]]:
    """The digest of ARCHIVE's image index and its platform manifests by platform (attestations left out)."""
    try:
        with open_archive(archive) as tar:
            image = OciArchive(archive, tar)
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


def extract_layout(archive: Path, layout: Path) -> None:
    """ARCHIVE unpacked as the OCI layout directory LAYOUT (what BuildKit reads as the named build context
    `oci-layout://LAYOUT@DIGEST`): its index.json, oci-layout and blobs, nothing else, never outside LAYOUT."""
    try:
        with open_archive(archive) as tar:
            for member in tar.getmembers():
                parts = member.name.split("/")
                wanted = member.name in ("index.json", "oci-layout") or (len(parts) == 3 and parts[0] == "blobs")
                if not member.isfile() or not wanted or ".." in parts or "" in parts:
                    continue
                target = layout.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                with source, target.open("wb") as out:
                    shutil.copyfileobj(source, out, CHUNK)
    except (tarfile.TarError, OSError) as exc:
        raise BuildError(str(archive), f"cannot unpack it as an OCI layout: {exc}") from None
