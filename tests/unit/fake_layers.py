"""Image layers made in a test, as a build would push them: tar (gzip, zstd or plain) blobs of files,
with OCI whiteouts, and images of several platforms built from them for the fake registry.

    base = layer({"var/lib/dpkg/status": status(("bash", "5.2-1"))})
    top = layer({"var/lib/dpkg/.wh.status": b""})             # a whiteout: the status file is gone
    image = layered_image({"linux/amd64": Platform([base, top], {"Env": ["A=1"]})})
    fake_registry.preload("team/tiny", image, tag="1.0.0")
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import zstandard
from fake_image import INDEX_TYPE, FakeImage, _add_manifest, canonical_json

GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
TAR = "application/vnd.oci.image.layer.v1.tar"
OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class Link:
    """A hard link to TARGET (a path earlier in the same layer)."""

    target: str


@dataclass(frozen=True)
class Symlink:
    target: str


@dataclass(frozen=True)
class File:
    """A regular file with its mode, owner and extended attributes spelled out (plain bytes: 0o644, root)."""

    content: bytes
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    xattrs: Mapping[str, str] = field(default_factory=dict)


Entry = bytes | File | Link | Symlink | None  # None: a directory


@dataclass(frozen=True)
class Layer:
    blob: bytes
    media_type: str


def layer(files: Mapping[str, Entry], compression: str = "gzip", mtime: int = 1_700_000_000) -> Layer:
    """A layer of FILES (path -> bytes, File, Link, Symlink or None for a directory), in the order given,
    every entry dated MTIME."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, entry in files.items():
            info = tarfile.TarInfo(path)
            info.mtime = mtime
            if isinstance(entry, File):
                info.mode, info.uid, info.gid = entry.mode, entry.uid, entry.gid
                info.pax_headers = {f"SCHILY.xattr.{k}": v for k, v in entry.xattrs.items()}
                entry = entry.content
            if entry is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif isinstance(entry, Link | Symlink):
                info.type = tarfile.LNKTYPE if isinstance(entry, Link) else tarfile.SYMTYPE
                info.linkname = entry.target
                tar.addfile(info)
            else:
                info.size = len(entry)
                tar.addfile(info, io.BytesIO(entry))
    data = raw.getvalue()
    if compression == "gzip":
        return Layer(gzip.compress(data, mtime=0), GZIP)
    if compression == "zstd":
        return Layer(zstandard.ZstdCompressor().compress(data), ZSTD)
    return Layer(data, TAR)


def status(*packages: tuple[str, str] | tuple[str, str, str], state: str = "install ok installed") -> bytes:
    """A dpkg status file of PACKAGES: (name, version) or (name, version, arch) for Multi-Arch: same."""
    paragraphs = []
    for package in packages:
        name, version = package[0], package[1]
        lines = [f"Package: {name}", f"Status: {state}", "Priority: optional"]
        lines.append(f"Architecture: {package[2] if len(package) > 2 else 'amd64'}")
        if len(package) > 2:
            lines.append("Multi-Arch: same")
        lines += [f"Version: {version}", f"Description: the {name} package", " long description"]
        paragraphs.append("\n".join(lines) + "\n")
    return "\n".join(paragraphs).encode()


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: x\n\nName: not-this\n".encode()


def dist_info(site: str, name: str, version: str) -> dict[str, Entry]:
    """The METADATA of NAME VERSION in the site-packages folder SITE."""
    return {f"{site}/{name.replace('-', '_')}-{version}.dist-info/METADATA": metadata(name, version)}


@dataclass
class Platform:
    layers: Sequence[Layer]
    config: dict[str, Any] = field(default_factory=dict)  # the image config's `config` object
    created: str | None = None  # the image config's `created`, when given


def layered_image(platforms: Mapping[str, Platform]) -> FakeImage:
    """An index of one image manifest per platform, of its layers and config."""
    manifests: dict[str, bytes] = {}
    blobs: dict[str, bytes] = {}
    entries = []
    for name, platform in platforms.items():
        os_name, arch = name.split("/")[:2]
        document: dict[str, Any] = {"architecture": arch, "os": os_name, "config": platform.config}
        if platform.created is not None:
            document["created"] = platform.created
        config = canonical_json(document)
        entry = _add_manifest(manifests, blobs, config, [(x.blob, x.media_type, {}) for x in platform.layers])
        entries.append({**entry, "platform": {"os": os_name, "architecture": arch}})
    index = canonical_json({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": entries})
    return FakeImage(index, manifests, blobs, tuple(platforms))
