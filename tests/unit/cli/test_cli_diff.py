"""`python -m baseimages diff REF_A REF_B`: the changelog as text or JSON, exit 0 when nothing differs and 1
when something does (as `diff`), 2 for a bad reference, 3 when the registry fails; never a traceback."""

from __future__ import annotations

import io
import json

import pytest
from fake_layers import Platform, dist_info, layer, layered_image, status

from baseimages.cli.main import main

AMD, ARM = "linux/amd64", "linux/arm64"
BASE = layer({"var/lib/dpkg/status": status(("bash", "5.2.15-2"), ("curl", "7.88.1-10"))})
UPGRADE = layer({"var/lib/dpkg/status": status(("bash", "5.2.15-2"), ("curl", "7.88.1-10+deb12u5"))})
VENV = layer(dist_info("opt/venv/lib/python3.11/site-packages", "rich", "13.7.1"))


@pytest.fixture
def images(fake_registry, clean_env, tmp_path):
    """team/x:1 and team/x:2 (amd64 upgraded curl and added rich; arm64 the same), and a project on the
    fake registry; returns the `run(*args)` of the CLI: (exit code, stdout, stderr)."""
    arm = Platform([BASE], {"Env": ["A=1"]})
    fake_registry.preload("team/x", layered_image({AMD: Platform([BASE], {"Env": ["A=1"]}), ARM: arm}), tag="1")
    new = Platform([BASE, UPGRADE, VENV], {"Env": ["A=2"]})
    fake_registry.preload("team/x", layered_image({AMD: new, ARM: arm}), tag="2")
    (tmp_path / "pyproject.toml").write_text(f'[tool.baseimages]\nregistry = "{fake_registry.address}"\n')
    clean_env.setenv("BASEIMAGES_RETRY_ATTEMPTS", "1")
    clean_env.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = main(["diff", "--project", str(tmp_path), *args], out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    run.ref = lambda tag: f"{fake_registry.address}/team/x:{tag}"  # type: ignore[attr-defined]
    return run


def test_diff_of_two_images_that_differ_exits_1_and_prints_what_changed_per_platform(images):
    code, out, err = images(images.ref("1"), images.ref("2"))
    assert code == 1, err
    lines = out.splitlines()
    assert "  packages:" in lines and "    ~ curl 7.88.1-10 -> 7.88.1-10+deb12u5" in lines
    assert "  python (/opt/venv):" in lines and "    + rich 13.7.1" in lines
    assert "    ~ env A: 1 -> 2" in lines
    assert "linux/amd64: changed" in lines
    assert any(line.startswith("linux/arm64: unchanged") for line in lines)


def test_diff_of_an_image_with_itself_exits_0(images):
    code, out, _ = images(images.ref("2"), images.ref("2"))
    assert code == 0
    assert all("unchanged" in line for line in out.splitlines()[1:])


def test_platform_picks_one_platform(images):
    code, out, _ = images("--platform", ARM, images.ref("1"), images.ref("2"))
    assert code == 0 and AMD not in out and ARM in out


def test_json_is_the_versioned_changelog_document(images):
    code, out, _ = images("--json", images.ref("1"), images.ref("2"))
    doc = json.loads(out)
    assert code == 1
    assert doc["schema"] == "baseimages.changelog/v1" and doc["differs"] is True and doc["first"] is False
    assert doc["old"]["reference"] == images.ref("1") and doc["new"]["digest"].startswith("sha256:")
    amd = doc["platforms"][AMD]
    assert set(amd) == {"state", "old_digest", "new_digest", "size", "packages", "python", "config", "files"}
    assert amd["packages"] == [{"name": "curl", "change": "changed", "old": "7.88.1-10", "new": "7.88.1-10+deb12u5"}]
    assert amd["python"] == [
        {"environment": "/opt/venv", "name": "rich", "change": "added", "old": None, "new": "13.7.1"}
    ]
    assert amd["size"]["new"] - amd["size"]["old"] > 0
    assert doc["platforms"][ARM]["state"] == "unchanged"


@pytest.mark.parametrize("which", ["REF_A", "REF_B"])
def test_a_bad_reference_is_one_line_exit_2_naming_the_argument(images, which):
    refs = ["Not A Ref!", images.ref("2")] if which == "REF_A" else [images.ref("1"), "Not A Ref!"]
    code, out, err = images(*refs)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: {which}: Not A Ref!")


def test_a_missing_image_is_a_registry_error_exit_3(images):
    code, _, err = images(images.ref("1"), images.ref("9"))
    assert code == 3 and err.count("\n") == 1 and "not found" in err and "Traceback" not in err


def test_a_platform_neither_image_has_exits_2(images):
    code, _, err = images("--platform", "linux/s390x", images.ref("1"), images.ref("2"))
    assert code == 2 and "--platform: linux/s390x" in err
