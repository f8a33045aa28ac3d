"""`prune --local`: what the factory leaves on the engine that runs it. BuildKit's cache, pruned down to a
size to keep (`docker builder prune --keep-storage`, the guide's troubleshooting step), and the factory's
local images: each catalog image's candidates (`<repository>:candidate-X.Y.Z`, what a build loads for its
tests and children) and contract services (`baseimages-contract/<name>:candidate`).

Each action renders its exact command line (what a dry run prints) and is run through python-on-whales,
imported only here and in `engine`, only when the engine is used.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from ..checks.contract import service_tag
from ..core.errors import EngineError


class LocalKind(StrEnum):
    BUILDER_PRUNE = "builder prune"
    REMOVE_IMAGE = "remove image"


@dataclass(frozen=True)
class LocalAction:
    kind: LocalKind
    target: str  # the size to keep, or the image reference
    rule: str

    def argv(self) -> list[str]:
        if self.kind is LocalKind.BUILDER_PRUNE:
            return ["docker", "builder", "prune", "--force", "--keep-storage", self.target]
        return ["docker", "image", "rm", self.target]

    def describe(self) -> str:
        return f"{shlex.join(self.argv())}  # {self.rule}"

    def to_dict(self) -> dict[str, Any]:
        return {"local": self.kind.value, "target": self.target, "command": self.argv(), "rule": self.rule}


class LocalStore(Protocol):
    """What `--local` needs of the engine. `DockerLocalStore` is the real one; tests pass another."""

    def image_tags(self, repository: str) -> list[str]:
        """The references `repository:tag` of the local images of REPOSITORY."""
        ...

    def run(self, action: LocalAction) -> None: ...


def plan_local(store: LocalStore, repositories: dict[str, str], keep_storage: str) -> list[LocalAction]:
    """The local actions for the catalog images REPOSITORIES (name -> repository): the builder cache
    pruned to KEEP_STORAGE, then each local candidate and contract service image removed."""
    actions = [LocalAction(LocalKind.BUILDER_PRUNE, keep_storage, f"BuildKit cache above {keep_storage}")]
    for name, repository in sorted(repositories.items()):
        for ref in sorted(store.image_tags(repository)):
            if ref.rsplit(":", 1)[-1].startswith("candidate-"):
                actions.append(LocalAction(LocalKind.REMOVE_IMAGE, ref, f"local candidate of {name}"))
        contract = service_tag(name)
        if contract in store.image_tags(contract.rsplit(":", 1)[0]):
            actions.append(LocalAction(LocalKind.REMOVE_IMAGE, contract, f"local contract service of {name}"))
    return actions


class DockerLocalStore:
    """The real engine, through python-on-whales: the same commands `LocalAction.argv` renders."""

    def __init__(self, host: str | None = None) -> None:
        from python_on_whales import DockerClient

        self._docker = DockerClient(host=host) if host else DockerClient()

    def image_tags(self, repository: str) -> list[str]:
        from python_on_whales.exceptions import DockerException

        try:
            images = self._docker.image.list(repository)
        except DockerException as exc:
            raise EngineError(f"listing the local images of {repository} failed: {_last_line(exc)}") from None
        return sorted({tag for image in images for tag in image.repo_tags if tag.rsplit(":", 1)[0] == repository})

    def run(self, action: LocalAction) -> None:
        from python_on_whales.exceptions import DockerException
        from python_on_whales.utils import run

        try:
            run([*self._docker.docker_cmd, *action.argv()[1:]])
        except DockerException as exc:
            raise EngineError(f"{shlex.join(action.argv())} failed: {_last_line(exc)}") from None


def _last_line(exc: Any) -> str:
    text: str = exc.stderr or exc.stdout or str(exc)
    lines: Sequence[str] = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
