"""The build context BuildKit gets (catalog.build_context): a copy of the image's folder, .dockerignore
applied, with every time fixed, so that a COPY step gives the same layer from the cache or run anew."""

from __future__ import annotations

import os
from pathlib import Path

from baseimages.catalog.build_context import STEADY_TIME, steady_copy
from baseimages.catalog.fingerprint import context_hash


def _times(root: Path) -> set[float]:
    found = {os.lstat(root).st_mtime}
    for dirpath, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            found.add(os.lstat(Path(dirpath) / name).st_mtime)
    return found


def _folder(tmp_path: Path) -> Path:
    source = tmp_path / "image"
    (source / "conf" / "deep").mkdir(parents=True)
    (source / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    (source / "requirements.txt").write_text("rich==13.7.1\n")
    (source / "conf" / "deep" / "app.ini").write_text("[app]\n")
    (source / "run.sh").write_text("#!/bin/sh\n")
    (source / "run.sh").chmod(0o755)
    (source / "empty").mkdir()
    os.utime(source / "requirements.txt", (1_800_000_000, 1_800_000_000))  # newer than any build date here
    return source


def test_the_copy_has_every_file_and_folder_with_its_mode_and_every_time_fixed(tmp_path):
    source = _folder(tmp_path)
    dest = tmp_path / "context"
    steady_copy(source, dest)
    assert (dest / "requirements.txt").read_text() == "rich==13.7.1\n"
    assert (dest / "conf" / "deep" / "app.ini").read_text() == "[app]\n"
    assert (dest / "empty").is_dir()
    assert (dest / "run.sh").stat().st_mode & 0o777 == 0o755
    assert _times(dest) == {STEADY_TIME}
    assert context_hash(dest) == context_hash(source)  # the same inputs: nothing but the times differs


def test_two_copies_of_folders_with_other_times_are_alike_to_the_second(tmp_path):
    source = _folder(tmp_path)
    steady_copy(source, tmp_path / "first")
    for path in source.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
    steady_copy(source, tmp_path / "second")
    first = {p.relative_to(tmp_path / "first"): os.lstat(p) for p in (tmp_path / "first").rglob("*")}
    second = {p.relative_to(tmp_path / "second"): os.lstat(p) for p in (tmp_path / "second").rglob("*")}
    assert first.keys() == second.keys()
    assert all((first[k].st_mtime, first[k].st_mode) == (second[k].st_mtime, second[k].st_mode) for k in first)


def test_what_dockerignore_excludes_is_left_out_and_what_it_lets_back_in_is_kept(tmp_path):
    source = _folder(tmp_path)
    (source / "cache").mkdir()
    (source / "cache" / "big.bin").write_bytes(b"x" * 100)
    (source / "cache" / "keep.txt").write_text("kept\n")
    (source / "notes.md").write_text("draft\n")
    (source / ".dockerignore").write_text("cache\n*.md\n!cache/keep.txt\n")
    dest = tmp_path / "context"
    steady_copy(source, dest)
    assert not (dest / "notes.md").exists() and not (dest / "cache" / "big.bin").exists()
    assert (dest / "cache" / "keep.txt").read_text() == "kept\n"
    assert (dest / ".dockerignore").is_file()  # BuildKit applies it again: nothing more goes
    assert _times(dest) == {STEADY_TIME}


def test_symbolic_links_are_copied_as_links_never_followed(tmp_path):
    source = _folder(tmp_path)
    (source / "link.txt").symlink_to("requirements.txt")
    (source / "outside").symlink_to(tmp_path)  # a folder link: its target is not copied
    dest = tmp_path / "context"
    steady_copy(source, dest)
    assert os.readlink(dest / "link.txt") == "requirements.txt"
    assert os.readlink(dest / "outside") == str(tmp_path)
    assert os.lstat(dest / "outside").st_mtime == STEADY_TIME


def test_a_copy_replaces_what_an_earlier_copy_left(tmp_path):
    source = _folder(tmp_path)
    dest = tmp_path / "context"
    steady_copy(source, dest)
    (source / "requirements.txt").unlink()
    steady_copy(source, dest)
    assert not (dest / "requirements.txt").exists()
    assert (dest / "Dockerfile").is_file()
