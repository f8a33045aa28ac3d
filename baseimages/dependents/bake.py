"""Bake files (`docker-bake.hcl`, `docker-bake.json`, and their `*.override.*` variants): each target's
`args` and `contexts` (`docker-image://REF`), and the Dockerfile it builds (`context`, `dockerfile`, with
`inherits` followed), read with the target's args as build arguments.

HCL is read with python-hcl2. A value that interpolates a variable (`${TAG}`) is taken with the
variable's default, and cannot be rewritten in place.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError
from .dockerfile import ArgValue, read_text, scan_dockerfile
from .model import Use
from .text import locate

_INTERPOLATION = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}")
_IMAGE_CONTEXT = "docker-image://"


def scan_bake(path: Path) -> list[Use]:
    """Every image reference of the bake file PATH and of the Dockerfiles its targets build."""
    text = read_text(path)
    document = _load_json(path, text) if path.suffix == ".json" else _load_hcl(path, text)
    lines = text.splitlines()
    variables = _variables(document)
    targets = _blocks(document.get("target"))
    uses: list[Use] = []
    for name in targets:
        target = _merged(targets, name, path, set())
        start = _block_line(lines, name)
        args = {
            key: _value(str(value), variables, path, lines, start, f"target {name}: args.{key}")
            for key, value in _mapping(target.get("args"), path, f"target.{name}.args").items()
            if value is not None
        }
        dockerfile = _dockerfile(path, target)
        if dockerfile is not None:
            if not dockerfile.is_file():
                raise ConfigError(str(path), f"target.{name}.dockerfile", f"{dockerfile} not found")
            uses.extend(scan_dockerfile(dockerfile, args))
        uses.extend(_use(arg) for arg in args.values())
        for key, value in _mapping(target.get("contexts"), path, f"target.{name}.contexts").items():
            if isinstance(value, str) and value.startswith(_IMAGE_CONTEXT):
                found = _value(value.removeprefix(_IMAGE_CONTEXT), variables, path, lines, start,
                               f"target {name}: contexts.{key}")  # fmt: skip
                uses.append(_use(found))
    return uses


def _use(arg: ArgValue) -> Use:
    return Use(arg.file, arg.line, arg.value if arg.literal else None, arg.value, arg.where)


def _value(raw: str, variables: Mapping[str, str], path: Path, lines: list[str], start: int, where: str) -> ArgValue:
    if "${" not in raw:
        return ArgValue(raw, path, locate(lines, start, raw) if raw else start, where)
    resolved = _INTERPOLATION.sub(lambda m: variables.get(m[1], ""), raw)
    return ArgValue(resolved, path, start, where, literal=False)


def _load_hcl(path: Path, text: str) -> dict[str, Any]:
    import hcl2  # loaded only when a bake file is read: its grammar takes a moment
    from hcl2.utils import SerializationOptions

    options = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)
    try:
        return dict(hcl2.loads(text, serialization_options=options))
    except Exception as exc:  # python-hcl2 raises lark's errors, and others, on text it cannot read
        line = getattr(exc, "line", None)
        where = f"line {line}" if isinstance(line, int) else ""
        problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(str(path), where, f"not valid HCL: {problem}") from None


def _load_json(path: Path, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ConfigError(str(path), "", f"not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(str(path), "", "expected a JSON object with `target` (and `group`, `variable`)")
    return document


def _blocks(raw: Any) -> dict[str, dict[str, Any]]:
    """Labelled blocks by name: HCL gives a list of {label: body}, JSON a mapping."""
    items: Iterator[tuple[Any, Any]]
    if isinstance(raw, list):
        items = (pair for block in raw if isinstance(block, dict) for pair in block.items())
    elif isinstance(raw, dict):
        items = iter(raw.items())
    else:
        return {}
    return {str(name): body for name, body in items if isinstance(body, dict)}


def _variables(document: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: str(body["default"])
        for name, body in _blocks(document.get("variable")).items()
        if body.get("default") is not None
    }


def _mapping(raw: Any, path: Path, field: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(str(path), field, "expected a mapping of names to values")
    return raw


def _merged(targets: Mapping[str, dict[str, Any]], name: str, path: Path, seen: set[str]) -> dict[str, Any]:
    """Target NAME with what it `inherits` (parents first, its own attributes last; args and contexts merged)."""
    if name in seen:
        raise ConfigError(str(path), f"target.{name}.inherits", "inherits itself")
    if name not in targets:
        return {}
    own = targets[name]
    merged: dict[str, Any] = {}
    for parent in own.get("inherits") or []:
        for key, value in _merged(targets, str(parent), path, seen | {name}).items():
            merged[key] = {**merged.get(key, {}), **value} if key in ("args", "contexts") else value
    for key, value in own.items():
        merged[key] = {**merged.get(key, {}), **value} if key in ("args", "contexts") and value else value
    return merged


def _dockerfile(path: Path, target: Mapping[str, Any]) -> Path | None:
    """The local Dockerfile a target builds; None for a remote context or an inline Dockerfile."""
    context = str(target.get("context") or ".")
    if "://" in context or context.startswith("git@") or target.get("dockerfile-inline"):
        return None
    dockerfile = Path(str(target.get("dockerfile") or "Dockerfile"))
    folder = path.parent / context
    return dockerfile if dockerfile.is_absolute() else Path(os.path.normpath(folder / dockerfile))


def _block_line(lines: list[str], name: str) -> int:
    """The line where target NAME starts (HCL `target "NAME" {`, JSON `"NAME": {`); 1 when not found."""
    pattern = re.compile(rf'^\s*(?:target\s+"?{re.escape(name)}"?\s*\{{|"{re.escape(name)}"\s*:\s*\{{)')
    return next((number for number, line in enumerate(lines, 1) if pattern.match(line)), 1)
