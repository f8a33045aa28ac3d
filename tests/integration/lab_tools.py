"""Helpers the integration tests that drive the real CLI share: what a command said, for an assertion's
message, the tags a repository of the suite's registry holds, and the real engine keeping each build's lines."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from baseimages.core.reference import parse_reference
from baseimages.engine.client import BuildRequest, DockerEngine
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


class RecordingEngine(DockerEngine):
    """The real engine, keeping each build's progress lines: (image, platform, output type) -> lines."""

    def __init__(self) -> None:
        super().__init__()
        self.logs: dict[tuple[str, str, str], list[str]] = {}

    def _build(self, request: BuildRequest, image: str, on_line: Any, metadata: Path | None = None) -> None:
        lines = self.logs.setdefault((image.split(" ")[0], request.platforms[0], request.output["type"]), [])

        def both(line: str) -> None:
            lines.append(line)
            if on_line is not None:
                on_line(line)

        super()._build(request, image, both, metadata)
