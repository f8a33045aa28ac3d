"""`python -m baseimages doctor` through main(): each finding printed as a line (or JSON with --json), the
summary last, exit 0 / 1 on a fail / 2 on bad input. The engine is a FakeProbe, the registry and the mirror
serving python:3.11-slim the in-process fake registry, binfmt_misc a folder; no Docker, no network."""

from __future__ import annotations

import io
import json

import pytest
from fake_probe import FakeProbe, closed_port, hub_clients, write_binfmt
from fake_registry import make_image

from baseimages.cli.main import main
from baseimages.doctor import checkup as doctor
from baseimages.doctor import registry as doctor_registry
from baseimages.engine import probe as engine_probe


@pytest.fixture
def machine(monkeypatch, tmp_path, fake_registry, catalog_writer, clean_env):
    """A healthy x86_64 machine whose dockerd mirrors Docker Hub through the fake registry; a one-image catalog."""
    fake_registry.preload("library/python", make_image(), tag="3.11-slim")
    monkeypatch.setattr(engine_probe, "DockerProbe", lambda: FakeProbe(mirrors=(fake_registry.url,)))
    monkeypatch.setattr(doctor, "BINFMT_DIR", write_binfmt(tmp_path / "binfmt"))
    monkeypatch.setattr(doctor_registry, "quick_client", lambda settings, mirrors: hub_clients(tmp_path)(mirrors))
    monkeypatch.setattr("platform.machine", lambda: "x86_64")
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))  # no leftovers of killed runs
    catalog_writer.add("uv")
    return catalog_writer.root


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_healthy_machine_prints_ok_lines_and_a_summary_and_exits_0(machine, fake_registry):
    code, out, err = run("doctor", "--project", str(machine), "--registry", fake_registry.address)
    assert (code, err) == (0, "")
    verdict_lines = [line for line in out.splitlines() if not line.startswith(" ")]
    assert verdict_lines[-1] == "doctor: 12 ok, 0 warn, 0 fail"  # 2: no leftovers of killed runs
    assert all(line.startswith("ok ") for line in verdict_lines[:-1]), out
    assert any(line.startswith("ok    registry " + fake_registry.address) for line in verdict_lines)


def test_json_lists_every_finding_with_its_verdict(machine, fake_registry):
    code, out, _ = run("doctor", "--json", "--project", str(machine), "--registry", fake_registry.address)
    data = json.loads(out)
    assert code == data["exit_code"] == 0
    assert data["counts"] == {"ok": 12, "warn": 0, "fail": 0}
    assert {f["check"] for f in data["findings"]} >= {"buildx", "engine", "builder", "qemu", "registry", "context"}


def test_unreachable_registry_fails_and_exits_1(machine):
    address = f"127.0.0.1:{closed_port()}"
    code, out, _ = run("doctor", "--project", str(machine), "--registry", address)
    assert code == 1
    assert f"FAIL  registry {address}" in out
    assert out.splitlines()[-1] == "doctor: 11 ok, 0 warn, 1 fail"


def test_a_bad_flag_is_a_one_line_config_error_exit_2(machine):
    code, out, err = run("doctor", "--project", str(machine), "--registry", "not a host")
    assert (code, out) == (2, "")
    assert err.startswith("error: --registry: ") and err.count("\n") == 1
