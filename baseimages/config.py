"""Project-wide settings: `[tool.baseimages]` in pyproject.toml, then BASEIMAGES_* variables, then flags.

Offline inputs are first-class settings and are auto-detected from the operator's environment:
the CA bundle (BASEIMAGES_CA_BUNDLE, SSL_CERT_FILE, PIP_CERT, REQUESTS_CA_BUNDLE), a local
wheelhouse (BASEIMAGES_WHEELHOUSE, PIP_FIND_LINKS, UV_FIND_LINKS) and a package index URL that
may carry credentials (BASEIMAGES_INDEX_URL). None of them ever reaches a build argument or a layer:
they are passed to builds as secrets or as a named build context.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .platforms import check_platform
from .registry import Credentials

DEFAULT_REGISTRY = "localhost:5000"
DEFAULT_NAMESPACE = "baseimages"
DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64")

_KEYS = {
    "registry",
    "namespace",
    "platforms",
    "images-dir",
    "source",
    "jobs",
    "wheelhouse",
    "ca-bundle",
    "refresh-days",
}
INDEX_URL_ENV = "BASEIMAGES_INDEX_URL"


@dataclass(frozen=True)
class Settings:
    """Everything a run needs beyond the catalog. Immutable; use `with_overrides` to derive."""

    root: Path
    registry: str = DEFAULT_REGISTRY
    namespace: str = DEFAULT_NAMESPACE
    platforms: tuple[str, ...] = DEFAULT_PLATFORMS
    images_dir: Path = Path("images")
    source: str = ""
    jobs: int = 2
    refresh_days: int = 30
    retry_attempts: int = 8  # per registry request
    retry_max_seconds: int = 300  # per registry request, waits included
    credentials: Credentials | None = field(default=None, repr=False)  # login for `registry`
    lock_dir: Path = field(default_factory=lambda: Path(os.path.expanduser("~/.cache/baseimages/locks")))
    ca_bundle: Path | None = None
    wheelhouse: Path | None = None
    index_url_env: str | None = None  # name of the env var holding the index URL, passed as a secret
    base_mirrors: tuple[str, ...] = field(default_factory=tuple)

    @property
    def catalog_dir(self) -> Path:
        return self.images_dir if self.images_dir.is_absolute() else self.root / self.images_dir

    def repository(self, image: str) -> str:
        parts = [p for p in (self.registry, self.namespace, image) if p]
        return "/".join(parts)

    def build_secrets(self) -> list[str]:
        """buildx --secret values: the CA bundle and the index URL; never build args, never in a layer."""
        secrets = []
        if self.ca_bundle is not None:
            secrets.append(f"id=ca-bundle,src={self.ca_bundle}")
        if self.index_url_env:
            secrets.append(f"id=index-url,env={self.index_url_env}")
        return secrets

    def build_contexts(self) -> dict[str, str]:
        """Named build contexts every build gets: the operator's wheelhouse, when there is one."""
        return {"wheelhouse": str(self.wheelhouse)} if self.wheelhouse else {}

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with the given fields replaced; None values are ignored."""
        updated = replace(self, **{k: v for k, v in changes.items() if v is not None})
        check_repository_parts(updated.registry, updated.namespace, "settings")
        return updated


def load_settings(root: Path | str = ".", environ: Mapping[str, str] | None = None) -> Settings:
    """Read `[tool.baseimages]` from ROOT/pyproject.toml (optional) and the environment."""
    root = Path(root).resolve()
    env = os.environ if environ is None else environ
    table = _read_tool_table(root / "pyproject.toml")
    source_name = str(root / "pyproject.toml") + " [tool.baseimages]"

    def get_str(key: str, default: str) -> str:
        env_key = "BASEIMAGES_" + key.upper().replace("-", "_")
        if env_key in env:
            return env[env_key]
        value = table.get(key, default)
        if not isinstance(value, str):
            raise ConfigError(source_name, key, f"must be a string, got {type(value).__name__}")
        return value

    registry = get_str("registry", DEFAULT_REGISTRY).rstrip("/")
    namespace = get_str("namespace", DEFAULT_NAMESPACE).strip("/")
    check_repository_parts(registry, namespace, source_name)
    images_dir = Path(get_str("images-dir", "images"))
    source = get_str("source", "")

    platforms: tuple[str, ...]
    if "BASEIMAGES_PLATFORMS" in env:
        platforms = parse_platforms(env["BASEIMAGES_PLATFORMS"], "environment", "BASEIMAGES_PLATFORMS")
    else:
        raw = table.get("platforms", list(DEFAULT_PLATFORMS))
        if not isinstance(raw, list) or not raw or not all(isinstance(p, str) for p in raw):
            raise ConfigError(source_name, "platforms", "must be a non-empty list of strings like linux/amd64")
        platforms = tuple(check_platform(p, source_name, "platforms") for p in raw)

    jobs = _whole_number(env.get("BASEIMAGES_JOBS", table.get("jobs", 2)), source_name, "jobs", minimum=1)
    refresh_days = _whole_number(
        env.get("BASEIMAGES_REFRESH_DAYS", table.get("refresh-days", 30)), source_name, "refresh-days", minimum=0
    )
    retry_attempts = _whole_number(
        env.get("BASEIMAGES_RETRY_ATTEMPTS", table.get("retry-attempts", 8)), source_name, "retry-attempts", minimum=1
    )
    retry_max_seconds = _whole_number(
        env.get("BASEIMAGES_RETRY_MAX_SECONDS", table.get("retry-max-seconds", 300)),
        source_name,
        "retry-max-seconds",
        minimum=1,
    )
    user, password = env.get("BASEIMAGES_REGISTRY_USER"), env.get("BASEIMAGES_REGISTRY_PASSWORD")
    if bool(user) != bool(password):
        raise ConfigError(
            "environment",
            "BASEIMAGES_REGISTRY_USER" if not user else "BASEIMAGES_REGISTRY_PASSWORD",
            "is missing: set both BASEIMAGES_REGISTRY_USER and BASEIMAGES_REGISTRY_PASSWORD, or neither",
        )
    credentials = Credentials(user, password) if user and password else None
    lock_dir = Path(get_str("lock-dir", "~/.cache/baseimages/locks")).expanduser()

    ca_bundle = _first_file(
        [
            env.get("BASEIMAGES_CA_BUNDLE"),
            _str_or_none(table.get("ca-bundle")),
            env.get("SSL_CERT_FILE"),
            env.get("PIP_CERT"),
            env.get("REQUESTS_CA_BUNDLE"),
            pip_setting("cert", env),
        ]
    )
    wheelhouse = detect_wheelhouse(env, _str_or_none(table.get("wheelhouse")))
    index_url_env = INDEX_URL_ENV if env.get(INDEX_URL_ENV) else None

    return Settings(
        root=root,
        registry=registry,
        namespace=namespace,
        platforms=platforms,
        images_dir=images_dir,
        source=source,
        jobs=jobs,
        refresh_days=refresh_days,
        retry_attempts=retry_attempts,
        retry_max_seconds=retry_max_seconds,
        credentials=credentials,
        lock_dir=lock_dir,
        ca_bundle=ca_bundle,
        wheelhouse=wheelhouse,
        index_url_env=index_url_env,
        base_mirrors=detect_registry_mirrors(),
    )


_NAMESPACE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_REGISTRY = re.compile(r"^[A-Za-z0-9.-]+(?::[0-9]+)?$")


def check_repository_parts(registry: str, namespace: str, source: str, named_by_source: bool = False) -> None:
    """Registry host[:port] and namespace must make valid repository names (lowercase paths).
    With NAMED_BY_SOURCE (a flag), SOURCE names the field itself."""
    if not _REGISTRY.match(registry):
        field = "" if named_by_source else "registry"
        raise ConfigError(source, field, f"{registry!r} is not a registry host[:port], e.g. localhost:5000")
    if namespace and not _NAMESPACE.match(namespace):
        field = "" if named_by_source else "namespace"
        raise ConfigError(
            source, field, f"{namespace!r} is not a repository path (lowercase letters, digits, . _ - and /)"
        )


def parse_platforms(text: str, source: str, fieldname: str) -> tuple[str, ...]:
    items = [p.strip() for p in text.split(",") if p.strip()]
    if not items:
        raise ConfigError(source, fieldname, "must name at least one platform, e.g. linux/amd64")
    return tuple(check_platform(p, source, fieldname) for p in items)


def pip_setting(key: str, env: Mapping[str, str]) -> str | None:
    """KEY from pip's configuration files ([global] or [install]), as the operator's pip sees it."""
    import configparser

    if env.get("PIP_CONFIG_FILE") == os.devnull:  # pip's own switch: no configuration files at all
        return None
    files = [Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf")]
    home = env.get("HOME")
    if home:
        files += [Path(home) / ".config" / "pip" / "pip.conf", Path(home) / ".pip" / "pip.conf"]
    if env.get("PIP_CONFIG_FILE"):
        files.append(Path(env["PIP_CONFIG_FILE"]))
    value = None
    for path in files:  # later files win, as in pip
        parser = configparser.ConfigParser()
        try:
            parser.read(path)
        except (configparser.Error, OSError):
            continue
        for section in ("global", "install"):
            if parser.has_option(section, key):
                value = parser.get(section, key)
    return value


def detect_wheelhouse(env: Mapping[str, str], configured: str | None = None) -> Path | None:
    """The first local directory among BASEIMAGES_WHEELHOUSE, the configured one, PIP_FIND_LINKS,
    UV_FIND_LINKS and pip's own find-links setting."""
    candidates: list[str] = []
    sources = (
        env.get("BASEIMAGES_WHEELHOUSE"),
        configured,
        env.get("PIP_FIND_LINKS"),
        env.get("UV_FIND_LINKS"),
        pip_setting("find-links", env),
    )
    for value in sources:
        if value:
            candidates.extend(value.replace(",", " ").split())
    for item in candidates:
        path = item.removeprefix("file://")
        if "://" in path:
            continue  # a remote find-links URL is not a local wheelhouse
        if Path(path).is_dir():
            return Path(path).resolve()
    return None


def detect_registry_mirrors(daemon_json: Path = Path("/etc/docker/daemon.json")) -> tuple[str, ...]:
    """Registry mirrors dockerd uses for Docker Hub; external bases are resolved through them too."""
    import json

    try:
        data = json.loads(daemon_json.read_text())
    except (OSError, ValueError):
        return ()
    mirrors = data.get("registry-mirrors", []) if isinstance(data, dict) else []
    return tuple(str(m).rstrip("/") for m in mirrors if isinstance(m, str))


def _read_tool_table(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("baseimages", {})
    if not isinstance(table, dict):
        raise ConfigError(str(path), "tool.baseimages", "must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(
            str(path) + " [tool.baseimages]", unknown[0], f"unknown key (known: {', '.join(sorted(_KEYS))})"
        )
    return table


def _whole_number(raw: Any, source: str, key: str, minimum: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(source, key, f"must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(source, key, f"must be at least {minimum}")
    return value


def _first_file(values: list[str | None]) -> Path | None:
    for value in values:
        if value and Path(value).is_file():
            return Path(value).resolve()
    return None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
