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

from .errors import ConfigError
from .platforms import check_platform
from .reference import parse_reference
from .tags import compute_tags

IMAGE_FILE = "image.yaml"
_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_BUILD_ARG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_ARGS = {"BASE_IMAGE"}  # set by the factory: the parent pinned by digest


@dataclass(frozen=True)
class CommandTest:
    """Run COMMAND in the image (entrypoint replaced by its first word) and check the outcome."""

    name: str
    command: tuple[str, ...]
    exit_code: int = 0
    stdout: str | None = None
    stderr: str | None = None
    stdout_excludes: str | None = None
    stderr_excludes: str | None = None
    platforms: tuple[str, ...] = ()  # empty: every platform of the image
    skip_if_exists: str | None = None  # skipped (reason: the file's content) when this path exists


@dataclass(frozen=True)
class FileTest:
    """A path that must (or must not) exist, optionally with permission bits."""

    path: str
    exists: bool = True
    mode: int | None = None


@dataclass(frozen=True)
class MetadataTest:
    """Image config expectations: environment, labels, user, working directory."""

    env: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    user: str | None = None
    workdir: str | None = None


@dataclass(frozen=True)
class SmokeSpec:
    commands: tuple[CommandTest, ...] = ()
    files: tuple[FileTest, ...] = ()
    metadata: MetadataTest | None = None

    @property
    def empty(self) -> bool:
        return not (self.commands or self.files or self.metadata)


@dataclass(frozen=True)
class SizeBudget:
    max_mb: float | None = None  # compressed size per platform, MB (10**6 bytes)
    max_mb_over_parent: float | None = None


@dataclass(frozen=True)
class ContractSpec:
    """A tiny service built the way services use the image: `FROM <image> AS builder`, `uv pip sync`,
    then the venv copied into RUNTIME. Its command tests run in that service on every platform."""

    context: Path  # folder holding the service's Dockerfile (ARG BASE_IMAGE, ARG RUNTIME_IMAGE)
    runtime: str
    commands: tuple[CommandTest, ...]
    skip_if_exists: str | None = None  # in the base image: the contract is skipped there, reason = content


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


def load_catalog(directory: Path | str, default_platforms: Sequence[str]) -> Catalog:
    """Load and validate every image folder below DIRECTORY."""
    from .graph import build_order  # cycle detection lives with the graph

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
    build_order(catalog)  # raises ConfigError on a cycle
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
_CONTRACT_KEYS = {"context", "runtime", "commands", "skip_if_exists"}
_SMOKE_KEYS = {"commands", "files", "metadata"}
_COMMAND_KEYS = {
    "name",
    "command",
    "exit_code",
    "stdout",
    "stderr",
    "stdout_excludes",
    "stderr_excludes",
    "platforms",
    "skip_if_exists",
}
_FILE_KEYS = {"path", "exists", "mode"}
_METADATA_KEYS = {"env", "labels", "user", "workdir"}
_BUDGET_KEYS = {"max_mb", "max_mb_over_parent"}


class _Fields:
    """Typed access to one mapping of a YAML file, each failure a ConfigError naming file and field."""

    def __init__(self, data: Any, source: str, prefix: str, allowed: set[str]) -> None:
        if not isinstance(data, dict):
            raise ConfigError(source, prefix or "(top level)", "must be a mapping")
        self.data: dict[str, Any] = data
        self.source = source
        self.prefix = prefix
        for key in data:
            if key not in allowed:
                raise ConfigError(source, self.path(str(key)), f"unknown key (allowed: {', '.join(sorted(allowed))})")

    def path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.source, self.path(key), problem)

    def string(self, key: str, *, required: bool = False, default: str | None = None) -> str | None:
        if key not in self.data or self.data[key] is None:
            if required:
                raise self.error(key, "is required")
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(key, f"must be a string, got {type(value).__name__}")
        return str(value)

    def regex(self, key: str) -> str | None:
        value = self.string(key)
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise self.error(key, f"is not a valid regular expression: {exc}") from None
        return value

    def integer(self, key: str, default: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, got {value!r}")
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise self.error(key, f"must be a positive number, got {value!r}")
        return float(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def string_list(self, key: str) -> list[str] | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, "must be a list of strings")
        return value

    def string_map(self, key: str) -> dict[str, str]:
        value = self.data.get(key) or {}
        if not isinstance(value, dict):
            raise self.error(key, "must be a mapping of names to values")
        out: dict[str, str] = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, str | int | float):
                raise self.error(f"{key}.{k}", f"must be a string, got {type(v).__name__}")
            out[str(k)] = str(v)
        return out

    def sub(self, key: str, allowed: set[str]) -> _Fields | None:
        if key not in self.data or self.data[key] is None:
            return None
        return _Fields(self.data[key], self.source, self.path(key), allowed)

    def items(self, key: str, allowed: set[str]) -> list[_Fields]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            raise self.error(key, "must be a list")
        return [_Fields(item, self.source, f"{self.path(key)}[{i}]", allowed) for i, item in enumerate(value)]


