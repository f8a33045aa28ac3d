"""`python -m baseimages dependents` and `bump` against the in-process fake registry: text and --json,
exit codes (--fail-if-behind 1, a bad PATH 2, the registry 3), bump's pull request and --dry-run."""

from __future__ import annotations

import io
import json

import pytest
from fake_layers import Platform, layer, layered_image, status

from baseimages.cli.main import main

OLD_TAG, NEW_TAG = "1.2.3-20260101.1", "1.2.3-20260301.1"


def _build(registry, repo: str, openssl: str, tags: list[str]) -> str:
    """A two-platform build whose dpkg status names OPENSSL's version, at TAGS: its index digest."""
    packages = status(("bash", "5.2-1"), ("openssl", openssl))
    one = Platform([layer({"var/lib/dpkg/status": packages})], {"Env": ["PATH=/usr/bin"]})
    digest = registry.preload(repo, layered_image({"linux/amd64": one, "linux/arm64": one}))
    for tag in tags:
        registry.tags.setdefault(repo, {})[tag] = digest
    return digest


@pytest.fixture
def service(clean_env, fake_registry, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.baseimages]\nregistry = "{fake_registry.address}"\nnamespace = "team"\n'
    )
    old = _build(fake_registry, "team/python311-uv", "3.0.1-1", [OLD_TAG])
    new = _build(fake_registry, "team/python311-uv", "3.0.2-1", [NEW_TAG, "1.2.3", "1.2", "1", "latest"])
    svc = tmp_path / "svc"
    svc.mkdir()
    uv = f"{fake_registry.address}/team/python311-uv"
    (svc / "Dockerfile").write_text(f"FROM {uv}:{OLD_TAG} AS builder\nFROM {uv}:1.2\n")
    return tmp_path, svc, uv, old, new


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_dependents_lists_each_pin_and_exits_0_unless_asked_to_fail_when_behind(service):
    root, svc, uv, _, new = service
    code, out, err = run("dependents", "--project", str(root), str(svc))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    changelog = lines[2 : lines.index(f"{svc}/Dockerfile:2: {uv}:1.2 (rolling, FROM)")]
    assert [line for line in lines if line not in changelog] == [
        f"{svc}/Dockerfile:1: {uv}:{OLD_TAG} (immutable, FROM (stage builder))",
        f"  BEHIND 1.2.3: promoted now {NEW_TAG} {new}",
        f"{svc}/Dockerfile:2: {uv}:1.2 (rolling, FROM)",
        f"  follows 1.2: now {NEW_TAG} {new}",
        "2 references to the family in 1 files read, 1 behind",
    ]
    # The behind pin's changelog since its pin, read from the layers: openssl moved on both platforms.
    assert all(line.startswith("    ") for line in changelog)
    assert sum("openssl" in line and "3.0.1-1" in line and "3.0.2-1" in line for line in changelog) == 2, changelog
    assert not any("bash" in line for line in changelog)
    assert run("dependents", "--project", str(root), "--fail-if-behind", str(svc))[0] == 1


def test_dependents_json(service):
    root, svc, uv, old, new = service
    code, out, _ = run("dependents", "--project", str(root), "--json", str(svc))
    data = json.loads(out)
    assert (code, data["total"], data["behind"]) == (0, 2, 1)
    assert data["pins"][0]["promoted"] == {"tag": NEW_TAG, "digest": new}
    assert (data["pins"][0]["pinned_digest"], data["pins"][0]["bump_to"]) == (old, f"{uv}:{NEW_TAG}")


def test_a_current_repository_passes_fail_if_behind(service):
    root, svc, uv, _, _ = service
    (svc / "Dockerfile").write_text(f"FROM {uv}:{NEW_TAG}\n")
    assert run("dependents", "--project", str(root), "--fail-if-behind", str(svc))[0] == 0


def test_a_bad_path_is_a_one_line_error_exit_2(service):
    root, *_ = service
    code, out, err = run("dependents", "--project", str(root), str(root / "nowhere"))
    assert (code, out, err) == (2, "", f"error: {root / 'nowhere'}: PATH: no such file or folder\n")


def test_a_registry_that_answers_garbage_is_exit_3(service, fake_registry):
    root, svc, *_ = service
    fake_registry.fault("html")
    code, out, err = run("dependents", "--project", str(root), str(svc))
    assert (code, out) == (3, "") and err.startswith("error: ") and len(err.splitlines()) == 1


def test_bump_writes_and_prints_a_pull_request_then_finds_nothing_to_do(service):
    root, svc, uv, _, _ = service
    code, out, err = run("bump", "--project", str(root), str(svc))
    assert (code, err) == (0, "")
    assert (svc / "Dockerfile").read_text() == f"FROM {uv}:{NEW_TAG} AS builder\nFROM {uv}:1.2\n"
    assert out.startswith("bumped 1 pins in 1 files\n\nBump the family's base images to their promoted builds\n")
    assert f"  `{uv}:{OLD_TAG}` -> `{uv}:{NEW_TAG}`" in out
    assert "openssl" in out.split("### ", 1)[1]  # the pull request carries what changed since the pin
    assert run("bump", "--project", str(root), str(svc))[1] == (
        "nothing to bump: every immutable-tag and digest pin is current\n"
    )


def test_bump_dry_run_prints_the_diff_and_writes_nothing(service):
    root, svc, uv, _, _ = service
    before = (svc / "Dockerfile").read_bytes()
    code, out, _ = run("bump", "--project", str(root), "--dry-run", str(svc))
    assert code == 0
    assert f"-FROM {uv}:{OLD_TAG} AS builder\n+FROM {uv}:{NEW_TAG} AS builder\n" in out
    assert (svc / "Dockerfile").read_bytes() == before
