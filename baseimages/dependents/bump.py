"""`bump`: rewrite each behind immutable-tag or digest pin to the build its tag line promotes now, in
place. Only the reference's own text changes (the tag, the digest or both, as the pin was written);
every other byte of the file stays (line endings, comments, spacing). Rolling tags are left alone.
A file is written whole to a temporary file beside it, with the original's mode, then renamed over it.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ConfigError
from .model import DependentsReport, Pin, PinKind
from .text import find_word

TITLE = "Bump the family's base images to their promoted builds"


@dataclass(frozen=True)
class Edit:
    """One rewrite: on LINE of FILE, the word OLD becomes NEW."""

    pin: Pin
    old: str
    new: str

    @property
    def file(self) -> Path:
        return self.pin.use.file

    @property
    def line(self) -> int:
        return self.pin.use.line


@dataclass(frozen=True)
class BumpPlan:
    edits: tuple[Edit, ...]
    stuck: tuple[Pin, ...]  # behind, but nothing to write in place (assembled from variables, no tag to pin)
    rolling: int  # rolling tags left alone

    @property
    def files(self) -> list[Path]:
        return list(dict.fromkeys(edit.file for edit in self.edits))

    def contents(self, path: Path) -> tuple[str, str]:
        """PATH's text now, and after its edits (read with its own line endings)."""
        with path.open(encoding="utf-8", newline="") as handle:
            before = handle.read()
        lines = before.splitlines(keepends=True)
        for edit in (e for e in self.edits if e.file == path):
            text = lines[edit.line - 1] if edit.line <= len(lines) else ""
            at = find_word(text, edit.old)
            if at < 0:
                raise ConfigError(str(path), f"line {edit.line}", f"{edit.old!r} is no longer there: read it again")
            lines[edit.line - 1] = text[:at] + edit.new + text[at + len(edit.old) :]
        return before, "".join(lines)

    def diff(self) -> str:
        """The edits as a unified diff (`a/FILE`, `b/FILE`), what `--dry-run` shows."""
        out: list[str] = []
        for path in self.files:
            before, after = self.contents(path)
            chunks = difflib.unified_diff(
                before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{path}", f"b/{path}"
            )
            out.extend(c if c.endswith("\n") else c + "\n\\ No newline at end of file\n" for c in chunks)
        return "".join(out)

    def apply(self) -> list[Path]:
        """Write every edited file (atomically, mode kept); the files written."""
        for path in self.files:
            _write(path, self.contents(path)[1])
        return self.files

    def pull_request(self) -> tuple[str, str]:
        """A pull request's title and body: each edit `file:line old -> new`, and the changelogs."""
        body = ["Pins to the base-image family that are behind what their tag line promotes now:", ""]
        for edit in self.edits:
            body.append(f"- `{edit.file}:{edit.line}` ({edit.pin.image}, tag line `{edit.pin.line}`):")
            body.append(f"  `{edit.old}` -> `{edit.new}`")
        for pin in self.stuck:
            body.append(f"- `{pin.use.file}:{pin.use.line}` is behind but not rewritten: {_why_stuck(pin)}")
        logs = [edit.pin for edit in self.edits if edit.pin.changelog]
        if logs:
            body += ["", "## What changed since each pin"]
            for pin in logs:
                body += ["", f"### `{pin.use.file}:{pin.use.line}`", "", (pin.changelog or "").rstrip()]
        if self.rolling:
            body += ["", f"{self.rolling} rolling tag(s) left alone: they follow their tag line."]
        return TITLE, "\n".join(body) + "\n"


def plan_bump(report: DependentsReport) -> BumpPlan:
    """The edits that bring REPORT's behind pins to what their line promotes now."""
    edits: list[Edit] = []
    stuck: list[Pin] = []
    for pin in report.behind:
        if pin.replacement is None or pin.use.text is None:
            stuck.append(pin)
        elif pin.replacement != pin.use.text:
            edits.append(Edit(pin, pin.use.text, pin.replacement))
    rolling = sum(1 for pin in report.pins if pin.kind is PinKind.ROLLING)
    return BumpPlan(tuple(edits), tuple(stuck), rolling)


def _why_stuck(pin: Pin) -> str:
    if pin.use.text is None:
        return "its reference is assembled from variables"
    return f"no immutable tag of `{pin.line}` names the digest it promotes ({pin.promoted_digest})"


def _write(path: Path, text: str) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
