"""A small multi-platform image as bytes, and its `docker image save` archive, for unit tests.

`make_image()` builds an index of two image manifests (linux/amd64 and linux/arm64), each with a
config and one layer; `image.write_archive(path)` writes it the way `docker image save` does with the
containerd image store (oci-layout, index.json, blobs/sha256/...). The fake registry stores it
(`FakeRegistry.preload`), and the uploader reads the archive.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def canonical_json(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class FakeImage:
    """An image index, its manifests and their blobs, as bytes."""

    index: bytes
    manifests: dict[str, bytes]  # digest -> image manifest (and attestation manifests)
    blobs: dict[str, bytes]  # digest -> config or layer
    platforms: tuple[str, ...]

    @property
    def digest(self) -> str:
        return sha256(self.index)

    def manifest_for(self, platform: str) -> str:
        entry = next(m for m in json.loads(self.index)["manifests"] if _platform(m) == platform)
        return str(entry["digest"])

    def write_archive(self, path: Path, name: str = "fake/tiny:candidate") -> Path:
        """Write the image as `docker image save` does (containerd image store): an OCI layout tar."""
        top = {"mediaType": INDEX_TYPE, "digest": self.digest, "size": len(self.index)}
        top["annotations"] = {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name}
        files = {
            "oci-layout": canonical_json({"imageLayoutVersion": "1.0.0"}),
            "index.json": canonical_json({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [top]}),
            f"blobs/{self.digest.replace(':', '/')}": self.index,
        }
        for digest, body in {**self.manifests, **self.blobs}.items():
            files[f"blobs/{digest.replace(':', '/')}"] = body
        with tarfile.open(path, "w") as tar:
            for directory in ("blobs", "blobs/sha256"):
                info = tarfile.TarInfo(directory)
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            for member, body in files.items():
                info = tarfile.TarInfo(member)
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
        return path


PROVENANCE = "https://slsa.dev/provenance/v0.2"


def make_image(
    seed: str = "tiny",
    platforms: Iterable[str] = ("linux/amd64", "linux/arm64"),
    annotations: dict[str, str] | None = None,
    attestation: bool = False,
    predicates: Iterable[str] = (PROVENANCE,),
    attested: Iterable[str] | None = None,
    run: str = "",
    layer_bytes: int = 0,
    files: Mapping[str, bytes] | None = None,
    config: dict[str, Any] | None = None,
) -> FakeImage:
    """An index of one image manifest per platform, each with a config and one layer; SEED makes the
    bytes differ between images. With ATTESTATION, an `unknown/unknown` attestation manifest per
    platform (of ATTESTED platforms, default all) as BuildKit adds them: annotated with the platform
    manifest it describes, one in-toto layer per predicate type of PREDICATES; RUN goes into the statements
    only (as BuildKit's provenance records its build's times: same images, another index). LAYER_BYTES,
    when given, is the size of each layer (its text repeated). FILES, when given, make each layer a gzip tar
    of them (and of `etc/platform`), which a changelog reads: the same FILES make the same layer; CONFIG
    replaces the config's `config` object (default: an Env of the seed)."""
    platforms = tuple(platforms)
    manifests: dict[str, bytes] = {}
    blobs: dict[str, bytes] = {}
    entries = []
    for platform in platforms:
        os_name, arch = platform.split("/")[:2]
        settings = {"Env": [f"SEED={seed}"]} if config is None else config
        config_blob = canonical_json({"architecture": arch, "os": os_name, "config": settings})
        text = f"layer of {seed} for {platform}\n".encode()
        layers = [(text * (layer_bytes // len(text) + 1))[:layer_bytes] if layer_bytes else text * 8]
        if files is not None:
            layers = [tar_gz({**files, "etc/platform": f"{platform}\n".encode()})]
        entry = _add_manifest(manifests, blobs, config_blob, [(x, LAYER_TYPE, {}) for x in layers])
        entries.append({**entry, "platform": {"os": os_name, "architecture": arch}})
    if attestation:
        for platform_entry in list(entries):
            platform = _platform(platform_entry)
            if attested is not None and platform not in attested:
                continue
            config = canonical_json({"architecture": "unknown", "os": "unknown", "config": {}})
            layers = [
                (canonical_json({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": kind,
                                 "subject": platform_entry["digest"], "seed": seed, "run": run}),
                 "application/vnd.in-toto+json", {"in-toto.io/predicate-type": kind})
                for kind in predicates
            ]  # fmt: skip
            entry = _add_manifest(manifests, blobs, config, layers)
            notes = {
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": platform_entry["digest"],
            }
            entries.append({**entry, "platform": {"os": "unknown", "architecture": "unknown"}, "annotations": notes})
    index: dict[str, Any] = {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": entries}
    if annotations:
        index["annotations"] = annotations
    return FakeImage(canonical_json(index), manifests, blobs, platforms)


def tar_gz(files: Mapping[str, bytes]) -> bytes:
    """A gzip tar layer of FILES (path -> bytes), the same bytes for the same files."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, body in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mtime = len(body), 1_700_000_000
            tar.addfile(info, io.BytesIO(body))
    return gzip.compress(raw.getvalue(), mtime=0)


def _add_manifest(
    manifests: dict[str, bytes], blobs: dict[str, bytes], config: bytes, layers: list[tuple[bytes, str, dict[str, str]]]
) -> dict[str, Any]:
    """Store an image manifest of CONFIG and LAYERS (bytes, media type, annotations); its index entry."""
    blobs.update({sha256(blob): blob for blob in [config, *(x for x, _, _ in layers)]})
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "digest": sha256(config), "size": len(config)},
            "layers": [
                {"mediaType": kind, "digest": sha256(x), "size": len(x), **({"annotations": notes} if notes else {})}
                for x, kind, notes in layers
            ],
        }
    )
    manifests[sha256(manifest)] = manifest
    return {"mediaType": MANIFEST_TYPE, "digest": sha256(manifest), "size": len(manifest)}


def _platform(entry: dict[str, Any]) -> str:
    plat = entry.get("platform") or {}
    return f"{plat.get('os')}/{plat.get('architecture')}"
