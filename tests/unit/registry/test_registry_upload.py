"""Uploading an OCI image archive to the in-process fake registry: blobs uploaded (several at once,
streamed from the archive), skipped unread or mounted, upload sessions restarted, and the tag PUT last,
so that a failure moves no tag."""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile

import pytest
from fake_registry import INDEX_TYPE, make_image

from baseimages.core.errors import Abandoned, RegistryError
from baseimages.oci import archive as oci_archive


@pytest.fixture
def image():
    return make_image("upload")


@pytest.fixture
def archive(image, tmp_path):
    return image.write_archive(tmp_path / "image.tar")


def _upload(client, fake, archive, tag="team/tiny:candidate-1.0.0", mount_from=(), jobs=1):
    return client.upload_archive(archive, fake.ref(tag), mount_from, jobs)


def _blob_puts(fake):
    return [r for r in fake.requests if r.method == "PUT" and r.kind == "upload"]


FOUR_PLATFORMS = ("linux/amd64", "linux/arm64", "linux/s390x", "linux/ppc64le")


@pytest.fixture
def streams(monkeypatch):
    """The blobs read from an archive ("blob sha256:..."), and the size of each chunk read, as they happen."""
    read: dict[str, list[int]] = {}
    original = oci_archive.BlobStream.__iter__

    def counted(self):
        for chunk in original(self):
            read.setdefault(self.name, []).append(len(chunk))
            yield chunk

    monkeypatch.setattr(oci_archive.BlobStream, "__iter__", counted)
    return read


@pytest.mark.parametrize("jobs", [1, 4])
def test_fresh_upload_sends_every_blob_then_the_manifests_then_the_index_at_the_tag(
    fake_registry, image, archive, make_client, jobs
):
    result = _upload(make_client(), fake_registry, archive, jobs=jobs)
    assert (result.digest, result.blobs_uploaded, result.blobs_present, result.blobs_mounted) == (image.digest, 4, 0, 0)
    assert fake_registry.tag_digest("team/tiny", "candidate-1.0.0") == image.digest
    assert {r.query["digest"] for r in _blob_puts(fake_registry)} == set(image.blobs)
    puts = fake_registry.manifest_puts()
    assert [p.reference for p in puts] == [*image.manifests, "candidate-1.0.0"]
    assert puts[-1] is [r for r in fake_registry.requests if r.method == "PUT"][-1], "the tag moves last"
    assert puts[-1].headers["content-type"] == INDEX_TYPE


def test_second_upload_finds_every_blob_present_and_uploads_none(fake_registry, image, archive, make_client):
    client = make_client()
    _upload(client, fake_registry, archive)
    before = len(_blob_puts(fake_registry))
    result = _upload(client, fake_registry, archive, tag="team/tiny:candidate-1.0.1")
    assert (result.blobs_uploaded, result.blobs_present, result.blobs_mounted) == (0, 4, 0)
    assert len(_blob_puts(fake_registry)) == before


@pytest.mark.parametrize("jobs", [1, 4])
def test_blobs_of_the_parent_repository_are_mounted_not_uploaded(fake_registry, image, archive, make_client, jobs):
    fake_registry.preload("team/parent", image)
    result = _upload(make_client(), fake_registry, archive, mount_from=("team/parent",), jobs=jobs)
    assert (result.blobs_uploaded, result.blobs_present, result.blobs_mounted) == (0, 0, 4)
    mounts = [r for r in fake_registry.requests if r.method == "POST"]
    assert all(r.query["from"] == "team/parent" for r in mounts) and _blob_puts(fake_registry) == []


def test_failed_mount_continues_in_the_upload_session_it_opened(fake_registry, image, archive, make_client):
    result = _upload(make_client(), fake_registry, archive, mount_from=("team/empty",))
    assert (result.blobs_uploaded, result.blobs_mounted) == (4, 0)
    posts = [r for r in fake_registry.requests if r.method == "POST"]
    assert len(posts) == 4 and all("mount" in r.query for r in posts), "one POST per blob, as the spec says"


@pytest.mark.parametrize("status", ["404", "400"])
@pytest.mark.parametrize("jobs", [1, 4])
def test_put_rejected_for_a_lost_upload_session_starts_a_new_session(fake_registry, archive, make_client, status, jobs):
    fake_registry.fault(status, times=1, methods=["PUT"], path="/blobs/uploads/")
    result = _upload(make_client(), fake_registry, archive, jobs=jobs)
    assert result.blobs_uploaded == 4
    assert fake_registry.count("POST") == 5 and len(_blob_puts(fake_registry)) == 5


