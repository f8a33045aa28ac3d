"""OCI and Docker image documents (indexes, manifests, descriptors) read as data, wherever they come from:
a registry's answer or an OCI layout that buildx wrote. A document that is not of the shape its type
promises is a RegistryError naming where it was read and what was wrong."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..core.errors import RegistryError

INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_HASHES = {"sha256": 64, "sha512": 128}


def json_object(body: bytes, where: str, what: str, described: str | None = None) -> dict[str, Any]:
    """BODY as a JSON object; a RegistryError saying what came instead otherwise. DESCRIBED says what
    BODY looked like (for a registry's answer: its size and Content-Type)."""
    try:
        doc = json.loads(body)
    except ValueError as exc:  # UnicodeDecodeError too
        if isinstance(exc, json.JSONDecodeError):
            problem = f"invalid JSON: {exc.msg} at byte {exc.pos} of {len(body)}"
        else:
            problem = "not UTF-8 text"
        if described is None:
            raise RegistryError(f"{where}: {len(body)} bytes where {what} was expected ({problem})") from None
        raise RegistryError(
            f"{where}: answered {described} where {what} was expected ({problem}); "
            "a proxy or a server that is not a registry may be in the way"
        ) from None
    if not isinstance(doc, dict):
        raise RegistryError(f"{where}: answered a JSON {type(doc).__name__} where {what} (a JSON object) was expected")
    return doc


def digest_of(body: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"


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
    check_digest_syntax(digest, where, f"{what}'s digest")
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


def check_digest_syntax(digest: str, where: str, what: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    if _HASHES.get(algorithm) != len(encoded) or encoded.strip("0123456789abcdef"):
        raise RegistryError(f"{where}: {what} {digest[:80]!r} is not a sha256 or sha512 digest")
    return algorithm
