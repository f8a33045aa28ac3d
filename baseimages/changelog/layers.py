"""One layer read as a stream, reduced to the facts a changelog needs: what its dpkg status files and
Python METADATA files say, and what it hides of the layers below it; also the text of its apt sources
files (`updates` reads them).

A layer is a tar (uncompressed, gzip or zstd) of the files a build step added or changed, with OCI
whiteouts for what it removed: `.wh.<name>` removes <name> from the layers below, `.wh..wh..opq` makes its
directory opaque (nothing of the layers below shows through it). Any entry that is not a directory (a
file, a symbolic link) also hides whatever the layers below had under that path. The facts of a layer
depend on its bytes only, so they are kept by layer digest: a base layer two images share is read once.
"""

from __future__ import annotations

import gzip
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import zstandard

from ..core.errors import RegistryError
from .contents import (
    DPKG_BACKUP,
    DPKG_STATUS_DIR,
    Distribution,
    Package,
    environment_of,
    is_apt_source,
    is_dpkg_path,
    is_metadata,
    normalise,
    parse_metadata,
    parse_status,
)

GZIP_TYPES = ("application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.docker.image.rootfs.diff.tar.gzip")
ZSTD_TYPES = ("application/vnd.oci.image.layer.v1.tar+zstd",)
TAR_TYPES = ("application/vnd.oci.image.layer.v1.tar", "application/vnd.docker.image.rootfs.diff.tar")
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
MAX_FILE = 64 * 1024 * 1024  # the most of a status file read; METADATA headers are in its first MiB
MAX_SOURCES = 1024 * 1024  # the most of an apt sources file read
Fact = tuple[Package, ...] | Distribution | None  # what a file says; None: nothing we can use (unparsable)


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class LayerFacts:
    digest: str
    files: dict[str, Fact]  # path -> what the file says, for dpkg status files and site-packages METADATA
    whiteouts: frozenset[str]  # paths removed from the layers below
    opaque: frozenset[str]  # directories whose lower content is hidden
    entries: frozenset[str]  # every entry that is not a directory: each hides the lower content under it
    sources: dict[str, str] = field(default_factory=dict)  # path -> text, for the apt sources files


def read_facts(stream: Readable, media_type: str, digest: str) -> LayerFacts:
    """The facts of the layer whose (compressed) bytes STREAM gives, read once, front to back."""
    with _decompressed(stream, media_type, digest) as tar_bytes:
        try:
            with tarfile.open(fileobj=tar_bytes, mode="r|") as tar:
                return _facts(tar, digest)
        except (tarfile.TarError, EOFError, OSError, zlib.error, zstandard.ZstdError) as exc:
            raise RegistryError(f"layer {digest}: not a readable {media_type} ({exc})") from None


def _decompressed(stream: Any, media_type: str, digest: str) -> Any:
    if media_type in GZIP_TYPES:
        return gzip.GzipFile(fileobj=stream, mode="rb")
    if media_type in ZSTD_TYPES:
        return zstandard.ZstdDecompressor().stream_reader(stream, closefd=False)
    if media_type in TAR_TYPES:
        return _Unclosed(stream)
    raise RegistryError(f"layer {digest}: media type {media_type!r} is not a tar layer this reader knows")


def _facts(tar: tarfile.TarFile, digest: str) -> LayerFacts:
    files: dict[str, Fact] = {}
    whiteouts: set[str] = set()
    opaque: set[str] = set()
    entries: set[str] = set()
    seen: dict[str, Fact] = {}  # every status and METADATA file read, for hard links to them
    sources: dict[str, str] = {}
    for member in tar:
        path = normalise(member.name)
        folder, _, name = path.rpartition("/")
        if name == OPAQUE:
            opaque.add(folder)
            continue
        if name.startswith(WHITEOUT):
            if not name.startswith(WHITEOUT + WHITEOUT):  # .wh..wh.* other than the opaque marker: AUFS metadata
                whiteouts.add(f"{folder}/{name[len(WHITEOUT) :]}".lstrip("/"))
            continue
        if member.isdir():
            continue
        entries.add(path)
        wanted = is_dpkg_path(path) or environment_of(path) is not None
        if member.isfile() and (wanted or is_metadata(path) or path == DPKG_BACKUP):
            seen[path] = _read(tar, member, path)
            if wanted:
                files[path] = seen[path]
        elif member.islnk() and wanted:
            files[path] = _relinked(seen.get(normalise(member.linkname)), path)
        elif member.isfile() and is_apt_source(path) and (handle := tar.extractfile(member)) is not None:
            sources[path] = handle.read(MAX_SOURCES).decode("utf-8", "replace")
    return LayerFacts(digest, files, frozenset(whiteouts), frozenset(opaque), frozenset(entries), sources)


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo, path: str) -> Fact:
    handle = tar.extractfile(member)
    if handle is None:
        return None
    dpkg = is_dpkg_path(path) or path == DPKG_BACKUP
    text = handle.read(MAX_FILE if dpkg else 1024 * 1024).decode("utf-8", "replace")
    if dpkg:
        return parse_status(text, in_status_dir=path.startswith(DPKG_STATUS_DIR))
    parsed = parse_metadata(text)
    environment = environment_of(path)
    if parsed is None:
        return None
    return Distribution(environment or "", *parsed)


def _relinked(fact: Fact, path: str) -> Fact:
    """What a hard link at PATH says: its target's facts, a distribution in PATH's environment."""
    if isinstance(fact, Distribution):
        return Distribution(environment_of(path) or "", fact.name, fact.version)
    return fact


class _Unclosed:
    """An uncompressed layer: the stream itself, which its opener closes."""

    def __init__(self, stream: Readable) -> None:
        self.read: Callable[..., bytes] = stream.read

    def __enter__(self) -> _Unclosed:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
