"""SIGTERM and SIGINT sent to a real `python -m baseimages` process (a subprocess whose engine is a fake
with a build that blocks, its registry in memory): the run stops with 128 + the signal, writes its
report, starts no stage after the signal, leaves no folder; a second signal ends it at once. `doctor`
and `prune` stop without a traceback too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[1]
SCRIPT = """
import sys, tempfile, time
sys.path.insert(0, {unit!r})
tempfile.tempdir = {tmp!r}
from fakes import FakeEngine, MemoryRegistry
import baseimages.pipeline.factory as factory

class Blocking(FakeEngine):
    def build(self, request, image, on_line=None):
        print("BUILD STARTED", file=sys.stderr, flush=True)
        time.sleep({seconds})  # a worker thread: the signal does not reach it
        return super().build(request, image, on_line)

engine = Blocking()
factory.Factory._start_engine = lambda self: engine
factory.registry_client = lambda settings, **kwargs: MemoryRegistry()
import baseimages.engine.probe as probe
def buildx_version(self):
    print("DOCTOR ASKS", file=sys.stderr, flush=True)
    time.sleep({seconds})
    return "buildx 0.13.1"
probe.DockerProbe.buildx_version = buildx_version
from baseimages.cli.main import main
code = main(sys.argv[1:])
print(f"RUNS {{len(engine.runs)}}", file=sys.stderr)
sys.exit(code)
"""


def _start(catalog_writer, tmp_path: Path, *args: str, seconds: float = 3) -> subprocess.Popen[str]:
    catalog_writer.add("uv")
    temp = tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(unit=str(UNIT), tmp=str(temp), seconds=seconds))
    argv = [sys.executable, str(script), *args, "--project", str(catalog_writer.root), "--lock-dir", str(tmp_path)]
    return subprocess.Popen(argv, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=tmp_path)


def _wait_for(proc: subprocess.Popen[str], text: str) -> None:
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if text in line:
            return
        if not line:
            break
    raise AssertionError(f"{text!r} never came: {''.join(seen)}")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_stop_signal_during_a_build_stops_the_run_writes_the_report_and_starts_no_stage_after(
    catalog_writer, tmp_path, sig, code
):
    report = tmp_path / "report.json"
    proc = _start(catalog_writer, tmp_path, "build", "--report", str(report), "--platform", "linux/amd64")
    _wait_for(proc, "BUILD STARTED")
    os.kill(proc.pid, sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and f"interrupted ({sig.name})" in err
    assert "RUNS 0" in err  # the build ended, and no smoke test ran after it
    data = json.loads(report.read_text())
    assert data["interrupted"] == sig.name and data["exit_code"] == code
    (image,) = data["images"]
    assert image["status"] == "failed" and f"interrupted ({sig.name})" in image["error"]
    assert "smoke" not in image["seconds"]
    assert list((tmp_path / "tmp").iterdir()) == []  # its work folder went with it
    assert "uv" in out and "failed" in out  # the summary of what was done


def test_a_second_signal_while_stopping_ends_the_process_at_once(catalog_writer, tmp_path):
    proc = _start(catalog_writer, tmp_path, "build", "--platform", "linux/amd64", seconds=60)
    _wait_for(proc, "BUILD STARTED")
    os.kill(proc.pid, signal.SIGTERM)  # the build does not stop: the run waits for it
    time.sleep(0.5)
    assert proc.poll() is None
    started = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 10
    assert proc.returncode == 143
    assert "Traceback" not in err and "SIGTERM again: stopped at once" in err


def test_doctor_stopped_by_sigterm_exits_143_without_a_traceback(catalog_writer, tmp_path):
    proc = _start(catalog_writer, tmp_path, "doctor", seconds=30)
    _wait_for(proc, "DOCTOR ASKS")  # in its first check (buildx's version), which takes long here
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "interrupted (SIGTERM)" in err
