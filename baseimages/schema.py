"""How a project setting is declared: its value type (a `Kind`) and its row of the table (`Setting`).

A kind turns a TOML value (from pyproject.toml) or a text (an environment variable, a flag) into a
checked, typed value, or raises `Invalid` with the problem in words. The `Setting` names the place the
value came from, so that a bad value is the same one-line ConfigError wherever it was given: the file
and the key, `environment` and the variable, or the flag and the value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from re import Pattern
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .errors import ConfigError
from .platforms import platform_problem

if TYPE_CHECKING:
    from .offline import Detection

T = TypeVar("T")


class Invalid(ValueError):
    """A value a kind refuses. The message is the problem alone; the caller names the place."""


class Kind(Generic[T]):
    """A setting's value type: what it accepts from TOML and from text, and the checks every value passes."""

    name: str  # the README's "type" column
    metavar: str  # the value in a flag's help
    flag_const: str | None = None  # a switch: the text its flag stands for (the flag takes no value)
    repeatable: bool = False  # its flag may be given more than once (the values are joined with commas)

    def check(self, value: object) -> T:
        """VALUE as Python gives it (a default, a library override), checked and normalised."""
        raise NotImplementedError

    def from_text(self, text: str) -> T:
        """A value from an environment variable or a flag."""
        return self.check(text)

    def from_toml(self, value: object) -> T:
        """A value from `[tool.baseimages]`: a TOML string, unless the kind takes something else."""
        if not isinstance(value, str):
            raise Invalid(f"must be a string, got {type(value).__name__}")
        return self.from_text(value)


class Text(Kind[str]):
    """A string, trimmed of STRIP at both ends and RSTRIP at the end, then matched against PATTERN.
    An empty string is allowed unless REQUIRED."""

    def __init__(
        self,
        name: str = "string",
        metavar: str = "TEXT",
        pattern: Pattern[str] | None = None,
        mismatch: str = "",  # what follows the quoted value when PATTERN does not match
        strip: str = "",
        rstrip: str = "",
        required: bool = False,
    ) -> None:
        self.name, self.metavar = name, metavar
        self.pattern, self.mismatch = pattern, mismatch
        self.strip, self.rstrip, self.required = strip, rstrip, required

    def check(self, value: object) -> str:
        if not isinstance(value, str):
            raise Invalid(f"must be a string, got {type(value).__name__}")
        text = value.strip(self.strip).rstrip(self.rstrip)
        if self.pattern is not None and (text or self.required) and not self.pattern.match(text):
            raise Invalid(f"{text!r} {self.mismatch}")
        return text


class WholeNumber(Kind[int]):
    """An integer of at least MINIMUM (TOML: an integer; text: digits)."""

    metavar = "N"

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum
        self.name = f"integer, at least {minimum}"

    def check(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"must be a whole number, got {value!r}")
        if value < self.minimum:
            raise Invalid(f"must be at least {self.minimum}")
        return value

    def from_text(self, text: str) -> int:
        try:
            number = int(text)
        except ValueError:
            raise Invalid(f"must be a whole number, got {text!r}") from None
        return self.check(number)

    def from_toml(self, value: object) -> int:
        return self.check(value)


class PlatformList(Kind[tuple[str, ...]]):
    """One or more platforms buildx accepts (TOML: a list of strings; text: comma-separated)."""

    name = "list of os/arch (comma-separated in the environment)"
    metavar = "OS/ARCH,..."

    def check(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple) or not value or not all(isinstance(p, str) for p in value):
            raise Invalid("must be a non-empty list of strings like linux/amd64")
        for platform in value:
            problem = platform_problem(platform)
            if problem is not None:
                raise Invalid(problem)
        return tuple(value)

    def from_text(self, text: str) -> tuple[str, ...]:
        items = [p.strip() for p in text.split(",") if p.strip()]
        if not items:
            raise Invalid("must name at least one platform, e.g. linux/amd64")
        return self.check(tuple(items))

    def from_toml(self, value: object) -> tuple[str, ...]:
        return self.check(value)