def test_upload_sessions_that_keep_failing_give_up_and_move_no_tag(fake_registry, archive, make_client):
    fake_registry.fault("404", methods=["PUT"], path="/blobs/uploads/")
    with pytest.raises(RegistryError, match="kept failing") as info:
        _upload(make_client(), fake_registry, archive)
    assert not info.value.transient
    assert fake_registry.manifest_puts() == [] and fake_registry.tags == {}


def test_dropped_blob_put_is_retried_with_the_whole_body_again(fake_registry, image, archive, make_client, retries):
    fake_registry.fault("503", times=1, methods=["PUT"], path="/blobs/uploads/")
    result = _upload(make_client(), fake_registry, archive)
    assert result.blobs_uploaded == 4 and len(retries) == 1
    assert fake_registry.blobs.keys() >= image.blobs.keys()  # every body arrived whole (the fake checks digests)


def test_registry_that_stays_down_fails_the_upload_and_moves_no_tag(fake_registry, archive, make_client):
    fake_registry.fault("503", methods=["PUT"], path="/manifests/")
    with pytest.raises(RegistryError, match="gave up after 3 attempts"):
        _upload(make_client(), fake_registry, archive)
    assert fake_registry.tags == {}


def test_blob_head_answering_200_for_another_blob_is_refused(fake_registry, archive, make_client, retries):
    fake_registry.fault("html", methods=["HEAD"], path="/blobs/")
    with pytest.raises(RegistryError, match="a proxy may be in the way") as info:
        _upload(make_client(), fake_registry, archive)
    assert not info.value.transient and retries == [] and fake_registry.manifest_puts() == []


def test_registry_claiming_it_stored_another_digest_is_refused(fake_registry, archive, make_client):
    fake_registry.fault("wrong-digest-header", methods=["PUT"], path="/manifests/")
    with pytest.raises(RegistryError, match="answered that it stored") as info:
        _upload(make_client(), fake_registry, archive)
    assert not info.value.transient and fake_registry.tags == {}


def test_archive_with_an_attestation_uploads_its_blobs_too(fake_registry, tmp_path, make_client):
    attested = make_image("attested", attestation=True)
    result = _upload(make_client(), fake_registry, attested.write_archive(tmp_path / "a.tar"))
    # Per platform: config and layer, and its attestation's statement; one attestation config for both.
    assert result.blobs_uploaded == len(attested.blobs) == 7 and result.digest == attested.digest


# ---------------------------------------------------------------------- blobs at once, streamed


@pytest.mark.parametrize("jobs", [1, 3])
def test_blobs_go_up_as_many_at_once_as_upload_jobs_says_and_never_more(fake_registry, tmp_path, make_client, jobs):
    image = make_image("wide", platforms=FOUR_PLATFORMS)  # 8 blobs
    fake_registry.latency = 0.03
    result = _upload(make_client(), fake_registry, image.write_archive(tmp_path / "wide.tar"), jobs=jobs)
    assert result.blobs_uploaded == len(image.blobs) == 8 and result.digest == image.digest
    assert fake_registry.max_in_flight == jobs


def test_largest_blob_goes_first_so_that_it_never_runs_alone_at_the_end(fake_registry, tmp_path, make_client):
    image = make_image("wide", platforms=FOUR_PLATFORMS, layer_bytes=300)
    big = make_image("big", platforms=("linux/arm64",), layer_bytes=5000)
    index = json.loads(image.index)
    index["manifests"].append(json.loads(big.index)["manifests"][0])  # listed last, the largest blob
    image = dataclasses.replace(
        image,
        index=json.dumps(index).encode(),
        manifests={**image.manifests, **big.manifests},
        blobs={**image.blobs, **big.blobs},
    )
    _upload(make_client(), fake_registry, image.write_archive(tmp_path / "wide.tar"), jobs=1)
    heads = [r.reference for r in fake_registry.requests if r.method == "HEAD"]
    assert heads[0] == max(image.blobs, key=lambda digest: len(image.blobs[digest])) and len(heads) == 10


def test_blob_the_registry_has_is_never_read_from_the_archive(fake_registry, image, archive, make_client, streams):
    present = sorted(image.blobs)[:2]
    for digest in present:
        fake_registry.add_blob("team/tiny", image.blobs[digest])
    result = _upload(make_client(), fake_registry, archive, jobs=4)
    assert (result.blobs_uploaded, result.blobs_present) == (2, 2)
    assert set(streams) == {f"blob {d}" for d in image.blobs if d not in present}


