"""Shared helpers of the unit tests: a small catalog writer, a clean environment and a fake registry.

tests/unit has no __init__.py, so pytest's default import mode (prepend) puts this folder on sys.path
before it imports this file: helper modules next to it (fake_registry.py) import by their plain name,
here and in test modules alike.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_registry import FakeRegistry

from baseimages.catalog.spec import Catalog, load_catalog
from baseimages.core.errors import ConfigError
from baseimages.core.retry import RetryNotice, RetryPolicy
from baseimages.doctor import model as doctor_model
from baseimages.registry.client import RegistryClient
from baseimages.settings import offline
from baseimages.settings.config import INDEX_URL_ENV, PASSWORD_ENV, SETTINGS, SIGN_PASSWORD_ENV, USER_ENV

DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64")
FAST_RETRY = RetryPolicy(attempts=3, max_seconds=10, initial_wait=0.01, max_wait=0.02)

# Variables load_settings reads from the environment; the developer's shell must not leak into tests.
AMBIENT_VARIABLES = (
    *(setting.env for setting in SETTINGS),
    INDEX_URL_ENV,
    USER_ENV,
    PASSWORD_ENV,
    SIGN_PASSWORD_ENV,
    *offline.CA_BUNDLE.variables,
    *offline.WHEELHOUSE.variables,
    "GITHUB_STEP_SUMMARY",  # where a run appends its Markdown report (baseimages.outputs.files)
    "GITHUB_OUTPUT",
)


class CatalogWriter:
    """Writes images/<folder>/image.yaml (+ Dockerfile) below ROOT, one image per `add` call."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.images_dir = root / "images"
        self.images_dir.mkdir(parents=True, exist_ok=True)

    def add(
        self,
        name: str,
        *,
        folder: str | None = None,
        dockerfile: bool = True,
        raw: str | None = None,
        **fields: Any,
    ) -> Path:
        """Write one image; FIELDS override the defaults (a value of None drops the key). Returns image.yaml."""
        directory = self.images_dir / (folder or name)
        directory.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {
            "name": name,
            "version": "1.0.0",
            "parent": "python:3.11-slim",
            "smoke": {"commands": [{"name": "python runs", "command": ["python", "--version"]}]},
        }
        data.update(fields)
        data = {k: v for k, v in data.items() if v is not None}
        spec_file = directory / "image.yaml"
        spec_file.write_text(raw if raw is not None else yaml.safe_dump(data, sort_keys=False))
        if dockerfile:
            (directory / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
        return spec_file

    def load(self, platforms: tuple[str, ...] = DEFAULT_PLATFORMS) -> Catalog:
        return load_catalog(self.images_dir, platforms)


@pytest.fixture(autouse=True)
def private_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own home (a run's default lock folder, ~/.cache/baseimages/locks, is below it,
    so that runs of tests at once never share a lock) and no GitHub step files (a library run appends to
    them when set, as the CLI does)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def roomy_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """doctor sees 100 GB free where dockerd keeps its data, whatever this machine's disk holds (a unit
    test reads no real disk: with this one nearly full, the healthy-machine tests warned). A test of the
    disk's own findings gives its context a `free_bytes` of its own."""
    monkeypatch.setattr(doctor_model, "free_bytes", lambda path: 100 * 10**9)


@pytest.fixture
def catalog_writer(tmp_path: Path) -> CatalogWriter:
    return CatalogWriter(tmp_path)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in AMBIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # nor pip's configuration files (cert, find-links)
    # nor this machine's dockerd mirrors: a dry run would resolve external bases through a real registry
    monkeypatch.setattr(offline, "detect_registry_mirrors", lambda daemon_json=None: ())
    return monkeypatch


def _assert_config_error(error: BaseException, file: Path | str, field: str) -> None:
    """ERROR is a ConfigError (exit code 2) whose message names FILE and FIELD."""
    assert isinstance(error, ConfigError), f"expected ConfigError, got {type(error).__name__}: {error}"
    assert error.exit_code == 2
    assert error.field == field
    message = str(error)
    names = {str(file), str(Path(file).resolve())}
    assert any(name in message for name in names), f"{message!r} does not name {file}"
    if field:
        assert f": {field}: " in message, f"{message!r} does not name the field {field!r}"


@pytest.fixture
def assert_config_error() -> Any:
    """The check `_assert_config_error(error, file, field)`, as a fixture (no imports from conftest)."""
    return _assert_config_error


@dataclass(frozen=True)
class SettingSample:
    """Values of one declared setting, for tests that go through every setting."""

    toml: str  # a valid value in [tool.baseimages], as TOML
    text: str  # another valid value, as an environment variable or a flag gives it
    loaded: object  # what TEXT loads as
    bad_toml: str  # a value [tool.baseimages] refuses, as TOML
    bad_text: str | None  # a text the environment variable and the flag refuse; None: every text is valid


@pytest.fixture
def setting_samples(tmp_path: Path) -> dict[str, SettingSample]:
    """A SettingSample per key of config.SETTINGS; the files and directories they name exist below tmp_path."""
    for name in ("wheels-toml", "wheels-text"):
        (tmp_path / name).mkdir()
    for name in ("ca-toml.pem", "ca-text.pem", "key-toml.key", "key-text.key"):
        (tmp_path / name).write_text("-----BEGIN CERTIFICATE-----\n")
    missing = str(tmp_path / "missing")
    return {
        "registry": SettingSample('"toml.example:5000"', "text.example:6000/", "text.example:6000", "5", "local host"),
        "namespace": SettingSample('"from-toml"', "/team/sub/", "team/sub", '"Team"', "a b"),
        "platforms": SettingSample(
            '["linux/arm64"]', "linux/amd64, linux/s390x", ("linux/amd64", "linux/s390x"), '["linux/amd65"]', "linux/x"
        ),
        "builders": SettingSample(
            '{"linux/arm64" = "arm-toml"}',
            "linux/arm64=arm-text, linux/amd64=default",
            {"linux/arm64": "arm-text", "linux/amd64": "default"},
            '"arm-toml"',
            "linux/arm64",
        ),
        "images-dir": SettingSample('"catalog"', "other", Path("other"), "5", None),
        "source": SettingSample(
            '"https://toml.example/r"', "https://text.example/r", "https://text.example/r", "5", None
        ),
        "jobs": SettingSample("4", "3", 3, "0", "three"),
        "refresh-days": SettingSample("10", "0", 0, "-1", "-1"),
        "retry-attempts": SettingSample("5", "2", 2, "0", "0"),
        "retry-max-seconds": SettingSample("100", "20", 20, "2.5", "twenty"),
        "upload-jobs": SettingSample("8", "1", 1, "0", "four"),
        "build-cache": SettingSample("false", "yes", True, '"true"', "maybe"),
        "warm-up": SettingSample("false", "yes", True, '"true"', "maybe"),
        "layer-compression-level": SettingSample("6", "9", 9, "10", "fast"),
        "lock-dir": SettingSample(
            f'"{tmp_path}/locks-toml"', f"{tmp_path}/locks-text", tmp_path / "locks-text", "5", None
        ),
        "updates-state": SettingSample(
            f'"{tmp_path}/state-toml.json"', f"{tmp_path}/state-text.json", tmp_path / "state-text.json", "5", None
        ),
        "layer-cache": SettingSample(
            f'"{tmp_path}/layers-toml"', f"{tmp_path}/layers-text", tmp_path / "layers-text", "5", None
        ),
        "wheelhouse": SettingSample(
            f'"{tmp_path}/wheels-toml"',
            f"{tmp_path}/wheels-text",
            (tmp_path / "wheels-text").resolve(),
            f'"{missing}"',
            missing,
        ),
        "report-md": SettingSample(
            f'"{tmp_path}/toml.md"', f"{tmp_path}/text.md", tmp_path / "text.md", "5", f"{missing}/report.md"
        ),
        "report-html": SettingSample(
            f'"{tmp_path}/toml.html"', f"{tmp_path}/text.html", tmp_path / "text.html", "true", f"{missing}/r.html"
        ),
        "log-dir": SettingSample(
            f'"{tmp_path}/logs-toml"', f"{tmp_path}/logs-text", tmp_path / "logs-text", "[]", f"{tmp_path}/ca-toml.pem"
        ),
        "ca-bundle": SettingSample(
            f'"{tmp_path}/ca-toml.pem"',
            f"{tmp_path}/ca-text.pem",
            (tmp_path / "ca-text.pem").resolve(),
            f'"{missing}"',
            missing,
        ),
        "sign-key": SettingSample(
            f'"{tmp_path}/key-toml.key"',
            f"{tmp_path}/key-text.key",
            (tmp_path / "key-text.key").resolve(),
            f'"{missing}"',
            missing,
        ),
        "metrics-file": SettingSample(
            f'"{tmp_path}/toml.prom"',
            f"{tmp_path}/text.prom",
            tmp_path / "text.prom",
            f'"{missing}/m.prom"',
            f"{missing}/m.prom",
        ),
        "pushgateway": SettingSample(
            '"http://toml.example:9091"', "http://text.example:9091/", "http://text.example:9091", '"ftp://x"', "x:9091"
        ),
        "notify-url": SettingSample(
            '["https://toml.example/hook"]',
            "http://a.example/x, https://b.example/y",
            ("http://a.example/x", "https://b.example/y"),
            '"https://toml.example/hook"',
            "ftp://a.example/x",
        ),
        "notify-format": SettingSample('"github-dispatch"', "json", "json", '"xml"', "slack"),
        "refresh-updates": SettingSample('"any"', "security", "security", '"all"', "all"),
        "retention.keep-dated": SettingSample("3", "0", 0, "-1", "three"),
        "retention.keep-dated-months": SettingSample("2", "24", 24, '"2"', "-2"),
        "retention.keep-monthly-months": SettingSample("3", "1", 1, "1.5", "a year"),
        "retention.candidate-days": SettingSample("14", "0", 0, "-7", "7d"),
        "retention.keep-storage": SettingSample('"2GB"', "512MB", "512MB", '"ten gigs"', "10 GB"),
    }


def write_pyproject(root: Path, table: str) -> Path:
    """ROOT/pyproject.toml with TABLE as its [tool.baseimages]."""
    path = root / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n\n[tool.baseimages]\n' + table)
    return path


@pytest.fixture
def pyproject() -> Any:
    """The writer `write_pyproject(root, table)`, as a fixture (no imports from conftest)."""
    return write_pyproject


@pytest.fixture
def fake_registry() -> Iterator[FakeRegistry]:
    """A started FakeRegistry on 127.0.0.1 (plain HTTP), stopped after the test. See fake_registry.py."""
    with FakeRegistry() as registry:
        yield registry


@pytest.fixture
def retries() -> list[RetryNotice]:
    """The retry notices of the clients `make_client` made, in order."""
    return []


@pytest.fixture
def make_client(tmp_path: Path, retries: list[RetryNotice]) -> Any:
    """`make_client(**fields)`: a RegistryClient retrying 3 times within milliseconds, reporting retries to
    `retries`, and reading no ~/.docker/config.json (the developer's logins must not reach a test)."""

    def make(**fields: Any) -> RegistryClient:
        fields.setdefault("retry", FAST_RETRY)
        fields.setdefault("on_retry", retries.append)
        fields.setdefault("docker_config", tmp_path / "no-docker-config")
        return RegistryClient(**fields)

    return make


@pytest.fixture
def small_family(catalog_writer: CatalogWriter) -> CatalogWriter:
    """uv FROM python:3.11-slim (1.0.0); ml (2.1.0) and security (0.3.4, amd64 only) FROM uv."""
    catalog_writer.add("uv", parent="python:3.11-slim", version="1.0.0")
    catalog_writer.add("ml", parent="uv", version="2.1.0")
    catalog_writer.add("security", parent="uv", version="0.3.4", platforms=["linux/amd64"])
    return catalog_writer