def _load_image(spec_file: Path, default_platforms: Sequence[str]) -> ImageSpec:
    source = str(spec_file)
    try:
        data = yaml.safe_load(spec_file.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise ConfigError(source, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    fields = _Fields(data if data is not None else {}, source, "", _IMAGE_KEYS)

    name = fields.string("name", required=True) or ""
    if not _NAME.match(name):
        raise fields.error("name", f"{name!r} is not a valid image name (lowercase letters, digits, . _ -)")
    if name != spec_file.parent.name:
        raise fields.error("name", f"{name!r} must match its folder name {spec_file.parent.name!r}")

    version = fields.string("version", required=True) or ""
    try:
        semver.Version.parse(version)
    except ValueError:
        raise fields.error("version", f"{version!r} is not a semantic version such as 1.2.3") from None
    try:
        compute_tags(version, dt.date(2000, 1, 1))
    except ValueError as exc:
        raise fields.error("version", f"{version!r} gives no valid Docker tag: {exc}") from None

    parent = fields.string("parent", required=True) or ""
    parent_is_external = any(c in parent for c in ":/@")
    if parent_is_external:
        _check_reference(parent, fields)
    elif not _NAME.match(parent):
        raise fields.error("parent", f"{parent!r} is neither a catalog image name nor an image reference")
    if parent == name:
        raise fields.error("parent", "an image cannot be its own parent")

    platforms_raw = fields.string_list("platforms")
    if platforms_raw is not None and not platforms_raw:
        raise fields.error("platforms", "must name at least one platform")
    platforms = tuple(
        check_platform(p, source, "platforms")
        for p in (platforms_raw if platforms_raw is not None else default_platforms)
    )
    if len(set(platforms)) != len(platforms):
        raise fields.error("platforms", "lists a platform twice")

    build_args = fields.string_map("build_args")
    for arg in build_args:
        if not _BUILD_ARG.match(arg):
            raise fields.error(f"build_args.{arg}", "is not a valid build argument name")
        if arg in _RESERVED_ARGS:
            raise fields.error(f"build_args.{arg}", "is set by the factory (the parent pinned by digest)")

    if not (spec_file.parent / "Dockerfile").is_file():
        raise ConfigError(str(spec_file.parent / "Dockerfile"), "", f"missing: image {name!r} needs a Dockerfile")

    skips_allowed = fields.string_map("skips_allowed")
    for platform, reason in skips_allowed.items():
        if platform not in platforms:
            raise fields.error(f"skips_allowed.{platform}", f"is not one of the image's platforms {list(platforms)}")
        if not reason.strip():
            raise fields.error(f"skips_allowed.{platform}", "needs the reason a skip is accepted there")
    smoke = _load_smoke(fields.sub("smoke", _SMOKE_KEYS), platforms)
    contract = _load_contract(fields.sub("contract", _CONTRACT_KEYS), spec_file.parent, platforms)
    _check_skips(fields, platforms, smoke, contract, skips_allowed)
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


def _check_skips(
    fields: _Fields,
    platforms: Sequence[str],
    smoke: SmokeSpec,
    contract: ContractSpec | None,
    skips_allowed: Mapping[str, str],
) -> None:
    """Every platform has a command test; a `skip_if_exists` needs `skips_allowed` to say where it may skip."""
    uncovered = [p for p in platforms if not any(not c.platforms or p in c.platforms for c in smoke.commands)]
    if uncovered:
        raise fields.error(
            "smoke.commands",
            f"no command test runs on {', '.join(uncovered)}: an image needs at least one command test per platform",
        )
    if skips_allowed:
        return
    for i, command in enumerate(smoke.commands):
        if command.skip_if_exists:
            raise fields.error(f"smoke.commands[{i}].skip_if_exists", _NO_SKIPS_ALLOWED)
    if contract is not None and contract.skip_if_exists:
        raise fields.error("contract.skip_if_exists", _NO_SKIPS_ALLOWED)
    for i, command in enumerate(contract.commands if contract is not None else ()):
        if command.skip_if_exists:
            raise fields.error(f"contract.commands[{i}].skip_if_exists", _NO_SKIPS_ALLOWED)


_NO_SKIPS_ALLOWED = "can never skip: name the platforms where a skip is accepted, and why, in `skips_allowed`"



def _load_commands(fields: _Fields, platforms: tuple[str, ...]) -> tuple[CommandTest, ...]:
    commands = []
    for i, item in enumerate(fields.items("commands", _COMMAND_KEYS)):
        command = item.data.get("command")
        if isinstance(command, str):
            command = ["sh", "-c", command]
        if not isinstance(command, list) or not command or not all(isinstance(c, str) for c in command):
            raise item.error("command", "must be a non-empty list of strings (or one shell string)")
        only = item.string_list("platforms") or []
        for p in only:
            check_platform(p, item.source, item.path("platforms"))
            if p not in platforms:
                raise item.error("platforms", f"{p!r} is not one of the image's platforms {list(platforms)}")
        commands.append(
            CommandTest(
                name=item.string("name") or f"command {i + 1}: {' '.join(command)[:60]}",
                command=tuple(command),
                exit_code=_exit_code(item),
                stdout=item.regex("stdout"),
                stderr=item.regex("stderr"),
                stdout_excludes=item.regex("stdout_excludes"),
                stderr_excludes=item.regex("stderr_excludes"),
                platforms=tuple(only),
                skip_if_exists=_absolute(item, "skip_if_exists"),
            )
        )
    return tuple(commands)


def _load_contract(fields: _Fields | None, directory: Path, platforms: tuple[str, ...]) -> ContractSpec | None:
    if fields is None:
        return None
    context_name = fields.string("context", required=True) or ""
    context = (directory / context_name).resolve()
    if not (context / "Dockerfile").is_file():
        raise fields.error("context", f"{context_name!r} must be a folder beside image.yaml holding a Dockerfile")
    runtime = fields.string("runtime", default="python:3.11-slim") or ""
    _check_reference(runtime, fields, "runtime")
    commands = _load_commands(fields, platforms)
    if not commands:
        raise fields.error("commands", "a contract needs at least one command test to run in the service")
    return ContractSpec(
        context=context, runtime=runtime, commands=commands, skip_if_exists=_absolute(fields, "skip_if_exists")
    )


def _load_smoke(fields: _Fields | None, platforms: tuple[str, ...]) -> SmokeSpec:
    if fields is None:
        return SmokeSpec()
    commands = _load_commands(fields, platforms)
    files = []
    for item in fields.items("files", _FILE_KEYS):
        path = item.string("path", required=True) or ""
        if not path.startswith("/"):
            raise item.error("path", f"{path!r} must be an absolute path")
        mode = None
        if "mode" in item.data:
            mode_value = item.data["mode"]
            if not isinstance(mode_value, str):
                # YAML reads an unquoted 0755 as the number 493 and 755 as 755: only a string is unambiguous.
                raise item.error("mode", f'{mode_value!r} must be quoted octal permission bits, e.g. mode: "0755"')
            try:
                mode = int(mode_value, 8)
            except ValueError:
                raise item.error("mode", f'{mode_value!r} is not octal permission bits like "0755"') from None
            if not 0 <= mode <= 0o7777:
                raise item.error("mode", f"{mode_value!r} is out of range (0000-7777)")
        files.append(FileTest(path=path, exists=item.boolean("exists", True), mode=mode))
    meta_fields = fields.sub("metadata", _METADATA_KEYS)
    metadata = None
    if meta_fields is not None:
        metadata = MetadataTest(
            env=meta_fields.string_map("env"),
            labels=meta_fields.string_map("labels"),
            user=meta_fields.string("user"),
            workdir=meta_fields.string("workdir"),
        )
    return SmokeSpec(commands=commands, files=tuple(files), metadata=metadata)


def _exit_code(item: _Fields) -> int:
    code = item.integer("exit_code", 0)
    if not 0 <= code <= 255:
        raise item.error("exit_code", f"{code} is not an exit code (0-255)")
    return code


def _absolute(item: _Fields, key: str) -> str | None:
    path = item.string(key)
    if path is not None and not path.startswith("/"):
        raise item.error(key, f"{path!r} must be an absolute path")
    return path


def _check_reference(ref: str, fields: _Fields, key: str = "parent") -> None:
    try:
        parsed = parse_reference(ref)
    except ValueError:
        parsed = None
    if parsed is None or not (parsed.tag or parsed.digest):
        raise fields.error(key, f"{ref!r} is not an image reference with a tag or digest, e.g. python:3.11-slim")
