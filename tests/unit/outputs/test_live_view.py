"""live_view: the live view of a run on a terminal. The real thing runs in tmux (Debian's, installed by
scripts/report-tools): `python -m baseimages push` on the fake engine and registry (live_driver.py), its
screen read with `tmux capture-pane` while the family builds and when it ended. Off a terminal the
output stays one plain line per event."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from rich.console import Console

from baseimages.core.events import Event, Phase
from baseimages.outputs.live_view import LiveView

HERE = Path(__file__).resolve().parents[1]  # tests/unit, where live_driver.py lives
ROWS = [(image, platform) for image in ("uv", "ml", "security") for platform in ("linux/amd64", "linux/arm64")]


def _tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        pytest.fail("tmux is not installed: scripts/report-tools installs Debian's tmux")
    return found


class Pane:
    """A tmux server of its own (its own socket) running COMMAND in a 150x45 window."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.socket = f"baseimages-test-{uuid.uuid4().hex[:8]}"
        self.tmux = _tmux()
        env_args = [f"{k}={v}" for k, v in env.items()]
        shell = " ".join(["env", "-i", *env_args, *command]) + "; sleep 60"
        subprocess.run(
            [self.tmux, "-L", self.socket, "-f", "/dev/null", "new-session", "-d", "-x", "150", "-y", "45", shell],
            check=True,
        )

    def screen(self) -> str:
        done = subprocess.run(
            [self.tmux, "-L", self.socket, "capture-pane", "-p", "-t", "0"], capture_output=True, text=True
        )
        return done.stdout

    def close(self) -> None:
        subprocess.run([self.tmux, "-L", self.socket, "kill-server"], capture_output=True)


def _row(screen: str, image: str, platform: str) -> str:
    return next((line for line in screen.splitlines() if line.split()[:2] == [image, platform]), "")


@pytest.fixture
def pane(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TERM": "tmux-256color",
        "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parents[1])]),  # this checkout's baseimages
    }
    running = Pane([sys.executable, str(HERE / "live_driver.py"), str(tmp_path / "project")], env)
    yield running
    running.close()


def test_the_live_view_shows_each_image_and_platform_in_its_phase_and_why_one_failed(pane):
    screens: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        screens.append(pane.screen())
        if "EXIT " in screens[-1]:
            break
        time.sleep(0.2)
    final = screens[-1]
    assert "EXIT 1" in final, final
    building = [s for s in screens if "building" in _row(s, "uv", "linux/arm64")]
    assert building, "uv's rows never showed `building`"
    mid = building[-1]
    assert all(_row(mid, image, platform) for image, platform in ROWS), mid  # every row from the start
    # while uv's arm64 still builds, ml warms its amd64 cache FROM uv's amd64 output; its arm64 waits
    warm = _row(mid, "ml", "linux/amd64")
    assert warm.split()[2] == "building" and ("warming the cache" in warm or "cache warmed" in warm), warm
    assert _row(mid, "ml", "linux/arm64").split()[2] == "waiting"
    assert any("smoke testing" in _row(s, "ml", "linux/arm64") for s in screens)
    uv_rows = [_row(s, "uv", "linux/amd64") for s in screens]
    assert any("contract testing" in row for row in uv_rows), "\n".join(uv_rows)
    for image, platform in [("uv", "linux/amd64"), ("security", "linux/arm64")]:
        row = _row(final, image, platform)
        assert row.split()[2] == "promoted", row
        assert row.split()[3].endswith("s"), row  # the image's elapsed time
    assert _row(final, "ml", "linux/arm64").split()[2] == "failed"
    panel = final[final.index("ml: why it failed") :]
    assert "linux/arm64: python runs" in panel and "ImportError: libgomp.so.1" in panel
    assert "Traceback" not in final


def test_off_a_terminal_the_output_is_one_plain_line_per_event(catalog_writer, clean_env, tmp_path, monkeypatch):
    from report_family import GrowingRegistry, TimedEngine, fake_cli, write_family

    from baseimages.cli.main import main

    write_family(catalog_writer)
    root = fake_cli(monkeypatch, catalog_writer, TimedEngine(), GrowingRegistry())
    out, err = io.StringIO(), io.StringIO()
    assert main(["push", "--project", str(root), "--lock-dir", str(tmp_path / "locks")], out=out, err=err) == 0
    lines = err.getvalue().splitlines()
    assert lines and all(line.startswith("[") for line in lines)
    assert any(" uv " in line and "promoted" in line for line in lines)


def test_a_failure_shows_the_excerpt_of_the_images_build_log():
    stream = io.StringIO()
    view = LiveView({"uv": ["linux/amd64"]}, Console(file=stream, width=140, force_terminal=False))
    view.build_line("uv", "#3 [1/2] FROM base")
    for number in range(100):
        view.build_line("uv", f"#4 {number}.0 other output")
    view.build_line("uv", '#3 ERROR: failed to resolve source metadata for "base"')
    view.event(Event("uv", Phase.BUILDING, 0.5))
    view.event(Event("uv", Phase.FAILED, 2.0, detail="uv: docker buildx build failed (exit 1)"))
    Console(file=stream, width=140).print(view.render())
    text = stream.getvalue()
    assert "uv: why it failed" in text and "failed to resolve source metadata" in text
    assert "other output" not in text
    assert "failed" in next(line for line in text.splitlines() if line.startswith("uv "))


def test_a_row_keeps_the_stage_that_began_last_and_shows_the_notes_of_one_beside_it_as_its_detail():
    stream = io.StringIO()
    view = LiveView({"ml": ["linux/amd64"]}, Console(file=stream, width=160, force_terminal=False))
    view.event(Event("ml", Phase.SMOKE_TESTING, 1.0, "linux/amd64"))
    view.event(Event("ml", Phase.CONTRACT_TESTING, 1.1, detail="service FROM ml"))
    view.event(Event("ml", Phase.SMOKE_TESTING, 3.0, "linux/amd64", "passed: 7/7 passed, 0 skipped"))
    Console(file=stream, width=160).print(view.render())
    [row] = [line for line in stream.getvalue().splitlines() if line.startswith("ml ")]
    assert "contract testing" in row and "smoke testing: passed: 7/7 passed" in row, row
    view.event(Event("ml", Phase.COMPARING_SIZES, 4.0))
    view.event(Event("ml", Phase.FAILED, 4.5, detail="ml: smoke tests failed"))
    stream.truncate(0)
    Console(file=stream, width=160).print(view.render())
    [row] = [line for line in stream.getvalue().splitlines() if line.startswith("ml ")]
    assert "failed" in row.split()[2], row
