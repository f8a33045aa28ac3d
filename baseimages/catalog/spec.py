"""The catalog: every `images/<name>/image.yaml`, validated field by field into typed specs.

Validation is strict and lives here only: unknown keys, a bad version or platform, a missing
Dockerfile, duplicate names, a parent that is neither a catalog image nor an external reference,
and cycles (via graph) each raise ConfigError naming the file and the field. Nothing is built
from a catalog that does not validate.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import semver
import yaml

from ..core.errors import ConfigError
from ..core.platforms import check_platform
from .checks import (
    CommandTest,
    ContractSpec,
    FileTest,
    MetadataTest,
    SmokeSpec,
    check_skips,
    load_contract,
    load_skips_allowed,
    load_smoke,
)
from .fields import Fields, check_reference
from .graph import build_order
from .tags import compute_tags

IMAGE_FILE = "image.yaml"
_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_BUILD_ARG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_ARGS = {"BASE_IMAGE"}  # set by the factory: the parent pinned by digest

__all__ = [
    "IMAGE_FILE",
    "Catalog",
    "CommandTest",
    "ContractSpec",
    "FileTest",
    "ImageSpec",
    "MetadataTest",
    "SizeBudget",
    "SmokeSpec",
    "load_catalog",
]


@dataclass(frozen=True)
class SizeBudget:
    max_mb: float | None = None  # compressed size per platform, MB (10**6 bytes)
    max_mb_over_parent: float | None = None


@dataclass(frozen=True)
class ImageSpec:
    """One catalog entry, as validated from its image.yaml."""

    name: str
    version: str
    parent: str  # a catalog image name, or an external reference such as python:3.11-slim
    parent_is_external: bool
    platforms: tuple[str, ...]
    directory: Path
    description: str = ""
    build_args: Mapping[str, str] = field(default_factory=dict)
    smoke: SmokeSpec = field(default_factory=SmokeSpec)
    size_budget: SizeBudget | None = None
    contract: ContractSpec | None = None
    # platform -> why a check may be skipped there (a `skip_if_exists` marker). A skip on any other
    # platform fails that platform: a skip is the catalog's decision, never the network's.
    skips_allowed: Mapping[str, str] = field(default_factory=dict)

    @property
    def dockerfile(self) -> Path:
        return self.directory / "Dockerfile"

    @property
    def spec_file(self) -> Path:
        return self.directory / IMAGE_FILE


@dataclass(frozen=True)
class Catalog:
    images: Mapping[str, ImageSpec]
    directory: Path

    def __getitem__(self, name: str) -> ImageSpec:
        return self.images[name]

    def names(self) -> list[str]:
        return sorted(self.images)

    @property
    def parents(self) -> dict[str, str | None]:
        """Each image's catalog parent (None for an external base): the graph the waves come from."""
        return {name: None if spec.parent_is_external else spec.parent for name, spec in self.images.items()}


