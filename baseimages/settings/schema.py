"""How a project setting is declared: its value type (a `Kind`, see `kinds`) and its row of the table
(`Setting`).

A kind turns a TOML value (from pyproject.toml) or a text (an environment variable, a flag) into a
checked, typed value, or raises `Invalid` with the problem in words. The `Setting` names the place the
value came from, so that a bad value is the same one-line ConfigError wherever it was given: the file
and the key, `environment` and the variable, or the flag and the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..core.errors import ConfigError
from .kinds import Invalid, Kind

if TYPE_CHECKING:
    from .offline import Detection

T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One project setting, declared once: where it is read, what it accepts, its default, its help."""

    key: str  # in [tool.baseimages] (`table.key`: in [tool.baseimages.table]); the Settings field: `_` for `-` and `.`
    env: str  # the BASEIMAGES_* environment variable
    flag: str | None  # the CLI flag, or None
    kind: Kind[T]  # the type and its checks
    default: T  # as pyproject.toml would spell it (`~` not yet expanded)
    help: str  # one line: the settings page's "meaning" column and the flag's help
    detect: Detection | None = None  # where to look in the operator's environment when no place sets it

    @property
    def attr(self) -> str:
        """The field of Settings that holds the value."""
        return self.key.replace("-", "_").replace(".", "_")

    @property
    def table(self) -> str:
        """The sub-table of [tool.baseimages] the setting lives in ("" for the table itself); its flag is
        then one of the command the table is for (`retention`: `prune`)."""
        return self.key.partition(".")[0] if "." in self.key else ""

    def from_toml(self, value: object, source: str) -> T:
        return checked(self.kind.from_toml, value, source, self.key)

    def from_env(self, text: str) -> T:
        return checked(self.kind.from_text, text, "environment", self.env)

    def from_flag(self, text: str) -> T:
        return checked(self.kind.from_text, text, self.flag or self.key, text)

    def check(self, value: object, source: str = "settings") -> T:
        return checked(self.kind.check, value, source, self.attr)

    def default_value(self) -> T:
        return self.kind.check(self.default)

    def default_doc(self) -> str:
        """The default as docs/settings.md shows it: a TOML value, or where it is detected."""
        if self.default is not None:
            return f"`{toml_literal(self.default)}`"
        if self.detect is not None:
            return f"detected from {self.detect.doc()}; else none"
        return "none"

    def doc_row(self) -> tuple[str, str, str, str, str, str]:
        """The settings page's row: key | environment variable | flag | type | default | meaning."""
        flag = f"`{self.flag}`" if self.flag else "none"
        return (f"`{self.key}`", f"`{self.env}`", flag, self.kind.name, self.default_doc(), self.help)

    @property
    def flag_usage(self) -> str:
        """The flag as `--help` shows it: with its value's metavar, or alone for a switch."""
        assert self.flag is not None
        return self.flag if self.kind.flag_const is not None else f"{self.flag} {self.kind.metavar}"

    def flag_arguments(self) -> dict[str, Any]:
        """argparse's `add_argument` keywords for the flag: a value (repeatable or not), or a switch that stands
        for `flag_const`."""
        if self.kind.flag_const is not None:
            return {"dest": self.attr, "action": "store_const", "const": self.kind.flag_const, "help": self.flag_help()}
        action = "append" if self.kind.repeatable else "store"  # a repeated flag's values are joined with commas
        return {"dest": self.attr, "metavar": self.kind.metavar, "help": self.flag_help(), "action": action}

    def flag_help(self) -> str:
        if isinstance(self.default, bool):
            default = toml_literal(self.default)
        elif isinstance(self.default, str | int | Path) and self.default != "":
            default = str(self.default)  # without TOML's quotes
        else:
            default = self.default_doc()
        switch = {"true": "on: ", "false": "off: "}.get(self.kind.flag_const or "", "")  # what a switch's flag does
        text = f"{switch}{self.help} (overrides {self.env} and [tool.baseimages] {self.key}; default: {default})"
        return text.replace("`", "")


def checked(parse: Callable[[Any], T], raw: object, source: str, field: str) -> T:
    """PARSE(RAW), with a refusal turned into the one-line ConfigError naming SOURCE and FIELD."""
    try:
        return parse(raw)
    except Invalid as exc:
        raise ConfigError(source, field, str(exc)) from None


def toml_literal(value: object) -> str:
    """VALUE as a TOML value (strings, integers, booleans, paths and lists of strings)."""
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, dict):  # an inline table
        return "{" + ", ".join(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)
