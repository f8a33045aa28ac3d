"""One multi-platform image from per-platform builds: each platform's OCI layout (buildx's `type=oci`
output of a one-platform build with `tar=false`: an index of that platform's manifest and its attestation
manifests; an archive of it is read too) merged into one OCI image layout.

The merged index lists every platform's image manifest in the order given (the catalog's), then their
attestation manifests in the same order, as BuildKit lists a multi-platform build, with the index
annotations given (what change detection reads back). Its bytes depend on its inputs only: the same
per-platform manifests and annotations give the same index digest. The manifests themselves are
copied as they are, so a reproducible rebuild still has byte-identical platform manifests.

Each blob is written once: hard-linked from the platform's layout into the merged one (copied only
where a link cannot be made, e.g. another file system, or out of an archive). The layout directory
stays: a child's build reads its parent from it (`oci-layout://DIR@DIGEST`), the registry upload streams
its blobs, and `docker image load` reads it as a tar streamed on the fly.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..core.errors import BuildError, RegistryError
from .archive import OciImage, open_image
from .documents import INDEX_TYPES, MANIFEST_TYPES, digest_of

INDEX_TYPE = INDEX_TYPES[0]
_ATTESTATION = "attestation-manifest"


@dataclass(frozen=True)
class PlatformArchive:
    """One platform's build: the OCI layout (or archive) buildx wrote for PLATFORM."""

    platform: str
    archive: Path


@dataclass(frozen=True)
class MergedImage:
    """The merged image: its index digest, each platform's manifest digest, and its layout."""

    digest: str
    manifests: dict[str, str]  # platform -> image manifest digest
    layout: Path


@dataclass
class _Part:
    platform: str
    image: dict[str, Any]  # the index entry of the platform's image manifest
    attestations: list[dict[str, Any]]
    name_annotations: dict[str, str]  # of the layout's index.json entry (the image name `docker load` uses)


def merge_platform_archives(
    parts: Sequence[PlatformArchive], layout: Path, annotations: Mapping[str, str]
) -> MergedImage:
    """Merge PARTS (in platform order) into the OCI layout directory LAYOUT, with ANNOTATIONS on the
    index. A part that holds no manifest for its platform is a BuildError."""
    if layout.exists():
        shutil.rmtree(layout)
    blobs = layout / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    read = [_read_part(part, blobs) for part in parts]
    index: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": INDEX_TYPE,
        "manifests": [p.image for p in read] + [a for p in read for a in p.attestations],
    }
    if annotations:
        index["annotations"] = dict(annotations)
    body = json.dumps(index, separators=(",", ":")).encode()
    digest = digest_of(body)
    (blobs / digest.split(":", 1)[1]).write_bytes(body)
    top = {"mediaType": INDEX_TYPE, "digest": digest, "size": len(body)}
    if read and read[0].name_annotations:
        top["annotations"] = read[0].name_annotations
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}, separators=(",", ":")))
    return MergedImage(digest, {p.platform: str(p.image["digest"]) for p in read}, layout)


def _read_part(part: PlatformArchive, blobs: Path) -> _Part:
    """PART's image entry and attestation entries; its blobs linked into BLOBS (its own index left out)."""
    where = f"{part.archive} ({part.platform})"
    try:
        with open_image(part.archive) as source:
            layout = _json(source.read_file("index.json"), where, "index.json")
            entries = layout.get("manifests") or []
            if not entries or not isinstance(entries[0], dict):
                raise BuildError(where, "the build's OCI layout lists no image in index.json")
            top = entries[0]
            name_annotations = dict(top.get("annotations") or {})
            top_digest = str(top.get("digest", ""))
            attestations: list[dict[str, Any]] = []
            if top.get("mediaType") in MANIFEST_TYPES:  # one manifest, no index: no attestation
                image = {**top, "platform": _platform_doc(part.platform)}
                image.pop("annotations", None)
            else:
                index = _json(source.read_file(_blob(top_digest)), where, top_digest)
                image, attestations = _split(index.get("manifests") or [], part.platform, where)
            for digest in source.digests():
                if digest != top_digest:
                    _link(source, digest, blobs / digest.split(":", 1)[1])
    except (tarfile.TarError, OSError, RegistryError) as exc:
        raise BuildError(where, f"cannot read the build's OCI output: {exc}") from None
    return _Part(part.platform, image, attestations, name_annotations)


def _link(source: OciImage, digest: str, target: Path) -> None:
    """The blob DIGEST of SOURCE at TARGET: a hard link of a layout's blob file, else a copy."""
    if target.exists():
        return
    path, offset, size = source.blob_file(digest)
    if offset == 0 and path.name == digest.split(":", 1)[1]:
        try:
            os.link(path, target)
            return
        except OSError:
            pass  # another file system, or links not allowed: a copy
    with path.open("rb") as handle, target.open("wb") as out:
        handle.seek(offset)
        _copy(handle, out, size)


def _copy(handle: IO[bytes], out: IO[bytes], size: int) -> None:
    left = size
    while left:
        chunk = handle.read(min(left, 1024 * 1024))
        if not chunk:
            raise OSError(f"{handle.name} ends {left} bytes early")
        out.write(chunk)
        left -= len(chunk)


def _split(entries: list[Any], platform: str, where: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The entry of PLATFORM's image manifest and the attestation entries that describe it."""
    images = [e for e in entries if isinstance(e, dict) and not _is_attestation(e)]
    found = [e for e in images if _platform_of(e) == platform]
    if len(found) != 1:
        built = ", ".join(_platform_of(e) for e in images) or "nothing"
        raise BuildError(where, f"the build was for {platform} but its archive holds {built}")
    image = found[0]
    attestations = [
        e
        for e in entries
        if isinstance(e, dict)
        and _is_attestation(e)
        and (e.get("annotations") or {}).get("vnd.docker.reference.digest") == image["digest"]
    ]
    return image, attestations


def _is_attestation(entry: dict[str, Any]) -> bool:
    return (entry.get("annotations") or {}).get("vnd.docker.reference.type") == _ATTESTATION


def _platform_of(entry: dict[str, Any]) -> str:
    plat = entry.get("platform") or {}
    variant = plat.get("variant")
    if plat.get("architecture") == "arm64" and variant == "v8":  # buildx's linux/arm64 is arm64/v8
        variant = None
    return "/".join(str(p) for p in (plat.get("os"), plat.get("architecture"), variant) if p)


def _platform_doc(platform: str) -> dict[str, str]:
    names = platform.split("/")
    doc = {"architecture": names[1], "os": names[0]}
    if len(names) > 2:
        doc["variant"] = names[2]
    return doc


def _blob(digest: str) -> str:
    return "blobs/" + digest.replace(":", "/", 1)


def _json(body: bytes | None, where: str, what: str) -> dict[str, Any]:
    if body is None:
        raise BuildError(where, f"the build's OCI output has no {what}")
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise BuildError(where, f"{what} in the build's OCI output is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BuildError(where, f"{what} in the build's OCI output is not a JSON object")
    return doc
