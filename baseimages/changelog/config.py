"""The image config as keys a changelog compares: each environment variable, label and exposed port, and
the entrypoint, command, user and working directory."""

from __future__ import annotations

import json
from typing import Any

from .model import ConfigChange

Key = tuple[str, str]  # (field, name): ("env", "PATH"), ("label", "org..."), ("port", "8080/tcp"), ("user", "")


def config_keys(config: dict[str, Any]) -> dict[Key, str]:
    """The keys of an image config blob (its `config` object; absent or null fields have no key)."""
    settings = config.get("config") or {}
    if not isinstance(settings, dict):
        return {}
    keys: dict[Key, str] = {}
    for entry in settings.get("Env") or []:
        name, _, value = str(entry).partition("=")
        keys[("env", name)] = value
    for name, value in (settings.get("Labels") or {}).items():
        keys[("label", str(name))] = str(value)
    for port in settings.get("ExposedPorts") or {}:
        keys[("port", str(port))] = "exposed"
    for field, source in (("entrypoint", "Entrypoint"), ("cmd", "Cmd")):
        if settings.get(source) is not None:
            keys[(field, "")] = json.dumps(settings[source])
    for field, source in (("user", "User"), ("workdir", "WorkingDir")):
        if settings.get(source):
            keys[(field, "")] = str(settings[source])
    return keys


def config_changes(old: dict[Key, str], new: dict[Key, str]) -> tuple[ConfigChange, ...]:
    order = ("entrypoint", "cmd", "user", "workdir", "env", "port", "label")
    changed = [key for key in old.keys() | new.keys() if old.get(key) != new.get(key)]
    changed.sort(key=lambda key: (order.index(key[0]) if key[0] in order else len(order), key))
    return tuple(ConfigChange(field, name, old.get((field, name)), new.get((field, name))) for field, name in changed)
