"""Container runs on the real engine under load: no check's output is lost, on either platform.

Hundreds of short-lived containers (linux/amd64 natively, linux/arm64 under QEMU) print a known line on
stdout and on stderr and exit with a known code, eight at a time, while other containers and a small
`docker buildx build` load the engine. baseimages runs each command as a smoke test does (the check
runner in a container of DockerEngine.run, run again when the engine lost its output) and every result
must come back complete. How often the engine itself lost a container's output (dockerd drops what a
container wrote when it cannot copy it within 2 s of the exit) is measured, not asserted, and so is
plain `docker run --rm` running the same commands under the same load, interleaved with them. The
figures go to a temporary file (its path is printed), with the commit, date, machine and versions of
benchmarks/results_meta.py; never over a committed file.
"""

from __future__ import annotations

import contextlib
import functools
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from baseimages.checks.runner import RunnerCheck, parse_output, runner_request
from baseimages.checks.smoke import run_checks
from baseimages.core.errors import BaseImagesError
from baseimages.engine.client import DockerEngine, PullRequest, RunRequest, RunResult

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from results_meta import metadata, write_results  # noqa: E402

IMAGE = "localhost:5000/library/python:3.11-slim"  # the stand-in `scripts/engine up` seeds, both platforms
PLATFORMS = ("linux/amd64", "linux/arm64")
RUNS_PER_METHOD = 300  # half per platform; about 3 minutes for both methods on 2 cores
THREADS = 8
BASEIMAGES, DOCKER_RUN = "baseimages smoke-test run", "docker run --rm"


@dataclass(frozen=True)
class Outcome:
    method: str
    platform: str
    lost: bool  # neither stdout nor stderr came back
    wrong: bool  # something came back, but not exactly the expected output and exit code
    seconds: float
    detail: str


def _command(i: int) -> list[str]:
    return ["sh", "-c", f"echo out-{i}; echo err-{i} >&2; exit {i % 4}"]


def _plain_docker_run(platform: str, command: list[str]) -> RunResult:
    argv = ["docker", "run", "--rm", "--platform", platform, "--pull", "never", "--entrypoint", command[0]]
    done = subprocess.run([*argv, IMAGE, *command[1:]], capture_output=True, text=True, timeout=300)
    return RunResult(done.returncode, done.stdout, done.stderr)


class CountingEngine(DockerEngine):
    """The real engine, counting its container runs and those whose output it lost (the check runner
    exited 0 without a complete document)."""

    def __init__(self) -> None:
        super().__init__()
        self.runs = 0
        self.lost = 0
        self._lock = threading.Lock()

    def run(self, request: RunRequest) -> RunResult:
        result = super().run(request)
        with self._lock:
            self.runs += 1
            self.lost += result.exit_code == 0 and bool(parse_output(result.stdout).problem)
        return result


def _as_smoke_test(engine: DockerEngine, platform: str, command: list[str]) -> RunResult:
    """COMMAND run the way a smoke test runs it; what the check runner recorded of it."""
    output = run_checks(engine, runner_request(IMAGE, platform, [], [], [RunnerCheck(tuple(command))]))
    run = output.runs.get(0)
    if run is None:
        return RunResult(-1, "", output.problem)
    return RunResult(run.exit_code, run.stdout, run.stderr)


def _one(engine: DockerEngine, method: str, platform: str, i: int) -> Outcome:
    command = _command(i)
    started = time.monotonic()
    try:
        if method == BASEIMAGES:
            result = _as_smoke_test(engine, platform, command)
        else:
            result = _plain_docker_run(platform, command)
    except (BaseImagesError, subprocess.TimeoutExpired) as exc:
        return Outcome(method, platform, False, True, time.monotonic() - started, f"{platform} #{i}: {exc}")
    seconds = time.monotonic() - started
    expected = RunResult(i % 4, f"out-{i}\n", f"err-{i}\n")
    lost = not result.stdout and not result.stderr
    wrong = not lost and result != expected
    detail = "" if result == expected else f"{platform} #{i}: got {result}, expected {expected}"
    return Outcome(method, platform, lost, wrong, seconds, detail)


