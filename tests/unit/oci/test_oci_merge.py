"""Merging one-platform OCI layouts (what a per-platform buildx build writes) into one image: the
index lists each platform's manifest in the order given, then their attestations, carries the index
annotations, and its bytes depend on its inputs only; the blobs are hard-linked, never written twice."""

from __future__ import annotations

import json

import pytest
from fake_image import make_image

from baseimages.core.errors import BuildError
from baseimages.oci.archive import archive_index
from baseimages.oci.merge import PlatformArchive, merge_platform_archives

NAME = "localhost:5000/team/uv:candidate-1.0.0"
NOTES = {"org.opencontainers.image.base.digest": "sha256:" + "b" * 64}


def _part(tmp_path, platform, seed="uv", run="1", archive=False):
    image = make_image(seed, platforms=[platform], attestation=True, run=run)
    path = tmp_path / f"{seed}-{platform.replace('/', '-')}-{run}.oci{'.tar' if archive else ''}"
    (image.write_archive if archive else image.write_layout)(path, name=NAME)
    return image, PlatformArchive(platform, path)


def _index(merged):
    return json.loads((merged.layout / "blobs/sha256" / merged.digest.split(":")[1]).read_bytes())


def test_the_index_lists_each_platform_in_the_given_order_then_their_attestations(tmp_path):
    arm, arm_part = _part(tmp_path, "linux/arm64")
    amd, amd_part = _part(tmp_path, "linux/amd64")
    merged = merge_platform_archives([amd_part, arm_part], tmp_path / "uv.oci", NOTES)
    entries = _index(merged)["manifests"]
    amd_digest, arm_digest = amd.manifest_for("linux/amd64"), arm.manifest_for("linux/arm64")
    assert [e["digest"] for e in entries[:2]] == [amd_digest, arm_digest]
    assert [e["annotations"]["vnd.docker.reference.digest"] for e in entries[2:]] == [amd_digest, arm_digest]
    assert merged.manifests == {"linux/amd64": amd_digest, "linux/arm64": arm_digest}


def test_the_layout_is_one_image_the_upload_reads_with_the_index_annotations_and_the_name(tmp_path):
    parts = [_part(tmp_path, p)[1] for p in ("linux/amd64", "linux/arm64")]
    merged = merge_platform_archives(parts, tmp_path / "uv.oci", NOTES)
    digest, platforms = archive_index(merged.layout)
    assert (digest, platforms) == (merged.digest, merged.manifests)
    assert _index(merged)["annotations"] == NOTES
    top = json.loads((merged.layout / "index.json").read_bytes())["manifests"][0]
    blobs = {p.relative_to(merged.layout).as_posix() for p in (merged.layout / "blobs").rglob("*") if p.is_file()}
    assert top["annotations"]["io.containerd.image.name"] == NAME  # what `docker image load` names it
    entries = _index(merged)["manifests"]
    manifests = [json.loads((merged.layout / "blobs" / e["digest"].replace(":", "/")).read_bytes()) for e in entries]
    reached = {e["digest"] for e in entries} | {merged.digest}
    reached |= {blob["digest"] for m in manifests for blob in [m["config"], *m["layers"]]}
    assert blobs == {"blobs/" + d.replace(":", "/") for d in reached}  # each part's own index left out


def test_each_blob_of_a_platform_layout_is_hard_linked_into_the_merged_layout_not_copied(tmp_path):
    image, part = _part(tmp_path, "linux/amd64")
    merged = merge_platform_archives([part], tmp_path / "uv.oci", NOTES)
    for digest in image.blobs:
        name = "blobs/" + digest.replace(":", "/")
        assert (merged.layout / name).stat().st_ino == (part.archive / name).stat().st_ino


def test_platform_archives_merge_into_the_same_index_as_their_layouts(tmp_path):
    layouts = [_part(tmp_path, p)[1] for p in ("linux/amd64", "linux/arm64")]
    archives = [_part(tmp_path, p, archive=True)[1] for p in ("linux/amd64", "linux/arm64")]
    one = merge_platform_archives(layouts, tmp_path / "a.oci", NOTES)
    two = merge_platform_archives(archives, tmp_path / "b.oci", NOTES)
    assert one.digest == two.digest
    names = sorted(p.relative_to(one.layout).as_posix() for p in one.layout.rglob("*"))
    assert names == sorted(p.relative_to(two.layout).as_posix() for p in two.layout.rglob("*"))
    files = [n for n in names if (one.layout / n).is_file()]
    assert all((one.layout / n).read_bytes() == (two.layout / n).read_bytes() for n in files)


def test_the_same_platform_builds_give_the_same_index_digest(tmp_path):
    first = [_part(tmp_path, p)[1] for p in ("linux/amd64", "linux/arm64")]
    one = merge_platform_archives(first, tmp_path / "a.oci", NOTES)
    two = merge_platform_archives(first, tmp_path / "b.oci", NOTES)
    assert one.digest == two.digest
    other_run = [_part(tmp_path, p, run="2")[1] for p in ("linux/amd64", "linux/arm64")]
    three = merge_platform_archives(other_run, tmp_path / "c.oci", NOTES)
    assert three.digest != one.digest  # another provenance (same images): another index, same manifests
    assert three.manifests == one.manifests


def test_an_archive_that_holds_another_platform_than_its_build_was_for_is_refused(tmp_path):
    _, amd_part = _part(tmp_path, "linux/amd64")
    wrong = PlatformArchive("linux/arm64", amd_part.archive)
    with pytest.raises(BuildError, match="the build was for linux/arm64 but its archive holds linux/amd64"):
        merge_platform_archives([wrong], tmp_path / "x.oci", {})


def test_a_missing_layout_is_a_build_error_naming_it(tmp_path):
    missing = PlatformArchive("linux/amd64", tmp_path / "nothing.oci")
    with pytest.raises(BuildError, match="nothing.oci"):
        merge_platform_archives([missing], tmp_path / "x.oci", {})
