"""The images a Dockerfile is built FROM, read as BuildKit reads them (catalog.dockerfile's parser:
parser directives, continuations, comments, heredoc bodies skipped, any case of `FROM`).

For each `FROM [--platform=...] IMAGE [AS NAME]`: `scratch` and an earlier stage's name are no image;
`$NAME`, `${NAME}` and `${NAME:-default}` take the build argument NAME (from the bake target or compose
service that builds the file, else its global `ARG NAME=default`). A reference is reported where its
text is written: on the FROM line, on the ARG line that gives the default, or in the bake or compose
file that passes the argument.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..catalog.dockerfile import Instruction, parse_dockerfile
from ..core.errors import ConfigError
from .model import Use
from .text import locate

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_VARIABLE = re.compile(rf"\$(?:\{{(?P<braced>{_NAME})(?::?(?P<op>[-+])(?P<word>[^}}]*))?\}}|(?P<bare>{_NAME}))")
_WHOLE = re.compile(rf"^{_VARIABLE.pattern}$")
_FLAG = re.compile(r"^--[a-z-]+(?:=.*)?$")


@dataclass(frozen=True)
class ArgValue:
    """A build argument's value and where its text is written (WHERE says how: `ARG BASE`, `args.BASE`)."""

    value: str
    file: Path
    line: int
    where: str
    literal: bool = True  # False: assembled from variables, no text to rewrite in place


def read_text(path: Path) -> str:
    """PATH's text; a ConfigError naming it when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot be read: {exc}") from None


def scan_dockerfile(path: Path, overrides: Mapping[str, ArgValue] | None = None) -> list[Use]:
    """Every image PATH is built FROM, with OVERRIDES as its build arguments (a bake target's or a compose
    service's `args`). Stage names and `scratch` are left out."""
    text = read_text(path)
    lines = text.splitlines()
    parsed = parse_dockerfile(text, path)
    spans = _spans(parsed.instructions, len(lines))
    args: dict[str, ArgValue | None] = {}
    stages: set[str] = set()
    uses: list[Use] = []
    seen_from = False
    for instruction, last in zip(parsed.instructions, spans, strict=True):
        if instruction.keyword == "ARG" and not seen_from:
            args.update(_declared(instruction, path, lines, last, overrides or {}))
        elif instruction.keyword == "FROM":
            seen_from = True
            use, stage = _from(instruction, path, lines, last, args)
            if use is not None and use.reference.lower() not in stages and use.reference.lower() != "scratch":
                uses.append(use)
            if stage:
                stages.add(stage.lower())
    return uses


def _spans(instructions: tuple[Instruction, ...], total: int) -> list[int]:
    """The last line each instruction may reach (the line before the next one starts)."""
    starts = [i.line for i in instructions]
    return [nxt - 1 for nxt in starts[1:]] + [total]


def _declared(
    instruction: Instruction, path: Path, lines: list[str], last: int, overrides: Mapping[str, ArgValue]
) -> dict[str, ArgValue | None]:
    """The global build arguments an ARG declares: the override when the build passes one, else the
    default (where its text is), else None (declared without a value)."""
    try:
        words = shlex.split(instruction.text, comments=False)
    except ValueError:
        words = instruction.text.split()
    out: dict[str, ArgValue | None] = {}
    for word in words:
        name, has_default, default = word.partition("=")
        if name in overrides:
            out[name] = overrides[name]
        elif has_default:
            line = locate(lines, instruction.line, default, last) if default else instruction.line
            out[name] = ArgValue(default, path, line, f"ARG {name}")
        else:
            out[name] = None
    return out


def _from(
    instruction: Instruction, path: Path, lines: list[str], last: int, args: Mapping[str, ArgValue | None]
) -> tuple[Use | None, str | None]:
    """The image a FROM names (None when it names none) and the stage name it gives."""
    words = [w for w in instruction.text.split() if not _FLAG.match(w)]
    if not words:
        raise ConfigError(str(path), f"line {instruction.line}", "FROM names no image")
    image = words[0]
    stage = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
    where = f"FROM (stage {stage})" if stage else "FROM"
    whole = _WHOLE.match(image)
    if "$" not in image:
        return Use(path, locate(lines, instruction.line, image, last), image, image, where), stage
    if whole:
        value = args.get(whole["braced"] or whole["bare"])
        word = whole["word"] or ""
        if value is not None and value.value and whole["op"] != "+":
            used = f"{value.where}, used by {where} at line {instruction.line} of {path.name}"
            return Use(value.file, value.line, value.value if value.literal else None, value.value, used), stage
        if word and (whole["op"] == "-" or (whole["op"] == "+" and value is not None and value.value)):
            return Use(path, locate(lines, instruction.line, word, last), word, word, where), stage
        return None, stage
    resolved = _expand(image, args)
    return (Use(path, instruction.line, None, resolved, where) if resolved else None), stage


def _expand(text: str, args: Mapping[str, ArgValue | None]) -> str:
    """TEXT with its build arguments substituted (unset ones empty), as BuildKit expands a FROM."""

    def one(match: re.Match[str]) -> str:
        value = args.get(match["braced"] or match["bare"])
        current = value.value if value is not None else ""
        if match["op"] == "-":
            return current or match["word"]
        if match["op"] == "+":
            return match["word"] if current else ""
        return current

    return _VARIABLE.sub(one, text)
