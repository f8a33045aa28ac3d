"""Typed access to the mappings of a YAML file: every failure is a ConfigError naming the file and the
field (`smoke.commands[2].stdout`), so that validation reads as a list of fields and their rules."""

from __future__ import annotations

import re
from typing import Any

from ..core.errors import ConfigError
from ..core.reference import parse_reference


class Fields:
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

    def sub(self, key: str, allowed: set[str]) -> Fields | None:
        if key not in self.data or self.data[key] is None:
            return None
        return Fields(self.data[key], self.source, self.path(key), allowed)

    def items(self, key: str, allowed: set[str]) -> list[Fields]:
        value = self.data.get(key) or []
        if not isinstance(value, list):
            raise self.error(key, "must be a list")
        return [Fields(item, self.source, f"{self.path(key)}[{i}]", allowed) for i, item in enumerate(value)]


def check_reference(ref: str, fields: Fields, key: str = "parent") -> None:
    try:
        parsed = parse_reference(ref)
    except ValueError:
        parsed = None
    if parsed is None or not (parsed.tag or parsed.digest):
        raise fields.error(key, f"{ref!r} is not an image reference with a tag or digest, e.g. python:3.11-slim")
