"""The user-facing promise, one level up: whatever the registry answers, `python -m baseimages push` ends
with exit code 3, one error line per image (never a traceback), a written report, and no tag moved.

No Docker is needed: the change detection asks the registry first (the base image's digest, then each
image's current version), and every fault here fails it before anything is built.
"""

from __future__ import annotations

import io
import json

import pytest
from fake_registry import GARBAGE_MODES, FakeRegistry, make_image

from baseimages.cli.main import main

# A read by tag cannot tell another well-formed index from the right one: `wrong-body` is caught only
# by digest (tests/unit/test_registry.py), and change detection reads by tag.
MODES = [m for m in GARBAGE_MODES if m != "wrong-body"]


@pytest.fixture
def project(catalog_writer, clean_env, tmp_path):
    """`project(registry)`: a one-image project on REGISTRY whose base is on REGISTRY too; 2 attempts per
    request, and no login from the environment or ~/.docker."""

    def make(registry: FakeRegistry):
        registry.preload("library/python", make_image("base"), tag="3.11-slim")
        root = catalog_writer.root
        settings = f'[tool.baseimages]\nregistry = "{registry.address}"\nnamespace = "team"\n'
        (root / "pyproject.toml").write_text(settings)
        catalog_writer.add("tiny", parent=f"{registry.address}/library/python:3.11-slim")
        for name in ("BASEIMAGES_REGISTRY_USER", "BASEIMAGES_REGISTRY_PASSWORD"):
            clean_env.delenv(name, raising=False)
        clean_env.setenv("BASEIMAGES_RETRY_ATTEMPTS", "2")
        clean_env.setenv("BASEIMAGES_RETRY_MAX_SECONDS", "10")
        clean_env.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
        return root

    return make


def _push(root, registry, tmp_path, *extra):
    out, err = io.StringIO(), io.StringIO()
    report = tmp_path / "report.json"
    argv = ["push", "--registry", registry.address, "--report", str(report), "--project", str(root)]
    code = main([*argv, "--lock-dir", str(tmp_path / "locks"), *extra], out=out, err=err)
    return code, out.getvalue(), err.getvalue(), json.loads(report.read_text())


def _assert_failed_cleanly(code, out, err, report, registry, *words):
    assert code == 3, (code, out, err)
    assert "Traceback" not in out + err
    errors = [line.strip() for line in out.splitlines() if line.strip().startswith("error:")]
    assert len(errors) == 1, out
    assert registry.address in errors[0], errors[0]
    assert all(line.startswith("[") for line in err.splitlines()), f"only progress lines on stderr: {err}"
    assert [line for line in err.splitlines() if " failed " in line] != []
    (image,) = report["images"]
    assert (report["exit_code"], image["status"], image["exit_code"]) == (3, "failed", 3)
    assert errors[0] == f"error: {image['error']}"
    for word in words:
        assert word in image["error"], image["error"]
    assert registry.manifest_puts() == [], "no tag may move"
    assert registry.count("POST") == 0, "nothing was uploaded"


@pytest.mark.parametrize("mode", MODES)
def test_push_against_a_registry_answering_garbage_exits_3_with_one_error_line_and_a_report(
    fake_registry, project, tmp_path, mode
):
    root = project(fake_registry)
    fault = fake_registry.fault(mode)
    code, out, err, report = _push(root, fake_registry, tmp_path)
    _assert_failed_cleanly(code, out, err, report, fake_registry)
    assert fault.hits >= 1
    assert "retrying" not in err, "garbage is not retried"


@pytest.mark.parametrize("mode", ["503", "reset"])
def test_push_against_a_registry_that_stays_down_exits_3_after_the_retries(fake_registry, project, tmp_path, mode):
    root = project(fake_registry)
    fake_registry.fault(mode)
    code, out, err, report = _push(root, fake_registry, tmp_path)
    _assert_failed_cleanly(code, out, err, report, fake_registry, "gave up after 2 attempts")
    assert "retrying" in err


def test_push_to_a_registry_whose_certificate_is_not_trusted_exits_3_saying_to_pass_a_ca_bundle(
    project, tmp_path, monkeypatch
):
    # 127.0.0.1 is spoken to over plain HTTP; here it stands for a remote registry, spoken to over HTTPS.
    monkeypatch.setattr("baseimages.registry.http.is_local", lambda domain: False)
    with FakeRegistry(tls=True) as registry:
        root = project(registry)
        code, out, err, report = _push(root, registry, tmp_path)
        _assert_failed_cleanly(code, out, err, report, registry, "--ca-bundle", "BASEIMAGES_CA_BUNDLE")
        assert "retrying" not in err, "a certificate nobody trusts never heals"


@pytest.mark.parametrize("mode", ["html", "truncated-json", "huge-header"])
def test_plan_against_a_registry_answering_garbage_shows_unknown_with_the_reason(
    fake_registry, project, tmp_path, mode
):
    root = project(fake_registry)
    fake_registry.fault(mode)
    out, err = io.StringIO(), io.StringIO()
    code = main(["plan", "--json", "--project", str(root)], out=out, err=err)
    assert code == 0 and "Traceback" not in out.getvalue() + err.getvalue()
    (image,) = json.loads(out.getvalue())["images"]
    assert image["action"] == "unknown" and fake_registry.address in image["reasons"][0]


@pytest.mark.parametrize("mode", MODES)
def test_test_command_against_a_registry_answering_garbage_exits_3_with_a_report(
    fake_registry, project, tmp_path, mode
):
    root = project(fake_registry)
    fake_registry.fault(mode)
    out, err = io.StringIO(), io.StringIO()
    report = tmp_path / "report.json"
    code = main(["test", "--project", str(root), "--report", str(report)], out=out, err=err)
    assert code == 3 and "Traceback" not in out.getvalue() + err.getvalue()
    (image,) = json.loads(report.read_text())["images"]
    assert image["status"] == "failed" and fake_registry.address in image["error"]
