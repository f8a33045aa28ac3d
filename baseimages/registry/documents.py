"""What a registry answers, checked before anything reads it: manifests, indexes and image configs.

A manifest answer must carry a manifest media type, parse as a JSON object of the shape its type
promises (an index has `manifests`, an image manifest `config` and `layers`), and hash to the digest it
was asked by and to its Docker-Content-Digest header. A blob must hash to its digest and have its
size. Anything else (an HTML page from a proxy, a body cut short, a document of another shape) is a
permanent RegistryError naming the URL and what was wrong: the same request would get the same answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from ..core.errors import RegistryError
from .http import Response, describe_body

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
_GENERIC_TYPES = ("", "application/json")  # some registries answer these; the body's mediaType decides then
_HASHES = {"sha256": 64, "sha512": 128}


@dataclass(frozen=True)
class Manifest:
    """A checked manifest answer. For HEAD, `doc` is empty and `media_type` is what the headers say."""

    digest: str
    media_type: str
    body: bytes
    doc: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def digest_of(body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


def check_manifest(answer: Response, where: str, method: str, requested: str) -> Manifest:
    """ANSWER to a manifest HEAD or GET at WHERE (a URL) by REQUESTED (tag or digest), checked."""
    header = answer.headers.get("docker-content-digest", "")
    if header:
        _check_digest_syntax(header, where, "its Docker-Content-Digest header")
    if method == "HEAD":
        if answer.content_type not in _GENERIC_TYPES + INDEX_TYPES + MANIFEST_TYPES:
            raise _not_a_manifest(answer, where)
        if ":" in requested and header and header != requested:
            raise RegistryError(f"{where}: asked by digest {requested}, the registry says it is {header}")
        return Manifest(header, answer.content_type, b"", {})
    if answer.content_type not in _GENERIC_TYPES + INDEX_TYPES + MANIFEST_TYPES:
        raise _not_a_manifest(answer, where)
    doc = parse_json(answer, where, "a manifest")
    media_type = _media_type(answer, doc, where)
    _check_shape(doc, media_type, where)
    for claimed, what in ((header, "its Docker-Content-Digest header says"), (requested, "it was asked by")):
        algorithm = claimed.partition(":")[0] if ":" in claimed else ""
        if algorithm and claimed != digest_of(answer.body, algorithm):
            raise RegistryError(
                f"{where}: the manifest's digest is {digest_of(answer.body, algorithm)} but {what} {claimed}; "
                "a proxy may have altered it"
            )
    return Manifest(header or digest_of(answer.body), media_type, answer.body, doc)


def _media_type(answer: Response, doc: dict[str, Any], where: str) -> str:
    """The manifest's media type: its Content-Type, which its mediaType (when present) must agree with."""
    declared = doc.get("mediaType")
    media_type = answer.content_type
    if media_type in _GENERIC_TYPES:  # some registries say application/json: the document decides
        media_type = declared if isinstance(declared, str) else ""
        if not media_type:
            media_type = INDEX_TYPES[0] if "manifests" in doc else MANIFEST_TYPES[0] if "config" in doc else ""
    if media_type not in INDEX_TYPES + MANIFEST_TYPES:
        raise _not_a_manifest(answer, where)
    if declared is not None and declared != media_type:
        raise RegistryError(f"{where}: answered Content-Type {media_type} for a manifest whose mediaType is {declared}")
    return media_type


def check_blob(answer: Response, where: str, digest: str, size: int | None) -> bytes:
    """The body of a blob GET, which must have SIZE bytes (when known) and hash to DIGEST."""
    algorithm = _check_digest_syntax(digest, where, "the blob's digest")
    header = answer.headers.get("docker-content-digest", "")
    if header and header != digest:
        raise RegistryError(f"{where}: asked for blob {digest}, its Docker-Content-Digest header says {header}")
    if size is not None and len(answer.body) != size:
        raise RegistryError(
            f"{where}: answered {describe_body(answer)} for a blob of {size} bytes; a proxy may be in the way"
        )
    actual = digest_of(answer.body, algorithm)
    if actual != digest:
        raise RegistryError(
            f"{where}: answered {describe_body(answer)} whose digest is {actual}, not the blob's {digest}; "
            "a proxy may have altered it"
        )
    return answer.body


