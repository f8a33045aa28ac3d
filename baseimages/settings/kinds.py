"""The value types of settings (`Kind`s): each turns a TOML value (from pyproject.toml) or a text (an
environment variable, a flag) into a checked, typed value, or raises `Invalid` with the problem in words
(the caller, `schema.Setting`, names the place the value came from)."""

from __future__ import annotations

import re
from pathlib import Path
from re import Pattern
from typing import TYPE_CHECKING, Generic, TypeVar

from ..core.platforms import platform_problem

if TYPE_CHECKING:
    pass

T = TypeVar("T")


class Invalid(ValueError):
    """A value a kind refuses. The message is the problem alone; the caller names the place."""


class Kind(Generic[T]):
    """A setting's value type: what it accepts from TOML and from text, and the checks every value passes."""

    name: str  # the settings page's "type" column
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
    """An integer of at least MINIMUM (and at most MAXIMUM, if given; TOML: an integer; text: digits)."""

    metavar = "N"

    def __init__(self, minimum: int, maximum: int | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.name = f"integer, at least {minimum}" if maximum is None else f"integer, {minimum} to {maximum}"

    def check(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"must be a whole number, got {value!r}")
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            upper = "" if self.maximum is None else f" and at most {self.maximum}"
            raise Invalid(f"must be at least {self.minimum}{upper}")
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

    def __init__(self, metavar: str = "DIR") -> None:
        self.metavar = metavar

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
