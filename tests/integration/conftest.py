"""Integration fixtures: a real Docker engine with buildx and QEMU, and a real registry.

The engine (dockerd, buildx, QEMU binfmt, the local registry and the stand-in python:3.11-slim
when Docker Hub is unreachable) is brought up by `scripts/engine up`, which the README's test
command runs first. These fixtures fail loudly when it is missing. pytest-docker starts a
throwaway registry per test session (tests/integration/docker-compose.yml), so tests never touch
the registry a user pushes to.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from baseimages import Event, Factory, RunOptions, RunReport, Settings, load_catalog, load_settings, make_plan
from baseimages.engine.client import DockerEngine
from baseimages.registry.client import RegistryClient

ROOT = Path(__file__).resolve().parents[2]
FAMILY = ["python311-uv", "python311-ml", "python311-security"]
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def engine() -> DockerEngine:
    status = subprocess.run([str(ROOT / "scripts" / "engine"), "status"], capture_output=True, text=True)
    if status.returncode != 0:
        pytest.fail(
            "the Docker engine is not ready; run `scripts/engine up` (the README's test command does):\n"
            + status.stdout
            + status.stderr
        )
    real = DockerEngine()
    real.check(["linux/amd64", "linux/arm64"])
    return real


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(HERE / "docker-compose.yml")


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return f"baseimages-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    return ["up --build -d"]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status in (200, 401))
    except urllib.error.HTTPError as exc:
        return exc.code == 401
    except OSError:
        return False


@pytest.fixture(scope="session")
def test_registry(engine: DockerEngine, docker_services: object) -> str:
    """host:port of a fresh registry started by pytest-docker, named localhost:PORT for BuildKit."""
    port = docker_services.port_for("registry", 5000)  # type: ignore[attr-defined]
    address = f"localhost:{port}"
    docker_services.wait_until_responsive(  # type: ignore[attr-defined]
        check=lambda: _answers(f"http://127.0.0.1:{port}/v2/"), timeout=60.0, pause=0.5
    )
    return address


@pytest.fixture(scope="session")
def registry_client() -> RegistryClient:
    return RegistryClient()


@dataclass
class FaultProxy:
    """The fault-injecting proxy in front of a registry of its own (see services/faultproxy)."""

    address: str  # localhost:PORT, what baseimages pushes to

    def set(self, **settings: object) -> dict[str, object]:
        request = urllib.request.Request(
            f"http://{self.address}/__faults__", data=json.dumps(settings).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            return dict(json.loads(resp.read()))

    def counters(self) -> dict[str, int]:
        with urllib.request.urlopen(f"http://{self.address}/__faults__", timeout=10) as resp:
            return dict(json.loads(resp.read())["counters"])


@pytest.fixture(scope="session")
def fault_proxy(engine: DockerEngine, docker_services: object) -> Iterator[FaultProxy]:
    port = docker_services.port_for("faultproxy", 8080)  # type: ignore[attr-defined]
    docker_services.wait_until_responsive(  # type: ignore[attr-defined]
        check=lambda: _answers(f"http://127.0.0.1:{port}/v2/"), timeout=60.0, pause=0.5
    )
    proxy = FaultProxy(f"localhost:{port}")
    yield proxy
    proxy.set(rate=0.0)


@pytest.fixture(scope="session")
def auth_registry(engine: DockerEngine, docker_services: object) -> str:
    """localhost:PORT of a registry that requires a login (user and password in docker-compose.yml)."""
    port = docker_services.port_for("registry-auth", 5000)  # type: ignore[attr-defined]
    docker_services.wait_until_responsive(  # type: ignore[attr-defined]
        check=lambda: _answers(f"http://127.0.0.1:{port}/v2/"), timeout=60.0, pause=0.5
    )
    return f"localhost:{port}"


def copy_catalog(dest: Path, names: list[str]) -> Path:
    """A project in DEST whose catalog holds copies of the named images from this repository."""
    images = dest / "images"
    images.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copytree(ROOT / "images" / name, images / name)
    for shared in (ROOT / "images").glob("*.Dockerfile"):  # recipes the images share (the contract service)
        shutil.copy2(shared, images / shared.name)
    return dest


def settings_for(project_dir: Path, registry: str, namespace: str | None = None) -> Settings:
    """Settings for PROJECT_DIR pushing to REGISTRY under a fresh namespace (no test sees another's tags)."""
    return load_settings(project_dir).with_overrides(
        registry=registry, namespace=namespace or f"t{uuid.uuid4().hex[:10]}"
    )


@pytest.fixture(scope="session")
def catalog_copy() -> Callable[[Path, list[str]], Path]:
    return copy_catalog


@pytest.fixture(scope="session")
def fresh_settings() -> Callable[..., Settings]:
    return settings_for


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    yield copy_catalog(tmp_path / "project", ["python311-uv"])


@dataclass(frozen=True)
class SigningKey:
    private: Path
    public: Path
    password: str


def make_signing_key(folder: Path, password: str) -> SigningKey:
    """A cosign key pair made by cosign itself (Debian's package, installed by scripts/engine)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["cosign", "generate-key-pair"],
        cwd=folder,
        env={**os.environ, "COSIGN_PASSWORD": password},
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.fail(f"cosign generate-key-pair failed (is cosign installed? scripts/engine up): {done.stderr}")
    return SigningKey(folder / "cosign.key", folder / "cosign.pub", password)


@pytest.fixture(scope="session")
def signing_key_factory() -> Callable[[Path, str], SigningKey]:
    return make_signing_key


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    return make_signing_key(tmp_path_factory.mktemp("cosign"), "family-key-password")


@pytest.fixture(scope="session")
def family(
    engine: DockerEngine, test_registry: str, tmp_path_factory: pytest.TempPathFactory, signing_key: SigningKey
) -> tuple[RunReport, list[Event], Settings]:
    """The whole catalog pushed once, signed with `signing_key`: (report, events, settings)."""
    project = copy_catalog(tmp_path_factory.mktemp("family"), FAMILY)
    settings = dataclasses.replace(
        settings_for(project, test_registry), sign_key=signing_key.private, sign_password=signing_key.password
    )
    catalog = load_catalog(settings.catalog_dir, settings.platforms)
    events: list[Event] = []
    report = Factory(settings, catalog, engine=engine, on_event=events.append).run(
        make_plan(catalog, settings), RunOptions(push=True)
    )
    return report, events, settings


# A Debian repository of the tests' own, served where builds reach it (tests/integration/apt_repo.py), and
# a real Prometheus, Pushgateway and node_exporter fed by one run (tests/integration/monitoring_stack.py).
from apt_repo import apt_repo  # noqa: E402, F401
from monitoring_stack import fed_stack  # noqa: E402, F401
