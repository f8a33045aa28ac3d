"""`RegistryClient.open_blob`: a blob read as a stream, its size and digest checked at its end."""

from __future__ import annotations

import pytest
from fake_image import sha256

from baseimages.core.errors import RegistryError

BODY = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture
def blob(fake_registry):
    return fake_registry.add_blob("team/x", BODY)


def _read_all(stream) -> bytes:
    chunks = []
    while chunk := stream.read(64 * 1024):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_streamed_blob_reads_its_bytes_in_chunks_and_checks_them_at_the_end(fake_registry, blob, make_client):
    with make_client().open_blob(fake_registry.ref("team/x"), blob, len(BODY)) as stream:
        first = stream.read(1000)
        assert len(first) == 1000 and not stream.checked
        assert first + _read_all(stream) == BODY
        assert stream.checked


def test_finish_reads_what_a_reader_left_and_checks_it(fake_registry, blob, make_client):
    with make_client().open_blob(fake_registry.ref("team/x"), blob, len(BODY)) as stream:
        stream.read(10)
        stream.finish()
        assert stream.checked and stream.read_bytes == len(BODY)


def test_a_streamed_blob_whose_digest_does_not_match_is_a_registry_error(fake_registry, blob, make_client):
    fake_registry.blobs[blob] = BODY[:-1] + b"!"  # a proxy altered one byte
    stream = make_client().open_blob(fake_registry.ref("team/x"), blob, len(BODY))
    with stream, pytest.raises(RegistryError, match="whose digest is .* not the blob's") as error:
        stream.finish()
    assert not error.value.transient


def test_a_streamed_blob_cut_short_is_a_transient_registry_error(fake_registry, blob, make_client):
    stream = make_client().open_blob(fake_registry.ref("team/x"), blob, len(BODY) + 10)
    with stream, pytest.raises(RegistryError, match="10 more expected") as error:
        stream.finish()
    assert error.value.transient


def test_a_streamed_blob_longer_than_its_size_is_a_registry_error(fake_registry, blob, make_client):
    stream = make_client().open_blob(fake_registry.ref("team/x"), blob, 1000)
    with stream, pytest.raises(RegistryError, match="more than the blob's 1000 bytes"):
        stream.finish()


def test_a_missing_blob_is_a_registry_error_naming_it(fake_registry, make_client):
    missing = sha256(b"nothing")
    with pytest.raises(RegistryError, match=f"blob {missing} not found"):
        make_client().open_blob(fake_registry.ref("team/x"), missing, 7)


def test_opening_a_stream_is_retried_on_transient_failures(fake_registry, blob, make_client, retries):
    fake_registry.fault("503", times=1)
    with make_client().open_blob(fake_registry.ref("team/x"), blob, len(BODY)) as stream:
        assert _read_all(stream) == BODY
    assert len(retries) == 1 and "503" in retries[0].reason


def test_a_stream_asks_for_a_bearer_token_when_challenged(fake_registry, blob, make_client):
    fake_registry.require_token()
    with make_client().open_blob(fake_registry.ref("team/x"), blob, len(BODY)) as stream:
        assert _read_all(stream) == BODY
    assert fake_registry.tokens_issued == ["repository:team/x:pull"]
