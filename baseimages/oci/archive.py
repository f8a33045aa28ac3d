"""Reading an OCI image, as buildx's `type=oci` output writes it: an OCI layout directory (`tar=false`)
or its archive (an uncompressed tar): its image index, the manifests the index lists, and each blob as
a stream of its own.

A layout's blob is a file of its own. An archive's table of contents is read once; a blob is then read
straight from the file at its member's data offset. Either way each stream has a file handle of its own
and reads in chunks: so any number of threads can each stream a blob (a TarFile is not thread-safe),
and no blob is ever held in memory whole.
"""

from __future__ import annotations

import tarfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..core.errors import Abandoned, RegistryError
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


class OciImage:
    """The blobs of an OCI image (a layout or an archive), by digest."""

    path: Path

    def blob_file(self, digest: str, size: int | None = None) -> tuple[Path, int, int]:
        """The file that holds blob DIGEST, its offset there and its size (checked against SIZE)."""
        raise NotImplementedError

    def read_file(self, name: str) -> bytes | None:
        """The layout's file NAME (e.g. `index.json`), None when absent."""
        raise NotImplementedError

    def digests(self) -> list[str]:
        """The digest of every blob the image holds."""
        raise NotImplementedError

    def member(self, digest: str, size: int | None = None) -> None:
        """Check that the blob DIGEST is there (with SIZE bytes)."""
        self.blob_file(digest, size)

    def stream(self, digest: str, size: int, stop: threading.Event | None = None) -> BlobStream:
        """The blob DIGEST of SIZE bytes through a file handle of its own (thread-safe); STOP abandons it."""
        path, offset, _ = self.blob_file(digest, size)
        return BlobStream(path, f"blob {digest}", offset, size, stop)

    def read(self, digest: str) -> bytes:
        """A small blob (a manifest, the index) whole."""
        body = self.read_file(f"blobs/{digest.replace(':', '/', 1)}")
        if body is None:
            raise RegistryError(f"{self.path}: blob {digest} is missing from the image")
        return body

    def json(self, name: str, body: bytes) -> dict[str, Any]:
        return json_object(body, f"{self.path}: {name}", "a JSON document")

    def image(self) -> tuple[str, str, bytes, list[tuple[str, str, bytes]]]:
        """The digest, media type and body of the image index, and (digest, media type, body) of each
        manifest it lists."""
        where = str(self.path)
        layout_index = self.read_file("index.json")
        if layout_index is None:
            raise RegistryError(f"{where}: no index.json; not an OCI image layout or archive")
        entries = field_of(self.json("index.json", layout_index), "manifests", list, where, "index.json")
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


class OciArchive(OciImage):
    """The blobs of an open OCI image archive, by digest."""

    def __init__(self, path: Path, tar: tarfile.TarFile) -> None:
        self.path = path
        self.tar = tar
        self.members = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}

    def blob_file(self, digest: str, size: int | None = None) -> tuple[Path, int, int]:
        member = self.members.get(f"blobs/{digest.replace(':', '/', 1)}")
        if member is None:
            raise RegistryError(f"{self.path}: blob {digest} is missing from the archive")
        if size is not None and member.size != size:
            raise RegistryError(f"{self.path}: blob {digest} has {member.size} bytes in the archive, not {size}")
        if member.issparse():
            raise RegistryError(f"{self.path}: blob {digest} is a sparse file in the archive; not an OCI archive")
        return self.path, member.offset_data, member.size

    def digests(self) -> list[str]:
        return [f"sha256:{n.rsplit('/', 1)[1]}" for n in self.members if n.startswith("blobs/sha256/")]

    def read_file(self, name: str) -> bytes | None:
        member = self.members.get(name)
        handle = self.tar.extractfile(member) if member is not None else None
        return None if handle is None else handle.read()


class OciLayout(OciImage):
    """The blobs of an OCI layout directory, by digest (each a file of its own)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def blob_file(self, digest: str, size: int | None = None) -> tuple[Path, int, int]:
        path = self.path / "blobs" / digest.replace(":", "/", 1)
        try:
            found = path.stat().st_size
        except OSError:
            raise RegistryError(f"{self.path}: blob {digest} is missing from the layout") from None
        if size is not None and found != size:
            raise RegistryError(f"{self.path}: blob {digest} has {found} bytes in the layout, not {size}")
        return path, 0, found

    def digests(self) -> list[str]:
        folder = self.path / "blobs" / "sha256"
        return [f"sha256:{p.name}" for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []

    def read_file(self, name: str) -> bytes | None:
        try:
            return (self.path / name).read_bytes()
        except FileNotFoundError:
            return None


@contextmanager
def open_image(path: Path) -> Iterator[OciImage]:
    """The OCI image at PATH: a layout directory, or an (uncompressed) archive."""
    if path.is_dir():
        yield OciLayout(path)
        return
    with open_archive(path) as tar:
        yield OciArchive(path, tar)


def open_archive(path: Path) -> tarfile.TarFile:
    """ARCHIVE's tar, uncompressed only (blobs are read at their offsets in the file)."""
    return tarfile.open(path, "r:")


def layers_of(path: Path, manifests: Sequence[str]) -> list[str]:
    """The layer digests of the image MANIFESTS (digests) in the OCI layout or archive PATH."""
    where = str(path)
    with open_image(path) as image:
        found = []
        for digest in manifests:
            layers = field_of(image.json(digest, image.read(digest)), "layers", list, where, f"manifest {digest}")
            found += [descriptor(layer, where, f"a layer of {digest}")[0] for layer in layers]
    return found


def archive_index(archive: Path) -> tuple[str, dict[str, str]]:
    """The digest of the image index of ARCHIVE (an OCI layout or archive) and its platform manifests
    by platform (attestations left out)."""
    try:
        with open_image(archive) as image:
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
