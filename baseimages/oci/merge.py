"""One multi-platform image from per-platform builds: each platform's OCI archive (buildx's
`type=oci` output of a one-platform build: an index of that platform's manifest and its attestation
manifests) merged into one OCI archive and, when asked, one OCI image layout directory; each blob is
copied once per output, straight from the part's archive.

The merged index lists every platform's image manifest in the order given (the catalog's), then their
attestation manifests in the same order, as BuildKit lists a multi-platform build, with the index
annotations given (what change detection reads back). Its bytes depend on its inputs only: the same
per-platform manifests and annotations give the same index digest. The manifests themselves are
copied as they are, so a reproducible rebuild still has byte-identical platform manifests.

The layout directory, written only for a child's build on another builder in a build run (it reads its
parent from it: `oci-layout://DIR@DIGEST`), stays; the archive is what the registry upload and `docker
image load` read.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..core.errors import BuildError
from .documents import INDEX_TYPES, MANIFEST_TYPES, digest_of

INDEX_TYPE = INDEX_TYPES[0]
_ATTESTATION = "attestation-manifest"


@dataclass(frozen=True)
class PlatformArchive:
    """One platform's build: the OCI archive buildx wrote for PLATFORM."""

    platform: str
    archive: Path


@dataclass(frozen=True)
class MergedImage:
    """The merged image: its index digest, each platform's manifest digest, the layout and the archive."""

    digest: str
    manifests: dict[str, str]  # platform -> image manifest digest
    layout: Path | None  # written only when asked for
    archive: Path


_Source = bytes | tuple[tarfile.TarFile, tarfile.TarInfo]  # a file's bytes, or where it is in an open archive


@dataclass
class _Part:
    platform: str
    image: dict[str, Any]  # the index entry of the platform's image manifest
    attestations: list[dict[str, Any]]
    name_annotations: dict[str, str]  # of the archive's index.json entry (the image name `docker load` uses)
    blobs: dict[str, _Source]  # archive name -> where it is in the part's archive (its own index left out)


def merge_platform_archives(
    parts: Sequence[PlatformArchive], layout: Path | None, archive: Path, annotations: Mapping[str, str]
) -> MergedImage:
    """Merge PARTS (in platform order) into the archive ARCHIVE and, when LAYOUT is given, the OCI layout
    directory LAYOUT too, with ANNOTATIONS on the index. Each blob goes straight from its part's archive to
    each output, once. A part that holds no manifest for its platform is a BuildError."""
    with contextlib.ExitStack() as stack:
        read = [_read_part(part, stack) for part in parts]
        index: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": INDEX_TYPE,
            "manifests": [p.image for p in read] + [a for p in read for a in p.attestations],
        }
        if annotations:
            index["annotations"] = dict(annotations)
        body = json.dumps(index, separators=(",", ":")).encode()
        digest = digest_of(body)
        top = {"mediaType": INDEX_TYPE, "digest": digest, "size": len(body)}
        if read and read[0].name_annotations:
            top["annotations"] = read[0].name_annotations
        files: dict[str, _Source] = {name: source for p in read for name, source in p.blobs.items()}
        files[_blob(digest)] = body
        files["oci-layout"] = json.dumps({"imageLayoutVersion": "1.0.0"}).encode()
        files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [top]}, separators=(",", ":")).encode()
        try:
            _write_archive(files, archive)
            if layout is not None:
                _write_layout(files, layout)
        except (tarfile.TarError, OSError) as exc:
            raise BuildError(str(archive), f"cannot write the merged image: {exc}") from None
    return MergedImage(digest, {p.platform: str(p.image["digest"]) for p in read}, layout, archive)


def _content(source: _Source) -> IO[bytes]:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    tar, member = source
    handle = tar.extractfile(member)
    assert handle is not None  # a regular file (`_read_part` keeps only those)
    return handle


def _size(source: _Source) -> int:
    return len(source) if isinstance(source, bytes) else source[1].size


def _write_archive(files: Mapping[str, _Source], archive: Path) -> None:
    """FILES as an OCI archive (what `docker image load` and the upload read): its folders, then its files,
    in name order, times zeroed."""
    with tarfile.open(archive, "w") as tar:
        for folder in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name in sorted(files, key=lambda n: (not n.startswith("blobs/"), n)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = _size(files[name]), 0o644
            with _content(files[name]) as handle:
                tar.addfile(info, handle)


def _write_layout(files: Mapping[str, _Source], layout: Path) -> None:
    """FILES as the OCI layout directory LAYOUT (a child's build on another builder reads it)."""
    if layout.exists():
        shutil.rmtree(layout)
    (layout / "blobs" / "sha256").mkdir(parents=True)
    for name, source in files.items():
        with _content(source) as handle, (layout / name).open("wb") as out:
            shutil.copyfileobj(handle, out, 1024 * 1024)


def _read_part(part: PlatformArchive, stack: contextlib.ExitStack) -> _Part:
    """PART's image entry and attestation entries, and where each of its blobs is in its archive (kept open
    on STACK; its own index left out)."""
    where = f"{part.archive} ({part.platform})"
    try:
        tar = stack.enter_context(tarfile.open(part.archive))  # noqa: SIM115 (STACK closes it)
        members = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}
        layout = _json(_open(tar, members, "index.json", where), where, "index.json")
        entries = layout.get("manifests") or []
        if not entries or not isinstance(entries[0], dict):
            raise BuildError(where, "the build's OCI archive lists no image in index.json")
        top = entries[0]
        name_annotations = dict(top.get("annotations") or {})
        top_digest = str(top.get("digest", ""))
        attestations: list[dict[str, Any]] = []
        if top.get("mediaType") in MANIFEST_TYPES:  # one manifest, no index: no attestation
            image = {**top, "platform": _platform_doc(part.platform)}
            image.pop("annotations", None)
        else:
            index = _json(_open(tar, members, _blob(top_digest), where), where, top_digest)
            image, attestations = _split(index.get("manifests") or [], part.platform, where)
    except (tarfile.TarError, OSError) as exc:
        raise BuildError(where, f"cannot read the build's OCI archive: {exc}") from None
    blobs: dict[str, _Source] = {
        name: (tar, member)
        for name, member in members.items()
        if name.startswith("blobs/sha256/") and name != _blob(top_digest)
    }
    return _Part(part.platform, image, attestations, name_annotations, blobs)


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


def _open(tar: tarfile.TarFile, members: Mapping[str, tarfile.TarInfo], name: str, where: str) -> IO[bytes]:
    member = members.get(name)
    handle = tar.extractfile(member) if member is not None else None
    if handle is None:
        raise BuildError(where, f"the build's OCI archive has no {name}")
    return handle


def _json(handle: IO[bytes], where: str, what: str) -> dict[str, Any]:
    try:
        doc = json.load(io.TextIOWrapper(handle, encoding="utf-8"))
    except ValueError as exc:
        raise BuildError(where, f"{what} in the build's OCI archive is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise BuildError(where, f"{what} in the build's OCI archive is not a JSON object")
    return doc
