"""What the integration tests look for when they check that a build secret stayed out of what was pushed:
the certificates only the host trusts (its CA bundle minus the image's own CA certificates), and a CA bundle
that always holds one such certificate, so that the check means something on any machine."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from baseimages.engine.client import DockerEngine, RunRequest

IMAGE_CA_FILE = "/etc/ssl/certs/ca-certificates.crt"


def pem_blocks(text: str) -> set[str]:
    """The PEM certificates of TEXT, each from its BEGIN line up to its END line."""
    return {"-----BEGIN" + block.split("-----END")[0] for block in text.split("-----BEGIN")[1:]}


def needle(pem: str) -> str:
    """A base64 line of the body of the certificate PEM: text only that certificate's bytes contain."""
    return pem.splitlines()[2]


def host_only_needles(engine: DockerEngine, ref: str, ca_bundle: Path, platform: str = "linux/amd64") -> list[str]:
    """A base64 line of the body of each certificate in CA_BUNDLE that the image REF does not trust itself
    (a TLS proxy's CA, the marker of `marked_ca_bundle`): text that can only be in a layer if the CA bundle
    secret leaked into it."""
    in_image = engine.run(RunRequest(ref, ["cat", IMAGE_CA_FILE], platform)).stdout
    host_only = pem_blocks(ca_bundle.read_text()) - pem_blocks(in_image)
    return [needle(pem) for pem in sorted(host_only)]


@dataclass(frozen=True)
class MarkedBundle:
    """A CA bundle for builds: the certificates builds need to reach the package index, plus a marker."""

    path: Path
    marker: str  # the needle of the marker certificate: no image trusts it, no layer may contain it


def marked_ca_bundle(folder: Path, detected: Path | None) -> MarkedBundle:
    """DETECTED (the machine's CA bundle, e.g. with a TLS proxy's CA), else the system's default CA file, with
    a self-signed certificate made here appended: a bundle that still verifies the package index, and a
    certificate of the host's own on every machine, intercepted TLS or not."""
    base = detected or _system_ca_file()
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed to make a marker certificate (Debian's package openssl)")
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-keyout", str(folder / "marker.key"),
         "-out", str(folder / "marker.pem"), "-subj", f"/CN=baseimages-test-marker-{uuid.uuid4().hex[:12]}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    marker = (folder / "marker.pem").read_text()
    bundle = folder / "ca-bundle.pem"
    bundle.write_text(base.read_text().rstrip("\n") + "\n" + marker)
    (pem,) = pem_blocks(marker)
    return MarkedBundle(bundle, needle(pem))


def _system_ca_file() -> Path:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, IMAGE_CA_FILE):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    pytest.fail("no CA bundle: neither detected (SSL_CERT_FILE, PIP_CERT, ...) nor the system's default CA file")
