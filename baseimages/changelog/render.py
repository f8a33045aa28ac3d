"""A changelog for people: short text (the `diff` command's output) and Markdown (for reports).

Per platform, grouped: Debian packages, Python distributions (per environment), config, files (counted,
the first of them listed), size. An item
is `+` added, `-` removed or `~` changed (old -> new). A first promotion, and a platform only one image
has, say so in one line with what the image holds, instead of listing everything as added.
"""

from __future__ import annotations

from collections.abc import Iterator

from .model import Changelog, ConfigChange, FileChanges, PackageChange, PlatformChangelog, PythonChange, State

MB = 1_000_000
_MARK = {"added": "+", "removed": "-", "changed": "~"}


def text_lines(log: Changelog) -> list[str]:
    """The changelog as short text lines."""
    lines = [_title(log)]
    for name in sorted(log.platforms):
        lines.extend(_platform_text(log.platforms[name]))
    return lines


def markdown(log: Changelog, level: int = 2) -> str:
    """The changelog as Markdown: a heading (of LEVEL) for it, one a level below per platform, a table
    per group."""
    lines = [f"{'#' * level} Changelog: {_title(log)}", ""]
    for name in sorted(log.platforms):
        lines.extend(_platform_markdown(log.platforms[name], "#" * (level + 1)))
    return "\n".join(lines).rstrip() + "\n"


def _title(log: Changelog) -> str:
    if log.old is None:
        return f"{log.new.reference}: first promotion ({_short(log.new.digest)})"
    return f"{log.old.reference} ({_short(log.old.digest)}) -> {log.new.reference} ({_short(log.new.digest)})"


def _headline(platform: PlatformChangelog) -> str:
    state = platform.state
    if state is State.UNCHANGED:
        return f"unchanged ({_short(platform.new_digest)})"
    if state is State.REMOVED:
        return f"only in the old image ({_size(platform.old_size)})"
    if state in (State.FIRST, State.ADDED):
        python = {c.environment for c in platform.python}
        where = f" in {', '.join(sorted(python))}" if python else ""
        what = "first promotion" if state is State.FIRST else "only in the new image"
        return (
            f"{what}: {len(platform.packages)} Debian packages, {len(platform.python)} Python distributions"
            f"{where}, {_size(platform.new_size)}"
        )
    if state is State.REBUILT:
        return "rebuilt: the same packages, Python distributions, files and config (only the build labels differ)"
    return "changed"


def _platform_text(platform: PlatformChangelog) -> Iterator[str]:
    yield f"{platform.platform}: {_headline(platform)}"
    if platform.state is not State.CHANGED:
        return
    if platform.packages:
        yield "  packages:"
        yield from (f"    {_item(c.change, c.name, c.old, c.new)}" for c in platform.packages)
    for environment in sorted({c.environment for c in platform.python}):
        yield f"  python ({environment}):"
        yield from (
            f"    {_item(c.change, c.name, c.old, c.new)}" for c in platform.python if c.environment == environment
        )
    if platform.config:
        yield "  config:"
        yield from (f"    {_item(c.change, c.key, c.old, c.new, ': ')}" for c in platform.config)
    if platform.files.total:
        yield f"  files: {_files_count(platform.files)}"
        yield from (f"    {_MARK[change]} {path}" for change, path in platform.files.paths)
        if platform.files.total > len(platform.files.paths):
            yield f"    ... and {platform.files.total - len(platform.files.paths)} more"
    yield f"  size: {_size_change(platform)}"


def _item(change: str, name: str, old: str | None, new: str | None, sep: str = " ") -> str:
    if change == "added":
        return f"+ {name}{sep}{new}"
    if change == "removed":
        return f"- {name}{sep}{old}"
    return f"~ {name}{sep}{old} -> {new}"


def _platform_markdown(platform: PlatformChangelog, heading: str = "###") -> Iterator[str]:
    yield f"{heading} {platform.platform}: {_headline(platform)}"
    yield ""
    if platform.state is not State.CHANGED:
        return
    groups: list[tuple[str, list[PackageChange] | list[PythonChange] | list[ConfigChange]]] = [
        ("Debian packages", list(platform.packages)),
        ("Python distributions", list(platform.python)),
        ("Config", list(platform.config)),
    ]
    for title, changes in groups:
        if not changes:
            continue
        yield f"**{title}**"
        yield ""
        yield "| | name | old | new |"
        yield "|---|---|---|---|"
        for change in changes:
            yield f"| {_MARK[change.change]} | {_cell(_name(change))} | {_cell(change.old)} | {_cell(change.new)} |"
        yield ""
    if platform.files.total:
        yield f"**Files**: {_files_count(platform.files)}"
        yield ""
        yield "<details><summary>paths</summary>"
        yield ""
        yield from (f"- {_MARK[change]} `{path.replace('`', chr(39))}`" for change, path in platform.files.paths)
        if platform.files.total > len(platform.files.paths):
            yield f"- ... and {platform.files.total - len(platform.files.paths)} more"
        yield ""
        yield "</details>"
        yield ""
    yield f"**Size**: {_size_change(platform)}"
    yield ""


def _files_count(files: FileChanges) -> str:
    return f"{files.added} added, {files.removed} removed, {files.changed} changed"


def _name(change: PackageChange | PythonChange | ConfigChange) -> str:
    if isinstance(change, PythonChange):
        return f"{change.name} ({change.environment})"
    return change.key if isinstance(change, ConfigChange) else change.name


def _cell(value: str | None) -> str:
    return "" if value is None else "`" + value.replace("|", "\\|").replace("`", "'") + "`"


def _size_change(platform: PlatformChangelog) -> str:
    old, new = platform.old_size, platform.new_size
    if old is None or new is None or old == new:
        return _size(new if new is not None else old)
    delta = new - old
    return f"{_size(old)} -> {_size(new)} ({'+' if delta > 0 else '-'}{_size(abs(delta))})"


def _size(size: int | None) -> str:
    if size is None:
        return "-"
    if size >= MB:
        return f"{size / MB:.1f} MB"
    return f"{size / 1000:.1f} kB" if size >= 1000 else f"{size} B"


def _short(digest: str | None) -> str:
    return "-" if digest is None else digest.split(":")[-1][:12]
