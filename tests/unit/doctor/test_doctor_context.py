"""doctor's context check: each image's context after .dockerignore, its largest files, and the verdict by
size (sparse files: large to the build, free on this disk)."""

from __future__ import annotations

import os

from fake_probe import doctor_context

from baseimages.doctor.checkup import Verdict
from baseimages.doctor.context import check_contexts, measure_context

MB = 10**6


def _sparse(path, size):
    with open(path, "wb") as handle:
        handle.truncate(size)


def test_small_context_is_ok_and_lists_its_largest_files_largest_first(catalog_writer):
    catalog_writer.add("uv")
    folder = catalog_writer.images_dir / "uv"
    (folder / "requirements.txt").write_text("uv==0.13.9\n")
    _sparse(folder / "data.bin", 3000)
    (finding,) = check_contexts(doctor_context(catalog_writer.load()))
    assert (finding.verdict, finding.subject) == (Verdict.OK, "uv")
    assert finding.summary == "3.2 kB in 4 files after .dockerignore"  # 3000 + yaml + Dockerfile + requirements
    assert [line.split()[-1] for line in finding.details] == [
        "data.bin",
        "image.yaml",
        "Dockerfile",
        "requirements.txt",
    ]


def test_a_file_dockerignore_excludes_is_not_counted_but_the_folder_size_is_shown(catalog_writer):
    catalog_writer.add("uv")
    folder = catalog_writer.images_dir / "uv"
    (folder / ".dockerignore").write_text("*.tar\n")
    _sparse(folder / "wheels.tar", 300 * MB)
    (finding,) = check_contexts(doctor_context(catalog_writer.load()))
    assert finding.verdict is Verdict.OK
    assert "(the folder holds 300.0 MB in 4)" in finding.summary
    assert not any("wheels.tar" in line for line in finding.details)


def test_context_over_10_mb_warns_naming_the_file_and_the_dockerignore(catalog_writer):
    catalog_writer.add("uv")
    folder = catalog_writer.images_dir / "uv"
    _sparse(folder / "notes.pdf", 20 * MB)
    (finding,) = check_contexts(doctor_context(catalog_writer.load()))
    assert finding.verdict is Verdict.WARN
    assert "over 10.0 MB" in finding.summary
    assert finding.fix.startswith(f"add notes.pdf to {folder / '.dockerignore'}")


def test_context_over_100_mb_fails_with_the_large_file_first(catalog_writer):
    catalog_writer.add("uv")
    catalog_writer.add("small", folder="small")
    folder = catalog_writer.images_dir / "uv"
    (folder / "dist").mkdir()
    _sparse(folder / "dist" / "model.onnx", 150 * MB)
    findings = {f.subject: f for f in check_contexts(doctor_context(catalog_writer.load()))}
    assert findings["small"].verdict is Verdict.OK
    big = findings["uv"]
    assert big.verdict is Verdict.FAIL
    assert big.summary.startswith("150.0 MB in 3 files")
    assert big.details[0].split() == ["150.0", "MB", "dist/model.onnx"]
    assert "dist/model.onnx" in big.fix


def test_a_dangling_symlink_is_measured_as_a_link_not_a_crash(catalog_writer):
    catalog_writer.add("uv")
    link = catalog_writer.images_dir / "uv" / "broken"
    os.symlink(catalog_writer.root / "nowhere", link)  # a dangling link is sent as a link: measured by lstat
    size = measure_context(catalog_writer.images_dir / "uv")
    assert dict(size.files)["broken"] == len(str(catalog_writer.root / "nowhere"))