class Switch(Kind[bool]):
    """On or off (TOML: a boolean; text: true/false, 1/0, yes/no, on/off). Its flag takes no value and
    sets FLAG_SETS, e.g. `--no-build-cache` turns a setting that is on by default off."""

    name = "boolean"
    metavar = ""
    _TEXTS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}

    def __init__(self, flag_sets: bool) -> None:
        self.flag_sets = flag_sets
        self.flag_const = "true" if flag_sets else "false"

    def check(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise Invalid(f"must be true or false, got {value!r}")
        return value

    def from_text(self, text: str) -> bool:
        value = self._TEXTS.get(text.strip().lower())
        if value is None:
            raise Invalid(f"{text!r} is not true or false")
        return value

    def from_toml(self, value: object) -> bool:
        return self.check(value)


_BUILDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PlatformMap(Kind[dict[str, str]]):
    """Platforms mapped to names (buildx builders or Docker contexts): TOML a table
    `"linux/arm64" = "NAME"`; text `linux/arm64=NAME,linux/amd64=NAME`; a repeatable flag `PLATFORM=NAME`."""

    name = "table of os/arch = builder (PLATFORM=NAME,... in the environment)"
    metavar = "PLATFORM=NAME"
    repeatable = True

    def check(self, value: object) -> dict[str, str]:
        if not isinstance(value, dict):
            raise Invalid(f"must be a table of platform = builder name, got {type(value).__name__}")
        out: dict[str, str] = {}
        for platform, builder in value.items():
            problem = platform_problem(platform) if isinstance(platform, str) else f"{platform!r} is not a platform"
            if problem is not None:
                raise Invalid(problem)
            if not isinstance(builder, str) or not _BUILDER_NAME.match(builder):
                raise Invalid(f"{platform} = {builder!r} is not a builder or Docker context name")
            out[platform] = builder
        return out

    def from_text(self, text: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            platform, equals, builder = item.partition("=")
            if not equals:
                raise Invalid(f"{item!r} is not PLATFORM=NAME, e.g. linux/arm64=arm-node")
            if platform.strip() in out:
                raise Invalid(f"{platform.strip()} is mapped twice")
            out[platform.strip()] = builder.strip()
        return self.check(out)

    def from_toml(self, value: object) -> dict[str, str]:
        return self.check(value)


class AnyPath(Kind[Path]):
    """A path that need not exist yet; `~` is expanded, a relative path stays relative."""

    name = "path"
    metavar = "DIR"

    def check(self, value: object) -> Path:
        if not isinstance(value, str | Path):
            raise Invalid(f"must be a path, got {type(value).__name__}")
        return Path(value).expanduser()


def _optional_path(value: object) -> Path | None:
    """VALUE as a path (`~` expanded); None for nothing or an empty string (not set: the next place is asked)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | Path):
        raise Invalid(f"must be a path, got {type(value).__name__}")
    return Path(value).expanduser()


class ExistingPath(Kind[Path | None]):
    """An existing directory (or file), made absolute. Empty means not set: the next place is asked."""

    def __init__(self, directory: bool) -> None:
        self.directory = directory
        self.name = "existing directory" if directory else "existing file"
        self.metavar = "DIR" if directory else "FILE"

    def check(self, value: object) -> Path | None:
        path = _optional_path(value)
        if path is None:
            return None
        if not (path.is_dir() if self.directory else path.is_file()):
            raise Invalid(f"no such {'directory' if self.directory else 'file'}: {path.absolute()}")
        return path.resolve()


class OutputPath(Kind[Path | None]):
    """Where a run writes: a file whose folder exists, or a directory (created when absent). Empty: none."""

    def __init__(self, directory: bool) -> None:
        self.directory = directory
        self.name = "directory (created when absent)" if directory else "file to write (its folder must exist)"
        self.metavar = "DIR" if directory else "FILE"

    def check(self, value: object) -> Path | None:
        path = _optional_path(value)
        if path is None:
            return None
        if self.directory and path.exists() and not path.is_dir():
            raise Invalid(f"not a directory: {path.absolute()}")
        if not self.directory and path.is_dir():
            raise Invalid(f"is a directory, not a file: {path.absolute()}")
        if not self.directory and not path.absolute().parent.is_dir():
            raise Invalid(f"no such directory: {path.absolute().parent}")
        return path


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One project setting, declared once: where it is read, what it accepts, its default, its help."""

    key: str  # in [tool.baseimages] (`table.key`: in [tool.baseimages.table]); the Settings field: `_` for `-` and `.`
    env: str  # the BASEIMAGES_* environment variable
    flag: str | None  # the CLI flag, or None
    kind: Kind[T]  # the type and its checks
    default: T  # as pyproject.toml would spell it (`~` not yet expanded)
    help: str  # one line: the README's "meaning" column and the flag's help
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
        """The default as the README shows it: a TOML value, or where it is detected."""
        if self.default is not None:
            return f"`{toml_literal(self.default)}`"
        if self.detect is not None:
            return f"detected from {self.detect.doc()}; else none"
        return "none"

    def doc_row(self) -> tuple[str, str, str, str, str, str]:
        """The README row: key | environment variable | flag | type | default | meaning."""
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