def parse_json(answer: Response, where: str, what: str) -> dict[str, Any]:
    """ANSWER's body as a JSON object; a RegistryError saying what came instead otherwise."""
    try:
        doc = json.loads(answer.body)
    except ValueError as exc:  # UnicodeDecodeError too
        if isinstance(exc, json.JSONDecodeError):
            problem = f"invalid JSON: {exc.msg} at byte {exc.pos} of {len(answer.body)}"
        else:
            problem = "not UTF-8 text"
        raise RegistryError(
            f"{where}: answered {describe_body(answer)} where {what} was expected ({problem}); "
            "a proxy or a server that is not a registry may be in the way"
        ) from None
    if not isinstance(doc, dict):
        raise RegistryError(f"{where}: answered a JSON {type(doc).__name__} where {what} (a JSON object) was expected")
    return doc


def field_of(doc: dict[str, Any], key: str, kind: type, where: str, what: str, required: bool = True) -> Any:
    """DOC[KEY] when it is a KIND; None when absent (and not REQUIRED); RegistryError otherwise."""
    value = doc.get(key)
    if value is None and not required:
        return None
    if value is None:
        raise RegistryError(f"{where}: {what} has no {key!r}")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RegistryError(f"{where}: {what} has {key!r} of type {type(value).__name__}, expected {kind.__name__}")
    return value


def descriptor(doc: Any, where: str, what: str) -> tuple[str, int]:
    """The digest and size of a descriptor (a config, a layer, an index entry)."""
    if not isinstance(doc, dict):
        raise RegistryError(f"{where}: {what} is a {type(doc).__name__}, expected a JSON object")
    digest = field_of(doc, "digest", str, where, what)
    _check_digest_syntax(digest, where, f"{what}'s digest")
    size = field_of(doc, "size", int, where, what)
    if size < 0:
        raise RegistryError(f"{where}: {what} has a negative size")
    return digest, size


def platform_of(entry: dict[str, Any], where: str) -> str | None:
    """`os/architecture[/variant]` of an index entry; None for entries without a platform (attestations)."""
    plat = field_of(entry, "platform", dict, where, "an index entry", required=False) or {}
    if plat.get("os") in (None, "unknown"):
        return None
    os_name = field_of(plat, "os", str, where, "an index entry's platform")
    arch = field_of(plat, "architecture", str, where, "an index entry's platform")
    variant = field_of(plat, "variant", str, where, "an index entry's platform", required=False)
    return f"{os_name}/{arch}" + (f"/{variant}" if variant else "")


def annotations_of(doc: dict[str, Any], where: str) -> dict[str, str]:
    notes = field_of(doc, "annotations", dict, where, "the manifest", required=False) or {}
    if not all(isinstance(v, str) for v in notes.values()):
        raise RegistryError(f"{where}: the manifest's annotations are not all strings")
    return {str(k): v for k, v in notes.items()}


def _check_shape(doc: dict[str, Any], media_type: str, where: str) -> None:
    """The fields we index, present and of the right type."""
    if media_type in INDEX_TYPES:
        entries = field_of(doc, "manifests", list, where, "the index")
        for number, entry in enumerate(entries):
            descriptor(entry, where, f"index entry {number}")
            platform_of(entry, where)
    else:
        descriptor(field_of(doc, "config", dict, where, "the image manifest"), where, "the config")
        for number, layer in enumerate(field_of(doc, "layers", list, where, "the image manifest")):
            descriptor(layer, where, f"layer {number}")
    annotations_of(doc, where)


def _check_digest_syntax(digest: str, where: str, what: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    if _HASHES.get(algorithm) != len(encoded) or encoded.strip("0123456789abcdef"):
        raise RegistryError(f"{where}: {what} {digest[:80]!r} is not a sha256 or sha512 digest")
    return algorithm


def _not_a_manifest(answer: Response, where: str) -> RegistryError:
    return RegistryError(
        f"{where}: answered {describe_body(answer)} where a manifest was expected (an OCI or Docker image "
        "manifest or index); a proxy or a server that is not a registry may be in the way"
    )
