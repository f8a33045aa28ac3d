"""SBOMs: one CycloneDX document per platform, made by a well-kept generator, OWASP's cdxgen (from npm;
`scripts/sbom-tools` installs it with its plugins, whose trivy reads the dpkg database), run on the
host against that platform's root filesystem, exported from the image. cdxgen reads the dpkg status and
each `.dist-info/METADATA` (system Python and /opt/venv) without running anything of the image, so an
arm64 image is read as fast as an amd64 one. baseimages writes no package scanner of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..core.errors import BuildError
from ..core.process import run_process

SBOM_TYPE = "https://cyclonedx.org/bom"  # cosign's `--type cyclonedx`
GENERATOR = "cdxgen"


def generate_sbom(rootfs: Path, output: Path, image: str, platform: str, generator: str = GENERATOR) -> dict[str, Any]:
    """A CycloneDX 1.6 document of the Debian packages and Python distributions in ROOTFS, written to
    OUTPUT and returned. An empty one (no Debian package found: cdxgen's plugins are missing) is an error."""
    argv = [
        generator, "-t", "rootfs", str(rootfs), "-o", str(output),
        "--only", "pkg:deb", "--only", "pkg:pypi",
        "--exclude", "**/requirements*.txt",  # what a file lists is not what is installed
        "--spec-version", "1.6",
    ]  # fmt: skip
    done = run_process(argv, env={"CDXGEN_TELEMETRY": "false", "FETCH_LICENSE": "false"}, timeout=900)
    if not done.ok:
        raise BuildError(image, f"SBOM of {platform}: {generator} failed: {done.last_line()}")
    try:
        bom: dict[str, Any] = json.loads(output.read_text())
    except (OSError, ValueError) as exc:
        raise BuildError(image, f"SBOM of {platform}: {generator} wrote no CycloneDX document ({exc})") from None
    if not any(_purl(c).startswith("pkg:deb/") for c in bom.get("components") or []):
        raise BuildError(
            image, f"SBOM of {platform}: no Debian package found (are cdxgen's plugins installed? scripts/sbom-tools)"
        )
    return bom


def packages(bom: dict[str, Any]) -> dict[str, str]:
    """name -> version of the Debian packages and Python distributions in BOM (lower-case names)."""
    found = {}
    for component in bom.get("components") or []:
        if _purl(component).startswith(("pkg:deb/", "pkg:pypi/")) and component.get("name"):
            found[str(component["name"]).lower()] = str(component.get("version", ""))
    return found


def _purl(component: Any) -> str:
    return str(component.get("purl", "")) if isinstance(component, dict) else ""
