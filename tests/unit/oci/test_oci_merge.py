"""Merging one-platform OCI archives (what a per-platform buildx build writes) into one image: the
index lists each platform's manifest in the order given, then their attestations, carries the index
annotations, and its bytes depend on its inputs only."""

from __future__ import annotations

import json
import tarfile

import pytest
from fake_image import make_image

from baseimages.core.errors import BuildError
from baseimages.oci.archive import archive_index
from baseimages.oci.merge import PlatformArchive, merge_platform_archives

NAME = "localhost:5000/team/uv:candidate-1.0.0"
NOTES = {"org.opencontainers.image.base.digest": "sha256:" + "b" * 64}


def _part(tmp_path, platform, seed="uv", run="1"):
    image = make_image(seed, platforms=[platform], attestation=True, run=run)
    path = tmp_path / f"{seed}-{platform.replace('/', '-')}-{run}.tar"
    image.write_archive(path, name=NAME)
    return image, PlatformArchive(platform, path)


def _index(merged):
    return json.loads((merged.layout / "blobs/sha256" / merged.digest.split(":")[1]).read_bytes())


def test_the_index_lists_each_platform_in_the_given_order_then_their_attestations(tmp_path):
    arm, arm_part = _part(tmp_path, "linux/arm64")
    amd, amd_part = _part(tmp_path, "linux/amd64")
    merged = merge_platform_archives([amd_part, arm_part], tmp_path / "uv.oci", tmp_path / "uv.tar", NOTES)
    entries = _index(merged)["manifests"]
    amd_digest, arm_digest = amd.manifest_for("linux/amd64"), arm.manifest_for("linux/arm64")
    assert [e["digest"] for e in entries[:2]] == [amd_digest, arm_digest]
    assert [e["annotations"]["vnd.docker.reference.digest"] for e in entries[2:]] == [amd_digest, arm_digest]
    assert merged.manifests == {"linux/amd64": amd_digest, "linux/arm64": arm_digest}


def test_the_archive_is_one_image_the_upload_reads_with_the_index_annotations_and_the_name(tmp_path):
    parts = [_part(tmp_path, p)[1] for p in ("linux/amd64", "linux/arm64")]
    merged = merge_platform_archives(parts, tmp_path / "uv.oci", tmp_path / "uv.tar", NOTES)
    digest, platforms = archive_index(merged.archive)
    assert (digest, platforms) == (merged.digest, merged.manifests)
    assert _index(merged)["annotations"] == NOTES
    with tarfile.open(merged.archive) as tar:
        handle = tar.extractfile("index.json")
        assert handle is not None
        top = json.loads(handle.read())["manifests"][0]
        blobs = {m.name for m in tar.getmembers() if m.isfile() and m.name.startswith("blobs/")}
    assert top["annotations"]["io.containerd.image.name"] == NAME  # what `docker image load` names it
    entries = _index(merged)["manifests"]
    manifests = [json.loads((merged.layout / "blobs" / e["digest"].replace(":", "/")).read_bytes()) for e in entries]
    reached = {e["digest"] for e in entries} | {merged.digest}
    reached |= {blob["digest"] for m in manifests for blob in [m["config"], *m["layers"]]}
    assert blobs == {"blobs/" + d.replace(":", "/") for d in reached}  # each part's own index left out


def test_the_same_platform_builds_give_the_same_index_digest(tmp_path):
    first = [_part(tmp_path, p)[1] for p in ("linux/amd64", "linux/arm64")]
    one = merge_platform_archives(first, tmp_path / "a.oci", tmp_path / "a.tar", NOTES)
    two = merge_platform_archives(first, tmp_path / "b.oci", tmp_path / "b.tar", NOTES)
    assert one.digest == two.digest
    other_run = [_part(tmp_path, p, run="2")[1] for p in ("linux/amd64", "linux/arm64")]
    three = merge_platform_archives(other_run, tmp_path / "c.oci", tmp_path / "c.tar", NOTES)
    assert three.digest != one.digest  # another provenance (same images): another index, same manifests
    assert three.manifests == one.manifests


def test_an_archive_that_holds_another_platform_than_its_build_was_for_is_refused(tmp_path):
    _, amd_part = _part(tmp_path, "linux/amd64")
    wrong = PlatformArchive("linux/arm64", amd_part.archive)
    with pytest.raises(BuildError, match="the build was for linux/arm64 but its archive holds linux/amd64"):
        merge_platform_archives([wrong], tmp_path / "x.oci", tmp_path / "x.tar", {})


def test_a_missing_archive_is_a_build_error_naming_it(tmp_path):
    missing = PlatformArchive("linux/amd64", tmp_path / "nothing.tar")
    with pytest.raises(BuildError, match="nothing.tar"):
        merge_platform_archives([missing], tmp_path / "x.oci", tmp_path / "x.tar", {})


def test_without_a_layout_only_the_archive_is_written_and_it_is_the_same_archive(tmp_path):
    parts = [_part(tmp_path, p)[1] for p in ("linux/amd64", "linux/arm64")]
    with_layout = merge_platform_archives(parts, tmp_path / "uv.oci", tmp_path / "a.tar", NOTES)
    alone = merge_platform_archives(parts, None, tmp_path / "b.tar", NOTES)
    assert alone.layout is None and not (tmp_path / "b.oci").exists()
    assert (alone.digest, alone.manifests) == (with_layout.digest, with_layout.manifests)
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()


def test_the_layout_holds_every_file_of_the_archive_with_the_same_bytes(tmp_path):
    parts = [_part(tmp_path, p)[1] for p in ("linux/amd64", "linux/arm64")]
    merged = merge_platform_archives(parts, tmp_path / "uv.oci", tmp_path / "uv.tar", NOTES)
    assert merged.layout is not None
    with tarfile.open(merged.archive) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
        times = {m.mtime for m in tar.getmembers()}
    on_disk = {p.relative_to(merged.layout).as_posix(): p.read_bytes() for p in merged.layout.rglob("*") if p.is_file()}
    assert on_disk == files and times == {0}
