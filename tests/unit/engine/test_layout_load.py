"""Loading an OCI layout into the local image store without an archive on disk: the layout streamed as a
tar (what `docker image load` reads) holds every file of the layout, or leaves out the blobs asked."""

from __future__ import annotations

import io
import sys
import tarfile

import pytest
from fake_image import make_image

from baseimages.core.errors import BuildError
from baseimages.engine.layout_load import layout_tar, load_layout


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: (tar.extractfile(m) or io.BytesIO()).read() for m in tar.getmembers() if m.isfile()}


def test_the_streamed_tar_holds_every_file_of_the_layout_as_it_is(tmp_path):
    image = make_image("load", attestation=True)
    layout = image.write_layout(tmp_path / "uv.oci")
    assert _members(b"".join(layout_tar(layout))) == image.layout_files()


def test_blobs_left_out_are_not_in_the_streamed_tar(tmp_path):
    image = make_image("load")
    layout = image.write_layout(tmp_path / "uv.oci")
    layer = next(iter(image.blobs))
    members = _members(b"".join(layout_tar(layout, leave_out={layer})))
    assert "blobs/" + layer.replace(":", "/") not in members
    assert members["index.json"] == image.layout_files()["index.json"]


def test_a_load_that_fails_is_a_build_error_with_dockers_reason(tmp_path):
    layout = make_image("load").write_layout(tmp_path / "uv.oci")
    fails = [sys.executable, "-c", "import sys; sys.stdin.read(); print('no space left', file=sys.stderr); sys.exit(1)"]
    with pytest.raises(BuildError, match="docker image load failed: no space left"):
        load_layout(fails, layout)


def test_a_load_reads_the_whole_stream(tmp_path):
    layout = make_image("load").write_layout(tmp_path / "uv.oci")
    out = tmp_path / "got.tar"
    copy = [sys.executable, "-c", f"import shutil, sys; shutil.copyfileobj(sys.stdin.buffer, open({str(out)!r}, 'wb'))"]
    load_layout(copy, layout)
    assert _members(out.read_bytes())["index.json"] == (layout / "index.json").read_bytes()


def test_an_engine_that_lacks_a_blob_left_out_gets_the_layout_whole(tmp_path, monkeypatch):
    from types import SimpleNamespace

    import baseimages.engine.client as client

    layout = make_image("load").write_layout(tmp_path / "uv.oci")
    calls: list[set[str]] = []

    def load(docker, path, leave_out=()):
        calls.append(set(leave_out))
        if leave_out:
            raise BuildError(
                str(path), "docker image load failed: failed to unpack loaded image: content digest not found"
            )

    monkeypatch.setattr(client, "load_layout", load)
    engine = client.DockerEngine(client=SimpleNamespace(client_config=SimpleNamespace(docker_cmd=["docker"])))
    engine.load(layout, {"sha256:" + "a" * 64})
    assert calls == [{"sha256:" + "a" * 64}, set()]
