"""A stand-in for engine_probe.DockerProbe and a writer of fake /proc/sys/fs/binfmt_misc folders, for the
doctor's unit tests: no Docker, no kernel. The defaults describe a healthy machine (the one the
integration tests run on): buildx 0.13.1, dockerd with the containerd image store, a running default
builder for linux/amd64 and linux/arm64, a small build cache."""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from baseimages.catalog.plan import make_plan
from baseimages.catalog.spec import Catalog
from baseimages.core.errors import EngineError, RegistryError
from baseimages.core.reference import DOCKER_HUB, Reference
from baseimages.core.retry import RetryPolicy
from baseimages.doctor.checkup import DoctorContext
from baseimages.engine.probe import BuilderInfo, BuilderNode, CacheUsage, EngineFacts
from baseimages.registry.client import RegistryClient
from baseimages.settings.config import Settings

GB = 10**9
AARCH64_MAGIC = "7f454c460201010000000000000000000200b700"
AARCH64_MASK = "ffffffffffffff00fffffffffffffffffeffffff"
ARM_MAGIC = "7f454c4601010100000000000000000002002800"


def default_builders() -> list[BuilderInfo]:
    node = BuilderNode("default", "running", ("linux/amd64", "linux/amd64/v2", "linux/arm64"), "v0.13.2")
    return [BuilderInfo("default", "docker", True, (node,))]


@dataclass
class FakeProbe:
    """Answers what it is given. DOWN: dockerd does not answer (buildx still does, as the real CLI);
    NO_BUILDX: `docker buildx` is not a docker command."""

    host: str = "unix:///var/run/docker.sock"
    version: str = "github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3"
    down: bool = False
    no_buildx: bool = False
    driver_type: str = "io.containerd.snapshotter.v1"
    storage_driver: str = "overlayfs"
    mirrors: tuple[str, ...] = ()
    builder_list: list[BuilderInfo] = field(default_factory=default_builders)
    cache: CacheUsage = field(default_factory=lambda: CacheUsage(GB, GB, 200))
    containers: list[tuple[str, str]] = field(default_factory=list)  # (name, its io.baseimages.run label)
    asked: list[str] = field(default_factory=list)

    def buildx_version(self) -> str:
        self.asked.append("buildx version")
        if self.no_buildx:
            raise EngineError("`docker buildx version` failed: docker: 'buildx' is not a docker command.")
        return self.version

    def facts(self) -> EngineFacts:
        self.asked.append("info")
        self._up()
        return EngineFacts(
            "26.1.5", self.storage_driver, self.driver_type, Path("/var/lib/docker"), self.mirrors, "x86_64"
        )

    def builders(self) -> list[BuilderInfo]:
        self.asked.append("builders")
        self._up()
        return self.builder_list

    def cache_usage(self) -> CacheUsage:
        self.asked.append("cache")
        self._up()
        return self.cache

    def labelled_containers(self, label: str) -> list[tuple[str, str]]:
        self.asked.append(f"containers {label}")
        self._up()
        return list(self.containers)

    def _up(self) -> None:
        if self.down:
            raise EngineError(f"`docker info` failed: Cannot connect to the Docker daemon at {self.host}.")


def write_binfmt(
    directory: Path,
    handlers: dict[str, tuple[str, str, str, bool]] | None = None,
    status: str = "enabled",
) -> Path:
    """DIRECTORY as binfmt_misc shows it: `status`, `register` and one file per handler.
    HANDLERS: name -> (magic hex, mask hex, flags, enabled); default: Debian's qemu-aarch64 with flags PF."""
    if handlers is None:
        handlers = {"qemu-aarch64": (AARCH64_MAGIC, AARCH64_MASK, "PF", True)}
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "status").write_text(status + "\n")
    (directory / "register").write_text("")
    for name, (magic, mask, flags, enabled) in handlers.items():
        (directory / name).write_text(
            f"{'enabled' if enabled else 'disabled'}\ninterpreter /usr/libexec/qemu-binfmt/{name}-binfmt-P\n"
            f"flags: {flags}\noffset 0\nmagic {magic}\nmask {mask}\n"
        )
    return directory


def doctor_context(
    catalog: Catalog,
    probe: FakeProbe | None = None,
    clients: Callable[[tuple[str, ...]], RegistryClient] | None = None,
    binfmt_dir: Path | None = None,
    free: int | None = 100 * GB,
    **settings: Any,
) -> DoctorContext:
    """A DoctorContext for CATALOG's images on an x86_64 machine: PROBE (default: a healthy FakeProbe),
    CLIENTS (the registry clients; default: no registry may be asked), BINFMT_DIR, FREE bytes on dockerd's
    disk, SETTINGS fields."""

    def no_registry(mirrors: tuple[str, ...]) -> RegistryClient:
        raise AssertionError("this test asks no registry")

    config = Settings(root=catalog.directory.parent, **settings)
    return DoctorContext(
        settings=config,
        plan=make_plan(catalog, config),
        engine=probe or FakeProbe(),
        registry=clients or no_registry,
        binfmt_dir=binfmt_dir or Path("/nonexistent-binfmt"),
        host_arch="x86_64",
        free_bytes=lambda path: free,
        temp_dir=Path("/nonexistent-tmp"),
    )


class HubClient(RegistryClient):
    """A registry client whose Docker Hub is unreachable (HUB_DIGEST None) or answers HUB_DIGEST for every
    reference, without the network; every other registry (the fake one) is asked for real."""

    hub_digest: str | None = None

    def digest(self, ref: Reference) -> str | None:
        if ref.domain != DOCKER_HUB:
            return super().digest(ref)
        if self.hub_digest is None:
            raise RegistryError("docker.io: HEAD https://registry-1.docker.io/v2/...: unreachable: no network")
        return self.hub_digest


def hub_clients(tmp_path: Path, hub_digest: str | None = None) -> Callable[[tuple[str, ...]], RegistryClient]:
    """A doctor's registry clients: HubClients reading no docker login, one attempt per request."""

    def make(mirrors: tuple[str, ...]) -> RegistryClient:
        client = HubClient(
            retry=RetryPolicy(attempts=1, max_seconds=5), docker_config=tmp_path / "none", mirrors=mirrors
        )
        client.hub_digest = hub_digest
        return client

    return make


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
