"""`python -m baseimages history IMAGE`: each immutable tag newest first as text or JSON, `--limit`, a
catalog name or a repository reference; exit 2 for an unknown image, 3 when the registry fails."""

from __future__ import annotations

import io
import json

import pytest
from fake_history import reindex
from fake_layers import Platform, layer, layered_image, status

from baseimages.catalog.fingerprint import CREATED_KEY
from baseimages.cli.main import main

AMD, ARM = "linux/amd64", "linux/arm64"
BASE = layer({"var/lib/dpkg/status": status(("bash", "5.2.15-2"), ("openssl", "3.0.15-1"))})
FIX = layer({"var/lib/dpkg/status": status(("bash", "5.2.15-2"), ("openssl", "3.0.16-1"))})


@pytest.fixture
def cli(fake_registry, clean_env, catalog_writer):
    """team/uv with two builds (openssl fixed in the second) and a catalog naming uv in namespace `team` on
    the fake registry; returns `run(*args)`: (exit code, stdout, stderr)."""
    for day, layers in (("20261101", [BASE]), ("20261129", [BASE, FIX])):
        image = layered_image({AMD: Platform(layers), ARM: Platform(layers)})
        image = reindex(image, {CREATED_KEY: f"{day[:4]}-{day[4:6]}-{day[6:]}T09:00:00Z"})
        fake_registry.preload("team/uv", image, tag=f"1.0.0-{day}.1")
    fake_registry.tags["team/uv"]["latest"] = fake_registry.tags["team/uv"]["1.0.0-20261129.1"]
    catalog_writer.add("uv")
    root = catalog_writer.root
    (root / "pyproject.toml").write_text(
        f'[tool.baseimages]\nregistry = "{fake_registry.address}"\nnamespace = "team"\n'
    )
    clean_env.setenv("BASEIMAGES_RETRY_ATTEMPTS", "1")
    clean_env.setenv("DOCKER_CONFIG", str(root / "no-docker-config"))

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["history", "--project", str(root), *args], out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    return run


def test_history_of_a_catalog_image_lists_each_build_newest_first_with_what_changed(cli, fake_registry):
    code, out, err = cli("uv")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"{fake_registry.address}/team/uv: 2 immutable tag(s), newest first"
    newest = fake_registry.tags["team/uv"]["1.0.0-20261129.1"]
    assert f"1.0.0-20261129.1  {newest}  2026-11-29 09:00 UTC  {AMD}, {ARM}" in lines
    assert lines.index("  since 1.0.0-20261101.1:") < lines.index("  the first promotion:")
    assert "        ~ openssl 3.0.15-1 -> 3.0.16-1" in lines
    assert any(line.startswith(f"    {AMD}: first promotion: 2 Debian packages") for line in lines)


def test_history_of_a_repository_reference_as_json_with_a_limit(cli, fake_registry):
    code, out, err = cli("--json", "--limit", "1", f"{fake_registry.address}/team/uv:latest")
    assert code == 0, err
    document = json.loads(out)
    assert document["schema"] == "baseimages.history/v1" and document["total"] == 2 and document["shown"] == 1
    [build] = document["builds"]
    assert build["tag"] == "1.0.0-20261129.1" and build["previous"] == "1.0.0-20261101.1"
    assert build["created"] == "2026-11-29T09:00:00+00:00" and build["platforms"] == [AMD, ARM]
    changes = build["changelog"]["platforms"][ARM]["packages"]
    assert changes == [{"name": "openssl", "change": "changed", "old": "3.0.15-1", "new": "3.0.16-1"}]


def test_a_limit_below_the_total_says_how_many_are_shown(cli):
    code, out, _ = cli("uv", "--limit", "1")
    assert code == 0 and "newest first (the newest 1; --limit 1)" in out.splitlines()[0]


@pytest.mark.parametrize(
    ("image", "said"),
    [
        ("nope", "IMAGE: nope: is not an image of the catalog (known: uv)"),
        ("{registry}/team/never", "has no immutable tags"),
        ("{registry}/Team/Bad", "is not a catalog image nor a repository reference"),
    ],
)
def test_an_unknown_image_is_exit_2_in_one_line(cli, fake_registry, image, said):
    code, out, err = cli(image.format(registry=fake_registry.address))
    assert code == 2 and out == ""
    assert said in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_a_limit_below_1_is_exit_2(cli):
    code, _, err = cli("uv", "--limit", "0")
    assert code == 2 and "--limit: 0: must be at least 1" in err


def test_a_registry_that_fails_is_exit_3(cli, fake_registry):
    fake_registry.fault("500")
    code, out, err = cli("uv")
    assert code == 3 and out == "" and err.startswith("error: ") and len(err.splitlines()) == 1
