"""One layer read as a stream, reduced to the facts a changelog needs: what its dpkg status files and
Python METADATA files say, and what it hides of the layers below it.

A layer is a tar (uncompressed, gzip or zstd) of the files a build step added or changed, with OCI
whiteouts for what it removed: `.wh.<name>` removes <name> from the layers below, `.wh..wh..opq` makes its
directory opaque (nothing of the layers below shows through it). Any entry that is not a directory (a
file, a symbolic link) also hides whatever the layers below had under that path. The facts of a layer
depend on its bytes only, so they are kept by layer digest: a base layer two images share is read once.

Every entry also gets a signature (`tree`): its type, mode, owner, size, extended attributes and the
SHA-256 of its content (a link: its target), never its modification time, so that two builds of the
same files compare equal whatever their timestamps. The text of the apt sources files is kept too
(`sources`: `updates` reads them).
"""

from __future__ import annotations

import gzip
import hashlib
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
MAX_METADATA = 1024 * 1024
MAX_SOURCES = 1024 * 1024  # the most of an apt sources file read
CHUNK = 1024 * 1024
_XATTR = "SCHILY.xattr."
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
    tree: dict[str, str] = field(default_factory=dict)  # path -> signature of every entry, directories included
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
    tree: dict[str, str] = {}
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
        if not member.isdir():
            entries.add(path)
        wanted = is_dpkg_path(path) or environment_of(path) is not None
        if member.isfile():
            read = wanted or is_metadata(path) or path == DPKG_BACKUP
            source = is_apt_source(path)
            sha, head = _content(tar, member, _keep(path) if read else MAX_SOURCES if source else 0)
            tree[path] = _signature(member, sha)
            if source:
                sources[path] = head.decode("utf-8", "replace")
            if read:
                seen[path] = _fact(head, path)
                if wanted:
                    files[path] = seen[path]
        else:
            target = normalise(member.linkname)
            tree[path] = tree.get(target, "") if member.islnk() and target in tree else _signature(member, "")
            if member.islnk() and wanted:
                files[path] = _relinked(seen.get(target), path)
    return LayerFacts(digest, files, frozenset(whiteouts), frozenset(opaque), frozenset(entries), tree, sources)


def _signature(member: tarfile.TarInfo, sha: str) -> str:
    """What an entry is, as one comparable string: type, mode, owner, size, content or link, attributes."""
    kind = member.type.decode("ascii", "replace") if member.type != tarfile.AREGTYPE else "0"
    what = sha if member.isfile() else member.linkname
    if member.ischr() or member.isblk():
        what = f"{member.devmajor},{member.devminor}"
    xattrs = sorted((k, v) for k, v in member.pax_headers.items() if k.startswith(_XATTR))
    extra = hashlib.sha256(repr(xattrs).encode()).hexdigest()[:16] if xattrs else ""
    size = member.size if member.isfile() else 0
    return f"{kind} {member.mode:o} {member.uid}:{member.gid} {size} {what} {extra}".rstrip()


def _keep(path: str) -> int:
    return MAX_FILE if is_dpkg_path(path) or path == DPKG_BACKUP else MAX_METADATA


def _content(tar: tarfile.TarFile, member: tarfile.TarInfo, keep: int) -> tuple[str, bytes]:
    """The SHA-256 of a file's content, and its first KEEP bytes."""
    handle = tar.extractfile(member)
    if handle is None:
        return "", b""
    sha = hashlib.sha256()
    head = bytearray()
    while chunk := handle.read(CHUNK):
        sha.update(chunk)
        if len(head) < keep:
            head += chunk[: keep - len(head)]
    return sha.hexdigest(), bytes(head)


def _fact(head: bytes, path: str) -> Fact:
    text = head.decode("utf-8", "replace")
    if is_dpkg_path(path) or path == DPKG_BACKUP:
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
