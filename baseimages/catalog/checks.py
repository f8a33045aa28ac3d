"""The checks an image.yaml declares: smoke commands, files and metadata, the contract service, and
where a check may be skipped; their typed models and their validation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..core.platforms import check_platform
from .fields import Fields, check_reference

_CONTRACT_KEYS = {"context", "dockerfile", "runtime", "commands", "skip_if_exists"}
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


@dataclass(frozen=True)
class ContractSpec:
    """A tiny service built the way services use the image: `FROM <image> AS builder`, `uv pip sync`,
    then the venv copied into RUNTIME. Its command tests run in that service on every platform."""

    context: Path  # folder holding the service's files (its requirements, its app)
    runtime: str
    commands: tuple[CommandTest, ...]
    skip_if_exists: str | None = None  # in the base image: the contract is skipped there, reason = content
    dockerfile: Path | None = None  # the service recipe (ARG BASE_IMAGE, RUNTIME_IMAGE); default context/Dockerfile

    @property
    def recipe(self) -> Path:
        return self.dockerfile or self.context / "Dockerfile"


def load_skips_allowed(fields: Fields, platforms: Sequence[str]) -> dict[str, str]:
    """`skips_allowed`: platform -> why a check may be skipped there."""
    skips_allowed = fields.string_map("skips_allowed")
    for platform, reason in skips_allowed.items():
        if platform not in platforms:
            raise fields.error(f"skips_allowed.{platform}", f"is not one of the image's platforms {list(platforms)}")
        if not reason.strip():
            raise fields.error(f"skips_allowed.{platform}", "needs the reason a skip is accepted there")
    return skips_allowed


def check_skips(
    fields: Fields,
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


def load_commands(fields: Fields, platforms: tuple[str, ...]) -> tuple[CommandTest, ...]:
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


def load_contract(image: Fields, directory: Path, platforms: tuple[str, ...]) -> ContractSpec | None:
    fields = image.sub("contract", _CONTRACT_KEYS)
    if fields is None:
        return None
    context_name = fields.string("context", required=True) or ""
    context = (directory / context_name).resolve()
    if not context.is_dir():
        raise fields.error("context", f"{context_name!r} must be a folder beside image.yaml")
    dockerfile_name = fields.string("dockerfile")
    dockerfile = (directory / dockerfile_name).resolve() if dockerfile_name else None
    if not (dockerfile or context / "Dockerfile").is_file():
        key = "dockerfile" if dockerfile_name else "context"
        raise fields.error(key, f"no service Dockerfile at {dockerfile or context / 'Dockerfile'}")
    runtime = fields.string("runtime", default="python:3.11-slim") or ""
    check_reference(runtime, fields, "runtime")
    commands = load_commands(fields, platforms)
    if not commands:
        raise fields.error("commands", "a contract needs at least one command test to run in the service")
    return ContractSpec(
        context=context,
        runtime=runtime,
        commands=commands,
        skip_if_exists=_absolute(fields, "skip_if_exists"),
        dockerfile=dockerfile,
    )


def load_smoke(image: Fields, platforms: tuple[str, ...]) -> SmokeSpec:
    fields = image.sub("smoke", _SMOKE_KEYS)
    if fields is None:
        return SmokeSpec()
    commands = load_commands(fields, platforms)
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


def _exit_code(item: Fields) -> int:
    code = item.integer("exit_code", 0)
    if not 0 <= code <= 255:
        raise item.error("exit_code", f"{code} is not an exit code (0-255)")
    return code


def _absolute(item: Fields, key: str) -> str | None:
    path = item.string(key)
    if path is not None and not path.startswith("/"):
        raise item.error(key, f"{path!r} must be an absolute path")
    return path
