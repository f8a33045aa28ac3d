"""Platform strings (`os/arch[/variant]`), as buildx and the OCI image index spell them."""

from __future__ import annotations

import re

from .errors import ConfigError

_KNOWN_ARCHES = {"amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le"}
_PLATFORM = re.compile(r"^(?P<os>[a-z0-9]+)/(?P<arch>[a-z0-9]+)(?:/(?P<variant>v[0-9]+))?$")


def platform_problem(text: str) -> str | None:
    """Why TEXT is not a platform buildx accepts, or None when it is one."""
    match = _PLATFORM.match(text)
    if not match or match["arch"] not in _KNOWN_ARCHES:
        return f"{text!r} is not a platform; write os/arch[/variant], e.g. linux/amd64 or linux/arm64"
    return None


def check_platform(text: str, source: str, field: str) -> str:
    """Return TEXT when it is a platform buildx accepts, else raise ConfigError naming SOURCE and FIELD."""
    problem = platform_problem(text)
    if problem is not None:
        raise ConfigError(source, field, problem)
    return text