def load_catalog(directory: Path | str, default_platforms: Sequence[str]) -> Catalog:
    """Load and validate every image folder below DIRECTORY."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError(str(directory), "", "catalog directory not found")
    specs: dict[str, ImageSpec] = {}
    for spec_file in sorted(directory.glob(f"*/{IMAGE_FILE}")):
        spec = _load_image(spec_file, default_platforms)
        if spec.name in specs:
            raise ConfigError(
                str(spec_file), "name", f"duplicate image name {spec.name!r} (also in {specs[spec.name].spec_file})"
            )
        specs[spec.name] = spec
    if not specs:
        raise ConfigError(str(directory), "", f"no images: expected <name>/{IMAGE_FILE} folders")
    for spec in specs.values():
        if not spec.parent_is_external and spec.parent not in specs:
            raise ConfigError(
                str(spec.spec_file),
                "parent",
                f"{spec.parent!r} is not a catalog image (known: {', '.join(sorted(specs))}); "
                "an external base needs a tag or digest, e.g. python:3.11-slim",
            )
    catalog = Catalog(images=specs, directory=directory)
    build_order(catalog.parents, lambda name: str(specs[name].spec_file))  # raises ConfigError on a cycle
    return catalog


# --------------------------------------------------------------------------- parsing

_IMAGE_KEYS = {
    "name",
    "version",
    "parent",
    "description",
    "platforms",
    "build_args",
    "smoke",
    "size_budget",
    "contract",
    "skips_allowed",
}
_BUDGET_KEYS = {"max_mb", "max_mb_over_parent"}


def _load_image(spec_file: Path, default_platforms: Sequence[str]) -> ImageSpec:
    fields = Fields(_read_yaml(spec_file), str(spec_file), "", _IMAGE_KEYS)
    name = _name(fields, spec_file.parent.name)
    version = _version(fields)
    parent, parent_is_external = _parent(fields, name)
    platforms = _platforms(fields, default_platforms)
    build_args = _build_args(fields)
    if not (spec_file.parent / "Dockerfile").is_file():
        raise ConfigError(str(spec_file.parent / "Dockerfile"), "", f"missing: image {name!r} needs a Dockerfile")
    skips_allowed = load_skips_allowed(fields, platforms)
    smoke = load_smoke(fields, platforms)
    contract = load_contract(fields, spec_file.parent, platforms)
    check_skips(fields, platforms, smoke, contract, skips_allowed)
    budget_fields = fields.sub("size_budget", _BUDGET_KEYS)
    budget = (
        SizeBudget(budget_fields.number("max_mb"), budget_fields.number("max_mb_over_parent"))
        if budget_fields is not None
        else None
    )
    return ImageSpec(
        name=name,
        version=version,
        parent=parent,
        parent_is_external=parent_is_external,
        platforms=platforms,
        directory=spec_file.parent.resolve(),
        description=fields.string("description", default="") or "",
        build_args=build_args,
        smoke=smoke,
        size_budget=budget,
        contract=contract,
        skips_allowed=skips_allowed,
    )


# libyaml's parser when PyYAML was built with it (its wheels are): the same documents, ten times faster
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(spec_file: Path) -> Any:
    try:
        data = yaml.load(spec_file.read_text(), Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise ConfigError(str(spec_file), where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    return data if data is not None else {}


def _name(fields: Fields, folder: str) -> str:
    name = fields.string("name", required=True) or ""
    if not _NAME.match(name):
        raise fields.error("name", f"{name!r} is not a valid image name (lowercase letters, digits, . _ -)")
    if name != folder:
        raise fields.error("name", f"{name!r} must match its folder name {folder!r}")
    return name


def _version(fields: Fields) -> str:
    version = fields.string("version", required=True) or ""
    try:
        semver.Version.parse(version)
    except ValueError:
        raise fields.error("version", f"{version!r} is not a semantic version such as 1.2.3") from None
    try:
        compute_tags(version, dt.date(2000, 1, 1))
    except ValueError as exc:
        raise fields.error("version", f"{version!r} gives no valid Docker tag: {exc}") from None
    return version


def _parent(fields: Fields, name: str) -> tuple[str, bool]:
    """The parent, and whether it is an external reference (not a catalog image)."""
    parent = fields.string("parent", required=True) or ""
    parent_is_external = any(c in parent for c in ":/@")
    if parent_is_external:
        check_reference(parent, fields)
    elif not _NAME.match(parent):
        raise fields.error("parent", f"{parent!r} is neither a catalog image name nor an image reference")
    if parent == name:
        raise fields.error("parent", "an image cannot be its own parent")
    return parent, parent_is_external


def _platforms(fields: Fields, default_platforms: Sequence[str]) -> tuple[str, ...]:
    raw = fields.string_list("platforms")
    if raw is not None and not raw:
        raise fields.error("platforms", "must name at least one platform")
    platforms = tuple(
        check_platform(p, fields.source, "platforms") for p in (raw if raw is not None else default_platforms)
    )
    if len(set(platforms)) != len(platforms):
        raise fields.error("platforms", "lists a platform twice")
    return platforms


def _build_args(fields: Fields) -> dict[str, str]:
    build_args = fields.string_map("build_args")
    for arg in build_args:
        if not _BUILD_ARG.match(arg):
            raise fields.error(f"build_args.{arg}", "is not a valid build argument name")
        if arg in _RESERVED_ARGS:
            raise fields.error(f"build_args.{arg}", "is set by the factory (the parent pinned by digest)")
    return build_args
