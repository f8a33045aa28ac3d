"""`python -m baseimages updates`: text and JSON, `--image`, the waiting time kept in `updates-state`, the
waiting gauges sent to the metrics file and the Pushgateway, and the exit codes (0 a report, 1 with
--fail-if-updates, 2 an unknown image, 3 an archive that cannot be reached, the other images still
reported)."""

from __future__ import annotations

import io
import json
import socket

import pytest
from fake_archive import FakeWeb
from fake_layers import Platform, layer, layered_image, status
from fake_pushgateway import FakePushgateway

from baseimages.cli.main import main
from baseimages.outputs.metrics_publish import read_textfile

AMD = "linux/amd64"
DPKG = "var/lib/dpkg/status"


@pytest.fixture
def web():
    with FakeWeb() as server:
        yield server


@pytest.fixture
def cli(fake_registry, clean_env, catalog_writer, web, tmp_path):
    """Catalog images uv and ml (both promoted; openssl 3.0.15-1 installed) and `never` (not promoted), on the
    fake registry in namespace `team`, their sources on the fake archive; returns `run(*args)`."""
    sources = f"deb {web.url('/debian')} bookworm-security main\n".encode()
    image = layered_image({AMD: Platform([layer({DPKG: status(("openssl", "3.0.15-1")),
                                                 "etc/apt/sources.list": sources})])})  # fmt: skip
    for name in ("uv", "ml"):
        catalog_writer.add(name, platforms=[AMD])
        fake_registry.preload(f"team/{name}", image, tag="latest")
    catalog_writer.add("never", platforms=[AMD])
    root = catalog_writer.root
    (root / "pyproject.toml").write_text(
        f'[tool.baseimages]\nregistry = "{fake_registry.address}"\nnamespace = "team"\n'
    )
    clean_env.setenv("BASEIMAGES_RETRY_ATTEMPTS", "1")
    clean_env.setenv("DOCKER_CONFIG", str(root / "no-docker-config"))
    clean_env.setenv("BASEIMAGES_INDEX_URL", web.url("/simple"))
    clean_env.setenv("BASEIMAGES_UPDATES_STATE", str(tmp_path / "state.json"))

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["updates", "--project", str(root), *args], out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    return run


def _fix(web: FakeWeb, version: str = "3.0.16-1") -> None:
    web.suite("debian", "bookworm-security", {"main": {"amd64": {"openssl": version}}})


def test_updates_lists_each_images_installable_updates_and_exits_0(cli, web, fake_registry):
    _fix(web)
    code, out, err = cli()
    assert (code, err) == (0, "")
    lines = out.splitlines()
    digest = fake_registry.tags["team/uv"]["latest"].removeprefix("sha256:")[:12]
    assert f"uv: {fake_registry.address}/team/uv:latest ({digest})" in lines
    assert f"  {AMD}: 1 Debian update(s) (1 security), 0 Python update(s)" in lines
    assert "    ! openssl 3.0.15-1 -> 3.0.16-1 (bookworm-security, waiting 0m)" in lines
    assert f"never: not promoted yet ({fake_registry.address}/team/never:latest does not exist)" in lines
    assert lines[-1] == "2 installable update(s) in 3 image(s)"


def test_fail_if_updates_exits_1_when_an_update_is_installable_and_0_when_none_is(cli, web):
    _fix(web)
    assert cli("--fail-if-updates")[0] == 1
    _fix(web, "3.0.15-1")
    code, out, _ = cli("--fail-if-updates")
    assert code == 0
    assert f"  {AMD}: no update installable" in out.splitlines()


def test_json_is_the_updates_document_with_the_first_seen_time_kept_between_runs(cli, web, tmp_path):
    _fix(web)
    first = json.loads(cli("--json", "--image", "uv")[1])
    second = json.loads(cli("--json", "--image", "uv")[1])
    assert first["schema"] == "baseimages.updates/v1" and first["installable"] is True
    assert [image["image"] for image in first["images"]] == ["uv"]
    (update,) = second["images"][0]["platforms"][0]["debian"]
    assert update["candidate"] == "3.0.16-1" and update["security"] is True
    assert update["first_seen"] == first["images"][0]["platforms"][0]["debian"][0]["first_seen"]
    assert json.loads((tmp_path / "state.json").read_text())["images"]["uv"][AMD]["deb:openssl"]["security"]


def test_an_unreachable_archive_is_one_error_line_naming_it_exit_3_and_the_other_images_are_reported(
    cli, web, fake_registry
):
    _fix(web)
    broken = layer({DPKG: status(("openssl", "3.0.15-1")),
                    "etc/apt/sources.list": b"deb http://127.0.0.1:9/debian bookworm main\n"})  # fmt: skip
    fake_registry.preload("team/ml", layered_image({AMD: Platform([broken])}), tag="latest")
    code, out, err = cli()
    assert code == 3
    (line,) = err.splitlines()
    assert line.startswith("error: ml: 127.0.0.1:9: GET http://127.0.0.1:9/debian/dists/bookworm/InRelease")
    assert "    ! openssl 3.0.15-1 -> 3.0.16-1 (bookworm-security, waiting 0m)" in out.splitlines()
    assert out.splitlines()[-1].endswith("; 1 image(s) could not be read")


def test_an_unknown_image_is_exit_2_naming_the_flag(cli):
    code, out, err = cli("--image", "nope")
    assert (code, out) == (2, "")
    assert err.startswith("error: --image: nope: is not an image of the catalog (known: ml, never, uv)")


def test_a_state_file_that_is_not_one_is_exit_2_naming_it_before_anything_is_read(cli, fake_registry, tmp_path):
    (tmp_path / "state.json").write_text("{not json")
    code, out, err = cli()
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {tmp_path / 'state.json'}: not a readable updates state")
    assert not [r for r in fake_registry.requests if "/manifests/" in r.path]  # refused before the look


def test_the_waiting_gauges_go_to_the_metrics_file_and_each_images_pushgateway_group(cli, web, clean_env, tmp_path):
    _fix(web)
    path = tmp_path / "baseimages.prom"
    with FakePushgateway() as gateway:
        clean_env.setenv("BASEIMAGES_PUSHGATEWAY", gateway.url)
        clean_env.setenv("BASEIMAGES_METRICS_FILE", str(path))
        code, _, err = cli()
    assert (code, err) == (0, "")
    assert [(p.method, p.path) for p in gateway.pushes] == [
        ("POST", "/metrics/job/baseimages/image/ml"),
        ("POST", "/metrics/job/baseimages/image/uv"),
    ]  # `never` is not promoted: nothing waits for it
    uv = gateway.push_to("/metrics/job/baseimages/image/uv")
    assert uv.value("baseimages_updates_installable", image="uv", platform=AMD, kind="security") == 1.0
    assert uv.value("baseimages_update_waiting_seconds", image="uv", platform=AMD, kind="security") == 0.0
    written = {(s.metric, s.labels): s.value for s in read_textfile(path)}
    assert written[("baseimages_updates_installable", (("image", "ml"), ("platform", AMD), ("kind", "any")))] == 1.0


def test_a_pushgateway_that_is_down_is_a_warning_line_and_the_exit_code_stays_the_looks(cli, web, clean_env):
    _fix(web)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    clean_env.setenv("BASEIMAGES_PUSHGATEWAY", url)
    code, out, err = cli("--fail-if-updates")
    assert code == 1  # an update is installable: the --fail-if-updates verdict, not the Pushgateway's
    (line,) = err.splitlines()
    assert line.startswith(f"warning: pushgateway: {url} unreachable (")
    assert "! openssl 3.0.15-1 -> 3.0.16-1" in out