def test_large_blob_is_streamed_in_chunks_never_read_whole(fake_registry, tmp_path, make_client, streams):
    image = make_image("big", platforms=("linux/amd64",), layer_bytes=3 * oci_archive.CHUNK + 5)
    result = _upload(make_client(), fake_registry, image.write_archive(tmp_path / "big.tar"), jobs=4)
    layer = next(d for d, body in image.blobs.items() if len(body) > oci_archive.CHUNK)
    assert streams[f"blob {layer}"] == [oci_archive.CHUNK] * 3 + [5]
    assert result.blobs_uploaded == 2 and fake_registry.blobs[layer] == image.blobs[layer]  # whole, digest checked


def test_failing_blob_stops_the_others_and_its_own_error_is_the_one_raised(fake_registry, tmp_path, make_client):
    image = make_image("wide", platforms=FOUR_PLATFORMS)
    first = max(image.blobs, key=lambda digest: len(image.blobs[digest]))  # the largest: the first sent
    fake_registry.fault("400", methods=["HEAD"], path=f"/blobs/{first}$")
    fake_registry.latency = 0.2
    with pytest.raises(RegistryError) as info:
        _upload(make_client(), fake_registry, image.write_archive(tmp_path / "wide.tar"), jobs=2)
    where = fake_registry.address
    assert str(info.value) == f"{where}: HTTP 400 Bad Request from http://{where}/v2/team/tiny/blobs/{first}"
    assert not isinstance(info.value, Abandoned)
    assert fake_registry.count("HEAD") < len(image.blobs), "blobs not started when it failed are never started"
    assert _blob_puts(fake_registry) == [] and fake_registry.manifest_puts() == [] and fake_registry.tags == {}


def test_retries_stay_one_per_failed_request_when_blobs_go_up_at_once(fake_registry, tmp_path, make_client, retries):
    image = make_image("wide", platforms=FOUR_PLATFORMS)
    fake_registry.fault("503", times=3, methods=["PUT"], path="/blobs/uploads/")
    result = _upload(make_client(), fake_registry, image.write_archive(tmp_path / "wide.tar"), jobs=4)
    assert result.blobs_uploaded == 8 and fake_registry.blobs.keys() >= image.blobs.keys()
    assert len(retries) == 3 and all(r.request.method == "PUT" and r.attempt == 1 for r in retries)
    assert len(_blob_puts(fake_registry)) == 8 + 3 and fake_registry.count("POST") == 8


# ---------------------------------------------------------------------- broken archives


def test_archive_missing_a_blob_is_an_error_naming_the_archive(fake_registry, image, tmp_path, make_client):
    layer = next(d for d, body in image.blobs.items() if body.startswith(b"layer"))
    broken = dataclasses.replace(image, blobs={d: b for d, b in image.blobs.items() if d != layer})
    path = broken.write_archive(tmp_path / "broken.tar")
    with pytest.raises(RegistryError, match=f"{path}: blob {layer} is missing from the archive"):
        _upload(make_client(), fake_registry, path)
    assert fake_registry.manifest_puts() == []


def test_archive_whose_blob_has_another_size_than_its_manifest_says_is_refused(
    fake_registry, image, tmp_path, make_client
):
    layer = next(d for d, body in image.blobs.items() if body.startswith(b"layer"))
    broken = dataclasses.replace(image, blobs={**image.blobs, layer: image.blobs[layer] + b"!"})
    with pytest.raises(RegistryError, match="bytes in the archive, not"):
        _upload(make_client(), fake_registry, broken.write_archive(tmp_path / "broken.tar"))


def test_file_that_is_not_a_tar_is_an_error_naming_it(fake_registry, tmp_path, make_client):
    path = tmp_path / "not.tar"
    path.write_text("hello")
    with pytest.raises(RegistryError, match=f"{path}: cannot read the image archive"):
        _upload(make_client(), fake_registry, path)


def test_tar_without_index_json_is_not_an_image_archive(fake_registry, tmp_path, make_client):
    path = tmp_path / "empty.tar"
    with tarfile.open(path, "w"):
        pass
    with pytest.raises(RegistryError, match="no index.json; not an OCI image archive"):
        _upload(make_client(), fake_registry, path)


def test_index_json_without_manifests_is_refused_naming_the_field(fake_registry, tmp_path, make_client):
    path = tmp_path / "odd.tar"
    body = json.dumps({"schemaVersion": 2}).encode()
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("index.json")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
    with pytest.raises(RegistryError, match="index.json has no 'manifests'"):
        _upload(make_client(), fake_registry, path)
