"""Image references (`[domain/]path[:tag][@digest]`), normalised the way Docker does."""

from __future__ import annotations

import re
from dataclasses import dataclass

DOCKER_HUB = "docker.io"
_REFERENCE = re.compile(
    r"^(?:(?P<domain>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?"
    r"(?P<path>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")


@dataclass(frozen=True)
class Reference:
    domain: str  # registry host[:port]; docker.io for Docker Hub
    path: str  # repository path; library/ added for Docker Hub official images
    tag: str | None = None
    digest: str | None = None

    @property
    def repository(self) -> str:
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        out = self.repository
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def parse_reference(text: str) -> Reference:
    """Parse TEXT; ValueError when it is not a reference. `python:3.11` -> docker.io/library/python:3.11."""
    match = _REFERENCE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not an image reference")
    domain, path = match["domain"], match["path"]
    if domain is not None and not ("." in domain or ":" in domain or domain == "localhost"):
        # `foo/bar` names a Docker Hub user, not a host
        path = f"{domain}/{path}"
        domain = None
    if domain is None or domain in ("index.docker.io", "registry-1.docker.io"):
        domain = DOCKER_HUB
    if domain == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return Reference(domain=domain, path=path, tag=match["tag"], digest=match["digest"])


def is_valid_tag(tag: str) -> bool:
    return bool(_TAG.match(tag))
