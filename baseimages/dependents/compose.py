"""Compose files (`compose.yaml`, `compose.yml`, `docker-compose.yaml`, `docker-compose.yml`, and their
`*.override.*` variants): each service's `image`, and its `build` (a context, or `context`, `dockerfile`
and `args` as a mapping or a `NAME=value` list), whose Dockerfile is read with those args.

Lines come from the YAML nodes themselves. Compose's `${VARIABLE}` interpolation is not done: a value
that uses it is compared as written.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from ..core.errors import ConfigError
from .dockerfile import ArgValue, read_text, scan_dockerfile
from .model import Use


def scan_compose(path: Path) -> list[Use]:
    """Every image reference of the compose file PATH and of the Dockerfiles its services build."""
    root = _load(path)
    services = _get(root, "services")
    if not isinstance(services, yaml.MappingNode):
        return []
    uses: list[Use] = []
    for key, service in services.value:
        name = str(key.value)
        image = _get(service, "image")
        if isinstance(image, yaml.ScalarNode) and image.value:
            uses.append(Use(path, image.start_mark.line + 1, image.value, image.value, f"service {name}: image"))
        build = _get(service, "build")
        if build is not None:
            uses.extend(_build(path, name, build))
    return uses


def _load(path: Path) -> yaml.Node | None:
    try:
        return yaml.compose(read_text(path), Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(str(path), where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None


def _get(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((value for k, value in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


def _build(path: Path, service: str, build: yaml.Node) -> list[Use]:
    """The uses of a service's `build`: its args that name images, and its Dockerfile's FROMs."""
    if isinstance(build, yaml.ScalarNode):
        context, dockerfile, args = str(build.value), "Dockerfile", {}
    else:
        context_node, dockerfile_node = _get(build, "context"), _get(build, "dockerfile")
        context = str(context_node.value) if isinstance(context_node, yaml.ScalarNode) else "."
        dockerfile = str(dockerfile_node.value) if isinstance(dockerfile_node, yaml.ScalarNode) else "Dockerfile"
        args = _args(path, service, _get(build, "args"))
    uses = [Use(a.file, a.line, a.value, a.value, a.where) for a in args.values()]
    if "://" in context or context.startswith("git@"):
        return uses
    target = Path(dockerfile)
    target = target if target.is_absolute() else Path(os.path.normpath(path.parent / context / target))
    if not target.is_file():
        raise ConfigError(str(path), f"services.{service}.build", f"{target} not found")
    return scan_dockerfile(target, args) + uses


def _args(path: Path, service: str, node: yaml.Node | None) -> dict[str, ArgValue]:
    """`args` as a mapping (`BASE: value`) or a list (`- BASE=value`); an arg without a value is left out."""
    out: dict[str, ArgValue] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(value, yaml.ScalarNode) and value.value:
                where = f"service {service}: build.args.{key.value}"
                out[str(key.value)] = ArgValue(str(value.value), path, value.start_mark.line + 1, where)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if isinstance(item, yaml.ScalarNode) and "=" in str(item.value):
                name, _, value = str(item.value).partition("=")
                where = f"service {service}: build.args.{name}"
                out[name] = ArgValue(value, path, item.start_mark.line + 1, where)
    return out
