"""Read-only questions to the Docker engine, for `doctor`: the buildx version, what dockerd says about
itself, the builders and their platforms, the build cache's size. Part of the engine layer: besides
`engine`, the one module that imports python_on_whales (on first use, so that start-up stays cheap);
like `engine`, it translates python-on-whales' DockerException into EngineError here and only here.
Nothing here changes the engine: no pull, no build, no prune, no `buildx use`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..core.errors import EngineError

T = TypeVar("T")
DEFAULT_HOST = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class EngineFacts:
    """What `docker info` says that doctor needs."""

    server_version: str
    storage_driver: str  # e.g. overlayfs (containerd snapshotter) or overlay2 (classic store)
    driver_type: str  # DriverStatus' driver-type: io.containerd.snapshotter.v1 for the containerd store
    root_dir: Path | None
    mirrors: tuple[str, ...]  # dockerd's registry-mirrors, without a trailing slash
    architecture: str  # the engine's machine, e.g. x86_64


@dataclass(frozen=True)
class BuilderNode:
    name: str
    status: str  # running, inactive, stopped, error
    platforms: tuple[str, ...]
    buildkit: str = ""


@dataclass(frozen=True)
class BuilderInfo:
    name: str
    driver: str
    current: bool  # the one `docker buildx build` uses without --builder
    nodes: tuple[BuilderNode, ...]

    @property
    def platforms(self) -> tuple[str, ...]:
        """The platforms of its running nodes (an inactive docker-container node has none until it boots)."""
        seen: dict[str, None] = {}
        for node in self.nodes:
            seen.update(dict.fromkeys(node.platforms))
        return tuple(seen)


@dataclass(frozen=True)
class CacheUsage:
    """The BuildKit build cache as `docker system df` counts it (what `docker builder prune` reclaims)."""

    size: int  # bytes
    reclaimable: int  # bytes
    entries: int


class EngineProbe(Protocol):
    """What doctor asks the engine. `DockerProbe` is the real one; tests pass fakes. Every method raises
    EngineError (with Docker's own words) when it cannot answer."""

    @property
    def host(self) -> str: ...

    def buildx_version(self) -> str: ...

    def facts(self) -> EngineFacts: ...

    def builders(self) -> list[BuilderInfo]: ...

    def cache_usage(self) -> CacheUsage: ...

    def labelled_containers(self, label: str) -> list[tuple[str, str]]: ...


class DockerProbe:
    """The local engine (or HOST, else DOCKER_HOST's) through python-on-whales. CLIENT_CALL replaces the
    `docker` command (python-on-whales' client_call, e.g. ["podman"] or a test's stand-in)."""

    def __init__(self, host: str | None = None, client_call: Sequence[str] | None = None) -> None:
        self._host = host
        self._client_call = list(client_call) if client_call else None
        self._client: Any = None

    @property
    def host(self) -> str:
        return self._host or os.environ.get("DOCKER_HOST") or DEFAULT_HOST

    def buildx_version(self) -> str:
        return str(self._ask("docker buildx version", lambda docker: docker.buildx.version())).strip()

    def facts(self) -> EngineFacts:
        info = self._ask("docker info", lambda docker: docker.system.info())
        status = {str(row[0]): str(row[1]) for row in info.driver_status or [] if len(row) == 2}
        config = info.registry_config or {}
        mirrors = tuple(str(m).rstrip("/") for m in config.get("Mirrors") or [])
        if info.server_version is None:  # docker info answers the client part even without a daemon
            raise EngineError(f"dockerd at {self.host} did not answer `docker info`")
        return EngineFacts(
            server_version=str(info.server_version),
            storage_driver=str(info.driver or ""),
            driver_type=status.get("driver-type", ""),
            root_dir=Path(info.docker_root_dir) if info.docker_root_dir else None,
            mirrors=mirrors,
            architecture=str(info.architecture or ""),
        )

    def builders(self) -> list[BuilderInfo]:
        current = self._ask("docker buildx inspect", lambda docker: docker.buildx.inspect()).name
        listed = self._ask("docker buildx ls", lambda docker: docker.buildx.list())
        return sorted((_builder(b, current) for b in listed), key=lambda b: (not b.current, b.name))

    def builder(self, name: str) -> BuilderInfo:
        """The builder (or Docker context) NAME, booted first so that it lists its platforms."""
        return _builder(
            self._ask(f"docker buildx inspect --bootstrap {name}", lambda d: d.buildx.inspect(name, True)), None
        )

    def cache_usage(self) -> CacheUsage:
        # `docker system df` lists containers too, and fails when one goes away while it counts: ask twice.
        try:
            df = self._ask("docker system df", lambda docker: docker.system.disk_free())
        except EngineError:
            df = self._ask("docker system df", lambda docker: docker.system.disk_free())
        cache = df.build_cache
        return CacheUsage(int(cache.size or 0), int(cache.reclaimable or 0), int(cache.total_count or 0))

    def labelled_containers(self, label: str) -> list[tuple[str, str]]:
        """(name, value of LABEL) of every container, running or not, that carries LABEL."""
        listed = self._ask("docker container ls", lambda d: d.container.list(all=True, filters=[("label", label)]))
        return [(str(c.name), str((c.config.labels or {}).get(label, ""))) for c in listed]

    def _ask(self, what: str, call: Callable[[Any], T]) -> T:
        from python_on_whales.client_config import ClientNotFoundError
        from python_on_whales.exceptions import DockerException

        try:
            if self._client is None:
                from python_on_whales import DockerClient

                options: dict[str, Any] = {"host": self._host} if self._host else {}
                if self._client_call:
                    options["client_call"] = self._client_call
                self._client = DockerClient(**options)
            return call(self._client)
        except ClientNotFoundError:
            raise EngineError(
                "the docker CLI is not installed (on a bare Debian machine run `scripts/engine up`)"
            ) from None
        except DockerException as exc:
            raise EngineError(f"`{what}` failed: {_last_line(exc.stderr or exc.stdout or str(exc))}") from None
        except (ValueError, TypeError) as exc:  # python-on-whales could not read Docker's answer
            raise EngineError(f"`{what}` answered something unreadable: {exc}") from None


def _builder(builder: Any, current: str | None) -> BuilderInfo:
    nodes = tuple(
        BuilderNode(
            name=str(node.name or ""),
            status=str(node.status or "error"),
            platforms=tuple(str(p) for p in node.platforms or []),
            buildkit=str(node.version or ""),
        )
        for node in builder.nodes or []
    )
    return BuilderInfo(str(builder.name), str(builder.driver or ""), builder.name == current, nodes)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"
