"""oci_archive: the index of an OCI image archive, and each blob read as a stream of its own at its
offset in the file: in chunks, whole, stopped when the upload gives up, and refused when cut short."""

from __future__ import annotations

import gzip
import threading

import pytest
from fake_registry import make_image

from baseimages.core.errors import Abandoned, BuildError, RegistryError
from baseimages.oci.archive import CHUNK, OciArchive, archive_index, extract_layout, open_archive


@pytest.fixture
def big(tmp_path):
    """A one-platform image whose layer is a little over two chunks, and its archive."""
    image = make_image("big", platforms=("linux/amd64",), layer_bytes=2 * CHUNK + 7)
    return image, image.write_archive(tmp_path / "big.tar")


def _layer(image):
    return next(d for d, body in image.blobs.items() if len(body) > CHUNK)


def test_archive_index_names_the_index_and_each_platforms_manifest(tmp_path):
    image = make_image("two", attestation=True)
    digest, platforms = archive_index(image.write_archive(tmp_path / "two.tar"))
    assert digest == image.digest
    assert platforms == {p: image.manifest_for(p) for p in ("linux/amd64", "linux/arm64")}  # no attestations


def test_blob_streams_from_its_offset_in_chunks_and_arrives_whole(big):
    image, path = big
    layer = _layer(image)
    with open_archive(path) as tar:
        stream = OciArchive(path, tar).stream(layer, len(image.blobs[layer]))
    chunks = list(stream)
    stream.close()
    assert [len(c) for c in chunks] == [CHUNK, CHUNK, 7] and b"".join(chunks) == image.blobs[layer]


def test_streams_of_one_archive_read_at_once_from_threads_each_get_their_own_blob(tmp_path):
    image = make_image("many", platforms=("linux/amd64", "linux/arm64", "linux/s390x"))
    path = image.write_archive(tmp_path / "many.tar")
    got: dict[str, bytes] = {}
    with open_archive(path) as tar:
        archive = OciArchive(path, tar)
        streams = {d: archive.stream(d, len(body)) for d, body in image.blobs.items()}
    threads = [threading.Thread(target=lambda d=d, s=s: got.update({d: b"".join(s)})) for d, s in streams.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for stream in streams.values():
        stream.close()
    assert got == image.blobs


def test_stream_whose_upload_gave_up_stops_at_the_next_chunk(big):
    image, path = big
    layer = _layer(image)
    stop = threading.Event()
    with open_archive(path) as tar:
        stream = OciArchive(path, tar).stream(layer, len(image.blobs[layer]), stop)
    chunks = iter(stream)
    assert len(next(chunks)) == CHUNK
    stop.set()
    with pytest.raises(Abandoned, match=f"upload of blob {layer} abandoned"):
        next(chunks)
    stream.close()


def test_archive_cut_short_inside_a_blob_is_an_error_naming_the_blob(big, tmp_path):
    image, path = big
    layer = _layer(image)
    with open_archive(path) as tar:
        stream = OciArchive(path, tar).stream(layer, len(image.blobs[layer]))
    with open(path, "r+b") as handle:  # the file loses its end after its table of contents was read
        handle.truncate(stream._file.tell() + CHUNK)
    with pytest.raises(RegistryError, match=f"blob {layer} is cut short"):
        list(stream)
    stream.close()


def test_compressed_archive_is_refused_as_not_an_archive_it_can_stream(big, tmp_path, fake_registry, make_client):
    _, path = big
    packed = tmp_path / "big.tar.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(RegistryError, match=f"{packed}: cannot read the image archive"):
        make_client().upload_archive(packed, fake_registry.ref("team/big:candidate"))
    assert fake_registry.requests == []


def test_extract_layout_unpacks_an_archive_into_a_layout_with_every_blob(tmp_path):
    image = make_image("two", attestation=True)
    archive = image.write_archive(tmp_path / "two.tar")
    extract_layout(archive, tmp_path / "two.oci")
    assert (tmp_path / "two.oci" / "index.json").is_file()
    for digest, body in image.blobs.items():
        assert (tmp_path / "two.oci" / "blobs" / digest.replace(":", "/", 1)).read_bytes() == body


def test_extract_layout_writes_nothing_outside_the_layout_and_nothing_but_layout_files(tmp_path):
    import io
    import tarfile

    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tar:
        for name in ("../escaped", "blobs/sha256/../../../escaped2", "etc/passwd", "index.json"):
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"{}"))
    extract_layout(archive, tmp_path / "out")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        "evil.tar",
        "out/index.json",
    ]


def test_extract_layout_of_an_unreadable_archive_is_a_build_error_naming_it(tmp_path):
    (tmp_path / "bad.tar").write_bytes(b"not a tar")
    with pytest.raises(BuildError, match="bad.tar: cannot unpack it as an OCI layout"):
        extract_layout(tmp_path / "bad.tar", tmp_path / "out")
