"""`verify`: what a consumer checks before building FROM a base image.

For an image in a registry, with the publisher's public key: its digest carries a cosign signature made
with that key; BuildKit's provenance and an SBOM are attested for every platform; and a signed test
record names this exact digest and says every platform passed. Each failure is one line.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import ConfigError, SigningError
from ..core.reference import Reference, parse_reference
from ..registry.client import ImageIndex, RegistryClient
from .sbom import SBOM_TYPE
from .signing import Cosign
from .testrecord import TEST_RECORD_TYPE, record_problems

PROVENANCE_TYPES = frozenset({"https://slsa.dev/provenance/v0.2", "https://slsa.dev/provenance/v1"})
SBOM_TYPES = frozenset({"https://spdx.dev/Document", "https://cyclonedx.org/bom"})


@dataclass
class Verdict:
    reference: str
    digest: str | None = None
    platforms: tuple[str, ...] = ()
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def verify_image(reference: str, public_key: Path, registry: RegistryClient, cosign: Cosign) -> Verdict:
    """Check REFERENCE (a tag or a digest) against PUBLIC_KEY. Registry errors are raised (exit 3);
    everything the image lacks is a failure line in the verdict."""
    if not public_key.is_file():
        raise ConfigError("--key", str(public_key), "no such file (the publisher's cosign public key)")
    try:
        ref = parse_reference(reference)
    except ValueError:
        example = "e.g. localhost:5000/baseimages/x:1.0.0"
        raise ConfigError("REF", reference, f"is not an image reference, {example}") from None
    verdict = Verdict(reference)
    digest = ref.digest or registry.digest(ref)
    if digest is None:
        verdict.failures.append(f"{reference}: not found in the registry")
        return verdict
    pinned = Reference(ref.domain, ref.path, None, digest)
    index = registry.index(pinned)
    verdict.digest, verdict.platforms = digest, index.platforms
    subject = f"{ref.repository}@{digest}"
    verdict.failures += signature_failures(cosign, subject, public_key)
    verdict.failures += _provenance(index)
    verdict.failures += _sboms(cosign, ref.repository, public_key, index)
    verdict.failures += test_record_failures(cosign, subject, public_key, index)
    return verdict


def promotion_failures(cosign: Cosign, subject: str, public_key: Path, index: ImageIndex) -> list[str]:
    """Why SUBJECT (`repository@digest`, whose index is INDEX) is not proven to have passed: its signature
    by PUBLIC_KEY and a signed test record that says every platform of INDEX passed. [] when proven."""
    return signature_failures(cosign, subject, public_key) + test_record_failures(cosign, subject, public_key, index)


def own_key_failures(cosign: Cosign, subject: str, index: ImageIndex) -> list[str]:
    """`promotion_failures` with the public key of COSIGN's own signing key (what a push signs with)."""
    with tempfile.TemporaryDirectory(prefix="baseimages-key-") as tmp:
        try:
            public_key = cosign.public_key(Path(tmp) / "cosign.pub")
        except SigningError as exc:
            return [str(exc)]
        return promotion_failures(cosign, subject, public_key, index)


def signature_failures(cosign: Cosign, subject: str, public_key: Path) -> list[str]:
    why = cosign.verify(subject, public_key)
    return [] if why is None else [f"signature: {subject} has no valid signature by this key ({why})"]


def _provenance(index: ImageIndex) -> list[str]:
    """BuildKit's provenance, in the index, for every platform."""
    return [
        f"provenance: none attested for {platform}"
        for platform in index.platforms
        if not index.predicates_for(platform) & PROVENANCE_TYPES
    ]


def _sboms(cosign: Cosign, repository: str, public_key: Path, index: ImageIndex) -> list[str]:
    """An SBOM for every platform: a CycloneDX attestation on its manifest signed by this key (or an SBOM
    attestation BuildKit put in the index)."""
    failures = []
    for manifest in index.manifests:
        if index.predicates_for(manifest.platform) & SBOM_TYPES:
            continue
        found = cosign.attestations(f"{repository}@{manifest.digest}", public_key, SBOM_TYPE)
        if isinstance(found, str) or not any(manifest.digest in s.subjects for s in found):
            failures.append(f"sbom: none attested for {manifest.platform}")
    return failures


def test_record_failures(cosign: Cosign, subject: str, public_key: Path, index: ImageIndex) -> list[str]:
    found = cosign.attestations(subject, public_key, TEST_RECORD_TYPE)
    if isinstance(found, str):
        return [f"test record: none signed by this key ({found})"]
    records = [s for s in found if index.digest in s.subjects]
    if not records:
        return [f"test record: none names {index.digest}"]
    return [f"test record: {problem}" for record in records for problem in record_problems(record.predicate, index)]
