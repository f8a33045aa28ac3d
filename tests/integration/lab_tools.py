"""Helpers the integration tests that drive the real CLI share: what a command said, for an assertion's
message, and the tags a repository of the suite's registry holds."""

from __future__ import annotations

import json
import subprocess
import urllib.request

from baseimages.core.reference import parse_reference
from baseimages.registry.client import RegistryClient


def said(done: subprocess.CompletedProcess[str], tail: int = 4000) -> str:
    """A finished command's exit code and the last TAIL characters of its stdout and stderr."""
    return f"exit {done.returncode}\n--- stdout\n{done.stdout[-tail:]}\n--- stderr\n{done.stderr[-tail:]}"


def released(client: RegistryClient, registry: str, path: str) -> dict[str, str | None]:
    """Every tag of REGISTRY/PATH but the candidates, with the digest it names."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the registry is on this machine
    with opener.open(f"http://{registry}/v2/{path}/tags/list", timeout=30) as answer:
        names = json.loads(answer.read())["tags"] or []
    return {
        tag: client.digest(parse_reference(f"{registry}/{path}:{tag}"))
        for tag in names
        if not tag.startswith("candidate-")
    }
