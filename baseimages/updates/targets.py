"""What `updates` looks at: each catalog image's promoted build and the requirements files that pin its Python
distributions, and the package index its builds install from."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..catalog.spec import Catalog
from ..core.errors import ConfigError
from ..core.reference import parse_reference
from ..settings.config import Settings
from .compute import Target
from .pypi import DEFAULT_INDEX

PIP_INDEX_ENV = "PIP_INDEX_URL"


def index_url(settings: Settings, environ: Mapping[str, str] | None = None) -> str:
    """The package index the builds use: the `index-url` build secret's variable (BASEIMAGES_INDEX_URL), else
    PIP_INDEX_URL, else PyPI."""
    env = os.environ if environ is None else environ
    secret = env.get(settings.index_url_env) if settings.index_url_env else None
    return secret or env.get(PIP_INDEX_ENV) or DEFAULT_INDEX


def selected(catalog: Catalog, names: Sequence[str], flag: str = "--image") -> list[str]:
    """NAMES (every image of CATALOG when empty), each checked; a ConfigError names FLAG and an unknown one."""
    for name in names:
        if name not in catalog.images:
            known = ", ".join(catalog.names()) or "none"
            raise ConfigError(flag, name, f"is not an image of the catalog (known: {known})")
    return list(dict.fromkeys(names)) if names else catalog.names()


def target(settings: Settings, catalog: Catalog, name: str, tag: str = "latest") -> Target:
    """NAME's promoted build at TAG, and the folders whose requirements pin its distributions: its own and its
    catalog parents' (what a parent pins is in the child's image too)."""
    folders: list[Path] = []
    current: str | None = name
    while current is not None and current in catalog.images and len(folders) <= len(catalog.images):
        spec = catalog[current]
        folders.append(spec.directory)
        current = None if spec.parent_is_external else spec.parent
    return Target(name, parse_reference(f"{settings.repository(name)}:{tag}"), tuple(folders))
