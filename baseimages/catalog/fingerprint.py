"""Input fingerprints: what an image is built from, hashed, so an unchanged image is never rebuilt.

An image's inputs are its Dockerfile, the context files its .dockerignore lets through, its build
args, its platforms and the digest its parent resolved to. Each part is hashed on its own (so that a
plan can say *what* changed) and the parts together give the fingerprint. Both are written into the
pushed index as annotations, where one registry request reads them back.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .spec import ImageSpec

FINGERPRINT_KEY = "io.baseimages.fingerprint"
INPUTS_KEY = "io.baseimages.inputs"
CREATED_KEY = "org.opencontainers.image.created"
BASE_DIGEST_KEY = "org.opencontainers.image.base.digest"


@dataclass(frozen=True)
class Inputs:
    """Per-part hashes of one image's build inputs."""

    dockerfile: str
    context: str
    build_args: str
    platforms: str
    parent_digest: str

    def parts(self) -> dict[str, str]:
        return {
            "dockerfile": self.dockerfile,
            "context": self.context,
            "build_args": self.build_args,
            "platforms": self.platforms,
            "parent": self.parent_digest,
        }

    @property
    def fingerprint(self) -> str:
        return "sha256:" + _sha(json.dumps(self.parts(), sort_keys=True).encode())

    def encoded(self) -> str:
        """The part hashes (parent excluded: it is in base.digest) in a compact annotation value."""
        parts = self.parts()
        parts.pop("parent")
        return ";".join(f"{k}={v[:16]}" for k, v in sorted(parts.items()))


def decode_inputs(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in value.split(";"):
        key, sep, digest = item.partition("=")
        if sep:
            out[key] = digest
    return out


def compute_inputs(
    spec: ImageSpec, platforms: Sequence[str], build_args: Mapping[str, str], parent_digest: str
) -> Inputs:
    return Inputs(
        dockerfile=_sha(spec.dockerfile.read_bytes()),
        context=context_hash(spec.directory),
        build_args=_sha(json.dumps(dict(sorted(build_args.items()))).encode()),
        platforms=_sha(",".join(platforms).encode()),
        parent_digest=parent_digest,
    )


def context_hash(directory: Path) -> str:
    """Hash of every file the build context sends (names, modes and contents), .dockerignore applied.
    The Dockerfile has its own part and is left out here, so that a plan can tell the two apart."""
    digest = hashlib.sha256()
    for rel in context_files(directory):
        if rel == "Dockerfile":
            continue
        path = directory / rel
        digest.update(rel.encode() + b"\0")
        digest.update(b"x" if os.access(path, os.X_OK) else b"-")
        digest.update(_sha(path.read_bytes()).encode() + b"\n")
    return digest.hexdigest()


def context_files(directory: Path) -> list[str]:
    """Relative paths (POSIX) of the files in DIRECTORY that .dockerignore does not exclude."""
    patterns = _read_dockerignore(directory / ".dockerignore")
    out = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            rel = Path(root, name).relative_to(directory).as_posix()
            if not is_ignored(rel, patterns):
                out.append(rel)
    return out


def is_ignored(rel: str, patterns: Sequence[tuple[bool, str]]) -> bool:
    """Docker's .dockerignore rule: the last matching pattern wins; `!` re-includes; a pattern that
    matches a directory excludes everything below it; `**` matches any number of directories."""
    ignored = False
    for negate, pattern in patterns:
        if _matches(rel, pattern):
            ignored = not negate
    return ignored


def _matches(rel: str, pattern: str) -> bool:
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    regex = _translate(pattern)
    return any(regex(prefix) for prefix in prefixes)


def _translate(pattern: str) -> Callable[[str], bool]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    compiled = re.compile(out + r"\Z")
    return lambda text: compiled.match(text) is not None


def _read_dockerignore(path: Path) -> list[tuple[bool, str]]:
    if not path.is_file():
        return []
    patterns = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = line[1:].strip() if negate else line
        line = os.path.normpath(line.strip("/")).replace(os.sep, "/")
        if line == ".":
            continue
        patterns.append((negate, line))
    return patterns


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