class Load:
    """Background work on the same engine while the runs go on: loops of other containers (an arm64
    CPU burner under QEMU, an amd64 one that writes a lot of log output) and of a small multi-platform
    `docker buildx build` without cache. Counts what completed.

    On leaving, each loop finishes its current iteration (seconds). Nothing is signalled meanwhile: a
    SIGTERM forwarded into a starting QEMU-emulated process once hung it here for good. What is still
    running a minute later is removed by force (SIGKILL)."""

    def __init__(self, build_context: Path) -> None:
        self.stop = threading.Event()
        self.completed = {"containers": 0, "builds": 0}
        self._lock = threading.Lock()
        self._running: dict[str, subprocess.Popen[bytes]] = {}  # container name (or "build") -> its CLI
        build_context.mkdir(parents=True, exist_ok=True)
        (build_context / "Dockerfile").write_text(f'FROM {IMAGE}\nRUN python3 -c "print(sum(range(8_000_000)))"\n')
        self._build = [
            *("docker", "buildx", "build", "--no-cache", "--progress", "quiet"),
            *("--platform", ",".join(PLATFORMS), "--output", "type=cacheonly", str(build_context)),
        ]
        self._containers = [
            ["--platform", "linux/arm64", IMAGE, "python3", "-c", "sum(range(6_000_000))"],
            ["--platform", "linux/amd64", IMAGE, "sh", "-c", "yes load | head -n 200000"],
        ]

    def _loop(self, tail: list[str] | None) -> None:
        """Run a load container with TAIL (its platform, image and command), or the build, until stopped."""
        while not self.stop.is_set():
            key = "build" if tail is None else f"baseimages-stress-load-{uuid.uuid4().hex[:8]}"
            argv = self._build if tail is None else ["docker", "run", "--rm", "--pull", "never", "--name", key, *tail]
            with self._lock:
                self._running[key] = process = subprocess.Popen(
                    argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
            code = process.wait()
            with self._lock:
                del self._running[key]
                if code == 0:
                    self.completed["builds" if tail is None else "containers"] += 1

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        threads = [threading.Thread(target=self._loop, args=(tail,), daemon=True) for tail in [None, *self._containers]]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            self.stop.set()
            deadline = time.monotonic() + 60
            for thread in threads:
                thread.join(timeout=max(0.0, deadline - time.monotonic()))
            with self._lock:
                stuck = dict(self._running)
            for key, process in stuck.items():
                if key == "build":
                    process.kill()
                else:
                    subprocess.run(["docker", "rm", "--force", key], capture_output=True, timeout=60)


def _figures(outcomes: list[Outcome], method: str) -> dict[str, object]:
    mine = [o for o in outcomes if o.method == method]
    seconds = sorted(o.seconds for o in mine)
    return {
        "runs": len(mine),
        "runs_per_platform": {p: sum(o.platform == p for o in mine) for p in PLATFORMS},
        "lost": sum(o.lost for o in mine),
        "lost_per_platform": {p: sum(o.lost for o in mine if o.platform == p) for p in PLATFORMS},
        "wrong": sum(o.wrong for o in mine),
        "mean_run_seconds": round(sum(seconds) / len(seconds), 3),
        "max_run_seconds": round(seconds[-1], 3),
        "examples": [o.detail for o in mine if o.detail][:5],
    }


def _interleaved(engine: DockerEngine) -> list[Callable[[], Outcome]]:
    """Every run of both methods, half on each platform, in one shuffled order (the same every time)."""
    tasks = [
        functools.partial(_one, engine, method, PLATFORMS[i % 2], i)
        for method in (BASEIMAGES, DOCKER_RUN)
        for i in range(RUNS_PER_METHOD)
    ]
    random.Random(20261129).shuffle(tasks)
    return tasks


def test_no_smoke_test_loses_output_in_hundreds_of_concurrent_container_runs_under_load(
    engine: DockerEngine, tmp_path: Path
) -> None:
    for platform in PLATFORMS:
        engine.pull(PullRequest(IMAGE, platform))
    counting = CountingEngine()
    load = Load(tmp_path / "load-build")
    started = time.monotonic()
    with load.running(), ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(lambda task: task(), _interleaved(counting)))
    wall = time.monotonic() - started
    figures = {
        "image": IMAGE,
        "threads": THREADS,
        "command": "sh -c 'echo out-N; echo err-N >&2; exit N%4'",
        "wall_seconds": round(wall, 1),
        "load_completed": dict(load.completed),
        "methods": {method: _figures(outcomes, method) for method in (BASEIMAGES, DOCKER_RUN)},
        "engine_runs_for_smoke_tests": {"containers": counting.runs, "output_lost_by_the_engine": counting.lost},
    }
    results = write_results(tmp_path / "run-output-stress.json", figures, metadata())
    print(f"{results}:\n{results.read_text()}")

    assert load.completed["containers"] > 0 and load.completed["builds"] > 0, "the load did not run"
    ours = figures["methods"][BASEIMAGES]
    assert (ours["lost"], ours["wrong"]) == (0, 0), ours["examples"]
    assert ours["runs_per_platform"] == {p: RUNS_PER_METHOD // 2 for p in PLATFORMS}
    assert counting.runs == RUNS_PER_METHOD + counting.lost  # a run again for each one the engine lost, no more
