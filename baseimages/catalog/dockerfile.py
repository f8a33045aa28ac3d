"""A Dockerfile read the way BuildKit's parser reads it, as far as `doctor` needs: the parser directives
at the top (`# syntax=`, `# escape=`), then one instruction per logical line (continuations joined,
comments dropped, heredoc bodies skipped), each with its line number, its `--flags` and its words.
Nothing here judges a Dockerfile: `doctor_dockerfile` does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import ConfigError

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_FLAG = re.compile(r"^--([a-z-]+)(?:=(.*))?$")


@dataclass(frozen=True)
class Instruction:
    """One instruction: KEYWORD (upper case) at LINE (1-based, where it starts), its `--name=value` flags
    and the words after them (the JSON form's items, else the text split on whitespace)."""

    keyword: str
    line: int
    text: str  # everything after the keyword, continuations joined
    flags: Mapping[str, str] = field(default_factory=dict)
    words: tuple[str, ...] = ()

    @property
    def sources(self) -> tuple[str, ...]:
        """COPY/ADD: every word but the last (the destination)."""
        return self.words[:-1]

    @property
    def from_context(self) -> bool:
        """COPY/ADD that reads the build context (not another stage, image or named context)."""
        return self.keyword in ("COPY", "ADD") and "from" not in self.flags


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    directives: Mapping[str, str]  # lower-case name -> value, e.g. {"syntax": "docker/dockerfile:1"}
    directive_lines: Mapping[str, int]
    instructions: tuple[Instruction, ...]

    def stages(self) -> Iterator[tuple[Instruction, ...]]:
        """The instructions of each stage, each starting with its FROM (ARGs before the first FROM apart)."""
        stage: list[Instruction] = []
        for instruction in self.instructions:
            if instruction.keyword == "FROM" and stage:
                yield tuple(stage)
                stage = []
            stage.append(instruction)
        if stage:
            yield tuple(stage)


def read_dockerfile(path: Path) -> Dockerfile:
    """Parse PATH; a file that cannot be read is a ConfigError naming it."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot be read: {exc}") from None
    return parse_dockerfile(text, path)


def parse_dockerfile(text: str, path: Path = Path("Dockerfile")) -> Dockerfile:
    lines = text.splitlines()
    directives: dict[str, str] = {}
    directive_lines: dict[str, int] = {}
    start = 0
    for number, line in enumerate(lines):  # directives: only before any other line, each at most once
        match = _DIRECTIVE.match(line)
        if not match or match[1].lower() in directives:
            break
        directives[match[1].lower()] = match[2]
        directive_lines[match[1].lower()] = number + 1
        start = number + 1
    escape = directives.get("escape", "\\")[:1] or "\\"
    return Dockerfile(path, directives, directive_lines, tuple(_instructions(lines, start, escape)))


def _instructions(lines: list[str], start: int, escape: str) -> Iterator[Instruction]:
    index = start
    while index < len(lines):
        first = index
        current = lines[index].strip()
        index += 1
        if not current or current.startswith("#"):
            continue
        parts = []
        while current.endswith(escape) and index < len(lines):
            parts.append(current[: -len(escape)].strip())
            current = lines[index].strip()
            index += 1
            # comments and empty lines inside a continued instruction are dropped, and it goes on
            while (not current or current.startswith("#")) and index < len(lines):
                current = lines[index].strip()
                index += 1
        parts.append("" if current.startswith("#") else current)
        joined = " ".join(part for part in parts if part)
        for match in _HEREDOC.finditer(joined):  # a heredoc's body is not instructions
            index = _skip_heredoc(lines, index, match[3], strip_tabs=bool(match[1]))
        keyword, _, rest = joined.partition(" ")
        yield _instruction(keyword.upper(), first + 1, rest.strip())


def _skip_heredoc(lines: list[str], index: int, word: str, strip_tabs: bool) -> int:
    while index < len(lines):
        line = lines[index].lstrip("\t") if strip_tabs else lines[index]
        index += 1
        if line.rstrip() == word:
            break
    return index


def _instruction(keyword: str, line: int, text: str) -> Instruction:
    if keyword not in ("COPY", "ADD"):
        return Instruction(keyword, line, text)
    words = text.split()
    flags: dict[str, str] = {}
    while words and (match := _FLAG.match(words[0])):
        flags[match[1]] = match[2] or ""
        words.pop(0)
    rest = " ".join(words)
    if rest.startswith("["):
        try:
            items = json.loads(rest)
        except ValueError:
            items = None
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            return Instruction(keyword, line, text, flags, tuple(items))
    return Instruction(keyword, line, text, flags, tuple(words))
