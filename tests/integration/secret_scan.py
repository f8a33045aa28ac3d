"""What the integration tests look for when they check that a build secret stayed out of what was pushed:
the certificates only the host trusts (its CA bundle minus the image's own CA certificates)."""

from __future__ import annotations

from pathlib import Path

from baseimages.engine.client import DockerEngine, RunRequest

IMAGE_CA_FILE = "/etc/ssl/certs/ca-certificates.crt"


def pem_blocks(text: str) -> set[str]:
    """The PEM certificates of TEXT, each from its BEGIN line up to its END line."""
    return {"-----BEGIN" + block.split("-----END")[0] for block in text.split("-----BEGIN")[1:]}


def host_only_needles(engine: DockerEngine, ref: str, ca_bundle: Path, platform: str = "linux/amd64") -> list[str]:
    """A base64 line of the body of each certificate in CA_BUNDLE that the image REF does not trust itself
    (the TLS proxy's CA): text that can only be in a layer if the CA bundle secret leaked into it."""
    in_image = engine.run(RunRequest(ref, ["cat", IMAGE_CA_FILE], platform)).stdout
    host_only = pem_blocks(ca_bundle.read_text()) - pem_blocks(in_image)
    return [pem.splitlines()[2] for pem in sorted(host_only)]
