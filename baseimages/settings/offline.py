"""Offline and enterprise inputs detected from the operator's environment, as pip and uv find them.

The CA bundle (for TLS-intercepting proxies) and the local wheelhouse are settings of their own (see
config.SETTINGS); these detections are asked only when no flag, BASEIMAGES_* variable or pyproject.toml
sets them. Unlike a value given to baseimages itself, a detected one that names no existing file or
directory (or a remote URL) is skipped, as pip and uv skip it. Also here: dockerd's registry mirrors,
through which external bases are resolved.
"""

from __future__ import annotations

import configparser
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Detection:
    """Where a setting is looked for: VARIABLES in order, then PIP_OPTION of pip's configuration files.
    PICK returns what one value yields, or None to go on."""

    variables: tuple[str, ...]
    pip_option: str
    pick: Callable[[str], Path | None]

    def find(self, env: Mapping[str, str]) -> Path | None:
        for value in self._values(env):
            found = self.pick(value)
            if found is not None:
                return found
        return None

    def doc(self) -> str:
        """The sources, as the settings page (docs/settings.md) names them."""
        return ", ".join(f"`{name}`" for name in self.variables) + f", pip's `{self.pip_option}`"

    def _values(self, env: Mapping[str, str]) -> Iterator[str]:
        yield from (env[name] for name in self.variables if env.get(name))
        from_pip = pip_setting(self.pip_option, env)
        if from_pip:
            yield from_pip


def _existing_file(value: str) -> Path | None:
    return Path(value).resolve() if Path(value).is_file() else None


def _local_directory(value: str) -> Path | None:
    """The first local directory of a find-links value (several, separated by spaces or commas)."""
    for item in value.replace(",", " ").split():
        path = item.removeprefix("file://")
        if "://" in path:
            continue  # a remote find-links URL is not a local wheelhouse
        if Path(path).is_dir():
            return Path(path).resolve()
    return None


CA_BUNDLE = Detection(("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"), "cert", _existing_file)
WHEELHOUSE = Detection(("PIP_FIND_LINKS", "UV_FIND_LINKS"), "find-links", _local_directory)


def detect_ca_bundle(env: Mapping[str, str]) -> Path | None:
    """The first existing file among SSL_CERT_FILE, PIP_CERT, REQUESTS_CA_BUNDLE and pip's `cert`."""
    return CA_BUNDLE.find(env)


def detect_wheelhouse(env: Mapping[str, str]) -> Path | None:
    """The first local directory among PIP_FIND_LINKS, UV_FIND_LINKS and pip's `find-links`."""
    return WHEELHOUSE.find(env)


def pip_setting(key: str, env: Mapping[str, str]) -> str | None:
    """KEY from pip's configuration files ([global] or [install]), as the operator's pip sees it."""
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


def detect_registry_mirrors(daemon_json: Path = Path("/etc/docker/daemon.json")) -> tuple[str, ...]:
    """Registry mirrors dockerd uses for Docker Hub; external bases are resolved through them too."""
    try:
        data = json.loads(daemon_json.read_text())
    except (OSError, ValueError):
        return ()
    mirrors = data.get("registry-mirrors", []) if isinstance(data, dict) else []
    return tuple(str(m).rstrip("/") for m in mirrors if isinstance(m, str))
