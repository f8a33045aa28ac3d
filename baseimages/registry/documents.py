"""What a registry answers, checked before anything reads it: manifests, indexes and image configs.

A manifest answer must carry a manifest media type, parse as a JSON object of the shape its type
promises (an index has `manifests`, an image manifest `config` and `layers`), and hash to the digest it
was asked by and to its Docker-Content-Digest header. A blob must hash to its digest and have its
size. Anything else (an HTML page from a proxy, a body cut short, a document of another shape) is a
permanent RegistryError naming the URL and what was wrong: the same request would get the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.errors import RegistryError
from ..oci.documents import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    annotations_of,
    check_digest_syntax,
    descriptor,
    digest_of,
    field_of,
    json_object,
    platform_of,
)
from .http import Response, describe_body

ACCEPT = ", ".join(INDEX_TYPES + MANIFEST_TYPES)
_GENERIC_TYPES = ("", "application/json")  # some registries answer these; the body's mediaType decides then


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


def check_manifest(answer: Response, where: str, method: str, requested: str) -> Manifest:
    """ANSWER to a manifest HEAD or GET at WHERE (a URL) by REQUESTED (tag or digest), checked."""
    header = answer.headers.get("docker-content-digest", "")
    if header:
        check_digest_syntax(header, where, "its Docker-Content-Digest header")
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
    algorithm = check_digest_syntax(digest, where, "the blob's digest")
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
    return json_object(answer.body, where, what, describe_body(answer))


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


def _not_a_manifest(answer: Response, where: str) -> RegistryError:
    return RegistryError(
        f"{where}: answered {describe_body(answer)} where a manifest was expected (an OCI or Docker image "
        "manifest or index); a proxy or a server that is not a registry may be in the way"
    )
