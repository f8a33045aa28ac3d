"""The build context as BuildKit gets it: a copy of the image's folder, what its `.dockerignore` lets
through, with every file and directory time set to STEADY_TIME.

Why a copy: BuildKit 0.13's `rewrite-timestamp` clamps only the times newer than SOURCE_DATE_EPOCH, and
a `COPY` step's cache key leaves file times out. A `COPY` answered from an earlier day's cache keeps the
times that day's build gave its files, while the same step run anew today gets today's: the same inputs
would give two different layers, and a rebuild without the cache would not reproduce the published
image. With every time in the context fixed, and older than any build date, the layer is the same
either way. The copy is written with the standard library: a few files per image, no library needed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .fingerprint import context_patterns, is_ignored

STEADY_TIME = 946684800  # 2000-01-01T00:00:00Z: every time in the copy, older than any build date


def steady_copy(source: Path, dest: Path) -> None:
    """Copy the build context SOURCE to DEST (replaced when it exists): the files, symbolic links and
    directories `.dockerignore` does not exclude, with their permission bits, every time STEADY_TIME."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    patterns = context_patterns(source)
    for root, dirs, files in os.walk(source):
        dirs.sort()
        here = Path(root)
        for name in [*dirs, *files]:
            path = here / name
            rel = path.relative_to(source).as_posix()
            if is_ignored(rel, patterns):
                continue
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)  # under an excluded folder a `!` let through
            if path.is_symlink():
                os.symlink(os.readlink(path), target)
            elif path.is_dir():
                target.mkdir(exist_ok=True)
            elif path.is_file():  # (a socket or a pipe is no file to build with)
                shutil.copyfile(path, target)
    _steady(source, dest)


def _steady(source: Path, dest: Path) -> None:
    """Every entry of DEST gets its SOURCE twin's permission bits and the time STEADY_TIME, deepest first
    (writing into a folder changes its time)."""
    times = (STEADY_TIME, STEADY_TIME)
    for root, dirs, files in os.walk(dest, topdown=False):
        here = Path(root)
        for name in [*files, *dirs]:
            target = here / name
            if not target.is_symlink():
                os.chmod(target, (source / target.relative_to(dest)).stat().st_mode & 0o7777)
            os.utime(target, times, follow_symlinks=False)
    os.chmod(dest, source.stat().st_mode & 0o7777)
    os.utime(dest, times)
