"""What a failed buildx build means, read from its last error line: a registry failure (retried when
transient), a build BuildKit lost (run again), or a build that failed (final)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..core.errors import BuildError, RegistryError
from .build_logs import error_excerpt

# An error line of buildx that names a registry request: the build itself succeeded, pushing failed.
_PUSH_FAILURE = re.compile(
    r"failed to push|failed to resolve source metadata|unexpected status from (HEAD|GET|PUT|POST|PATCH) request|"
    r"failed to do request|failed to authorize|pushing .* with docker|connection (refused|reset)",
    re.IGNORECASE,
)
# BuildKit lost the client's session, typically after "sending tarball" on a loaded machine (moby/buildkit
# #2691, #5687): the build itself worked, and runs again from its cache.
_LOST_SESSION = re.compile(r"DeadlineExceeded|no active session for", re.IGNORECASE)
_PERMANENT = re.compile(r"\b(401|403)\b|unauthorized|denied|manifest unknown|invalid reference", re.IGNORECASE)
_TRANSIENT = re.compile(
    r"(?<![\w.:-])(50[0-4]|429)(?![\w.-])|Service Unavailable|Too Many Requests|Bad Gateway|"
    r"connection (refused|reset)|timeout|timed out|\bEOF\b|broken pipe|TLS handshake",
    re.IGNORECASE,
)


def is_transient_text(text: str) -> bool:
    """Whether a registry error message describes a failure worth retrying."""
    return not _PERMANENT.search(text) and bool(_TRANSIENT.search(text))


def classify_push_failure(image: str, error_line: str) -> RegistryError | None:
    """A RegistryError for a buildx error line that is about talking to a registry, else None."""
    if not _PUSH_FAILURE.search(error_line):
        return None
    action = "resolving an image in the registry" if "resolve" in error_line else "pushing to the registry"
    return RegistryError(f"{image}: {action} failed: {error_line}", transient=is_transient_text(error_line))


def build_failure(image: str, exit_code: int | None, tail: Sequence[str]) -> BuildError | RegistryError:
    """The error for IMAGE's buildx build that exited with EXIT_CODE, its output ending in TAIL."""
    last = _last_error(tail)
    registry_error = classify_push_failure(image, last)
    if registry_error is not None:
        return registry_error
    message = f"docker buildx build failed (exit {exit_code}): {last}"
    return BuildError(image, message, log=error_excerpt(tail), transient=bool(_LOST_SESSION.search(last)))


def _last_error(tail: Sequence[str]) -> str:
    for line in reversed(tail):
        if "ERROR" in line or "error" in line:
            return line.strip()
    return tail[-1].strip() if tail else "(no output)"
