"""baseimages against `docker buildx bake`, side by side, on this machine, in one run.

Both tools build the same three Dockerfiles with the same build args, platforms, secrets, wheelhouse
and registry (the engine's local one, a fresh namespace per tool and scenario). bake gets the bake
file `python -m baseimages bake-file` writes (bake's timer includes writing it); baseimages runs as its
CLI. Runs alternate, and the order of the tools rotates between rounds: A B, B A... (with bake made
reproducible, floor.py, as a third tool in the scenarios that build: A B C, B C A, C A B).

    python benchmarks/run.py            every scenario, 3 rounds (cold builds take long: see --quick),
                                        with bake made reproducible as a third tool (floor.py; --no-floor)
    python benchmarks/run.py --quick    no cold builds, one parent-change round, no 4b (under 15 minutes)
    python benchmarks/run.py --floor-chained   the third tool bakes each child FROM its parent's archive
    python benchmarks/run.py --only fresh   scenario 5 alone: a fresh engine (scripts/node2), with and
                                            without the registry build cache (see fresh_engine.py)

Prints min / median / max wall time per tool and the median ratio baseimages/bake per scenario, and
baseimages' own overhead (time outside buildx) as a share of its total, with smoke tests and contract
services (work bake does not do) reported apart, and baseimages' breakdown per scenario (build, upload,
smoke, contract). Scenario 4b times the parent change at other --jobs (overlap of tests and builds).
Writes JSON (with results_meta's commit, date, machine and versions) and a Markdown table to --out,
and for each scenario's last round every tool's timeline as timeline-<scenario>.svg (timeline_svg.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench_model import TESTS, TOOLS, Sample, Scenario, breakdown, intervals, length
from bench_report import markdown
from cpu import busy_seconds
from floor import CHAINED, REPRODUCIBLE, bake_chained, day_epoch, reproducible
from fresh_engine import annotate
from results_meta import describe, metadata, write_results
from scenarios import cold, fresh, noop, one_change, overlap, parent_change, remove_images
from timeline_svg import Bar, bake_bars, render, report_bars

from baseimages.settings.config import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
FAMILY = ["python311-uv", "python311-ml", "python311-security"]
BAKE_ATTEMPTS = 8  # bake does not retry a registry's 500 on a HEAD; Debian's registry answers some under load
REGISTRY = "localhost:5000"
Edit = Callable[[dict[str, Any]], None]  # a change to bake's file
SHORT = {
    "baseimages": "bi",
    "bake": "bake",
    REPRODUCIBLE: "bake-r",
    CHAINED: "bake-c",
}  # each tool's part of a namespace


class Bench:
    def __init__(self, work: Path, verbose: bool, out: Path | None = None, floor: str | None = None) -> None:
        self.work = work
        self.verbose = verbose
        self.out = out  # where timeline-<scenario>.svg go (None: nowhere)
        # the tools of the scenarios that build: with FLOOR, bake made reproducible (or chained) too (floor.py)
        self.tools = (*TOOLS, floor) if floor else TOOLS
        self.last_report: dict[str, Any] = {}  # the report of baseimages' latest run
        self.last_bake: list[tuple[float, str]] = []  # bake's latest progress, each line with its second
        self.last_bakes: dict[str, list[tuple[float, str]]] = {}  # the latest progress per bake tool
        self.chained_bars: list[Bar] = []  # bake made reproducible, chained: its two bakes' steps (floor.py)
        self.project = work / "project"
        shutil.copytree(ROOT / "images", self.project / "images")
        # The package's bytecode, as pip compiles it when it installs the wheel: with PYTHONDONTWRITEBYTECODE
        # set (as on these machines) a checkout never gets it, and each timed run would compile every module.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "baseimages")], check=True)
        self.run_id = uuid.uuid4().hex[:6]
        self.bake_file = work / "bake.json"
        self.started = dt.datetime.now(dt.UTC)  # the build date bake made reproducible gets (its first second)
        self.level = next(s.default for s in SETTINGS if s.key == "layer-compression-level")

    # ------------------------------------------------------------------ the two tools

    def cli(self, command: str, namespace: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "baseimages",
            command,
            "--project",
            str(self.project),
            "--registry",
            REGISTRY,
            "--namespace",
            namespace,
        ]

    def baseimages(self, namespace: str, extra: Sequence[str] = (), logs: Path | None = None) -> Sample:
        """One `push` (with EXTRA flags; with LOGS: each image's buildx log written there). Each namespace has
        its own changelog layer cache: a cold run's namespace is new, so is its cache; runs in one namespace
        share it, as the runs of a scheduled job on one machine do."""
        report = self.work / f"report-{uuid.uuid4().hex[:6]}.json"
        layers = self.work / "layer-cache" / namespace
        cmd = self.cli("push", namespace) + ["--report", str(report), "--layer-cache", str(layers), *extra]
        if logs is not None:
            cmd += ["--log-dir", str(logs)]
        started = time.monotonic()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            raise SystemExit(f"baseimages failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
        data = self.last_report = json.loads(report.read_text())
        images = data["images"]
        phases, tests_alone = breakdown(images)
        return Sample(
            "baseimages",
            seconds,
            buildx_seconds=length(intervals(images, ("warm", "reuse", "build"))),
            test_seconds=length(intervals(images, TESTS)),
            push_seconds=length(intervals(images, ("push", "promote"))),
            phases=phases,
            tests_alone=tests_alone,
            rebuilt=[i["name"] for i in images if i["status"] == "promoted"],
        )

    def bake(
        self,
        namespace: str,
        builder: str | None = None,
        edit: Callable[[dict[str, Any]], None] | None = None,
        log: list[str] | None = None,
        before_repeat: Callable[[], None] | None = None,
        tool: str = "bake",
        keep: bool = False,
    ) -> Sample:
        """One bake of the family on the Docker context BUILDER (default: the current one), its bake file
        changed by EDIT; with LOG, buildx's plain progress of the run that counted is collected there;
        BEFORE_REPEAT runs before a run that failed is repeated. The timer includes writing the bake file
        (bake cannot run without one; baseimages' timer includes its own planning). TOOL names the sample
        and the timeline panel (bake, or bake made reproducible, whose archives are removed after it
        unless KEEP)."""
        from python_on_whales import DockerClient
        from python_on_whales.exceptions import DockerException

        # A Docker context's builder is used as `docker --context NAME buildx` (buildx refuses --builder there).
        docker = DockerClient(context=builder) if builder else DockerClient()
        failures: list[str] = []
        for attempt in range(BAKE_ATTEMPTS):
            started = time.monotonic()
            self.write_bake_file(namespace, edit)
            lines: list[tuple[float, str]] = []
            try:
                stream = docker.buildx.bake(files=[str(self.bake_file)], progress="plain", stream_logs=True)
                for chunk in stream:
                    at = time.monotonic() - started
                    lines += [(at, line) for line in str(chunk).splitlines()]
            except DockerException as exc:
                reason = (exc.stderr or "").strip().splitlines()[-1:] or ["?"]
                if attempt == BAKE_ATTEMPTS - 1 or _same_failure_again(reason[0], failures):
                    raise
                failures.append(reason[0])
                print(f"    bake failed, repeating it: {reason[0][:160]}", flush=True)
                if before_repeat is not None:
                    before_repeat()
                continue
            seconds = time.monotonic() - started
            self.last_bake = self.last_bakes[tool] = lines
            if not keep:  # made reproducible's archives: gigabytes
                shutil.rmtree(self.work / "oci", ignore_errors=True)
            if log is not None:
                log[:] = [line for _, line in lines]
            return Sample(tool, seconds, rebuilt=list(FAMILY), failed_attempts=attempt)
        raise AssertionError("unreachable")

    def write_bake_file(self, namespace: str, edit: Callable[[dict[str, Any]], None] | None) -> None:
        definition = json.loads(
            subprocess.run(
                self.cli("bake-file", namespace), cwd=ROOT, capture_output=True, text=True, check=True
            ).stdout
        )
        if edit is not None:
            edit(definition)
        self.bake_file.write_text(json.dumps(definition, indent=2))

    def timeline(self, name: str, title: str) -> None:
        """Every tool's latest run as OUT/timeline-NAME.svg (the last round of scenario NAME)."""
        if self.out is None or not self.last_report or not self.last_bake:
            return
        panels = [("baseimages", report_bars(self.last_report))]
        panels += [
            (tool, self.chained_bars if tool == CHAINED else bake_bars(lines, FAMILY))
            for tool, lines in self.last_bakes.items()
        ]
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / f"timeline-{name}.svg").write_text(render(panels, f"{title}: the last round"))

    def run(self, tool: str, namespace: str, only: list[str] | None = None) -> Sample:
        """One timed run of TOOL into NAMESPACE; bake made reproducible builds the targets ONLY (None: all).
        The machine's busy CPU time during it is recorded too (cpu.py)."""
        busy = busy_seconds()
        if tool == "baseimages":
            sample = self.baseimages(namespace)
        elif tool == CHAINED and only is None:
            sample = bake_chained(self, namespace, FAMILY)
        elif tool == CHAINED:  # the changed images alone: their parents are cached, not built (floor.py)
            sample = self.bake(namespace, edit=self.made_reproducible(only=only), tool=tool)
        else:
            sample = self.bake(
                namespace, edit=self.made_reproducible(only=only) if tool == REPRODUCIBLE else None, tool=tool
            )
        sample.cpu_seconds, sample.cores = round(busy_seconds() - busy, 1), os.cpu_count()
        if self.verbose:
            print(f"    {tool:<18} {sample.seconds:7.2f} s  {namespace}", flush=True)
        return sample

    def made_reproducible(self, also: Edit | None = None, only: list[str] | None = None) -> Edit:
        """The edit of bake's file that makes it reproducible (floor.py), its archives under WORK/oci, its
        targets ONLY (None: all), then ALSO."""
        made = reproducible(day_epoch(self.started), self.level, self.work / "oci", only)

        def edit(definition: dict[str, Any]) -> None:
            made(definition)
            if also is not None:
                also(definition)

        return edit

    # ------------------------------------------------------------------ state

    def namespace(self, scenario: str, tool: str, round_: int | None = None) -> str:
        suffix = f"-{round_}" if round_ is not None else ""
        return f"bench-{self.run_id}-{scenario}-{SHORT[tool]}{suffix}"

    def bump(self, name: str, text: str = "") -> None:
        """A new release of NAME: patch version + 1, and TEXT appended to a context file (if any)."""
        spec = self.project / "images" / name / "image.yaml"
        lines = spec.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("version: "):
                major, minor, patch = line.split(": ", 1)[1].split(".")
                lines[i] = f"version: {major}.{minor}.{int(patch) + 1}"
        spec.write_text("\n".join(lines) + "\n")
        if text:
            target = self.project / "images" / name / ("Dockerfile" if text.startswith("ENV") else "requirements.txt")
            target.write_text(target.read_text() + text + "\n")


# ---------------------------------------------------------------------- main


def _same_failure_again(reason: str, before: list[str]) -> bool:
    """Whether bake failed for REASON twice in a row without a server error (5xx) in it: a mistake in its
    file or its options, which a repeat does not mend (the registry's 500s differ in their digests)."""
    return bool(before) and before[-1] == reason and re.search(r"\b5\d\d\b", reason) is None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="skip cold builds; one parent-change round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-floor", action="store_true", help="no third tool, bake made reproducible (floor.py)")
    parser.add_argument(
        "--floor-chained",
        action="store_true",
        help="the third tool chains each child to its parent's archive (floor.py)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--name", help="results file stem (default: results; fresh-engine with --only fresh alone)")
    parser.add_argument(
        "--only", action="append", default=[], help="scenario names: cold noop change parent overlap fresh"
    )
    parser.add_argument("--overlap-rounds", type=int, default=1, help="rounds of scenario 4b (--jobs 1 and 3)")
    parser.add_argument("--fresh-rounds", type=int, default=1, help="rounds of scenario 5 (fresh engine)")
    parser.add_argument("--fresh-cache-only", action="store_true", help="scenario 5: with the registry cache alone")
    parser.add_argument("--fresh-force-only", action="store_true", help="scenario 5: 5a alone (no 5b)")
    parser.add_argument("--fresh-reuse", metavar="RUN_ID", help="scenario 5: reuse what run RUN_ID set up (one round)")
    parser.add_argument("-q", "--quiet", action="store_true")
    parser.add_argument("--render", type=Path, metavar="JSON", help="only print the table of an earlier run")
    return parser


def render_file(path: Path) -> str:
    """The Markdown table of the results file PATH, with the scripts of today (its figures, this code's
    definitions: e.g. a ratio without tests an old file did not record is said to be not recorded)."""
    data = json.loads(path.read_text())
    loaded = [
        Scenario(d["name"], d["title"], [Sample(**x) for x in d["samples"]], d["skipped"], d.get("note"))
        for d in data["scenarios"]
    ]
    annotate(loaded)  # the notes derived from the samples, by today's definitions
    return markdown(loaded, describe(data))


def measure(args: argparse.Namespace, written: Callable[[list[Scenario]], None]) -> list[Scenario]:
    """The scenarios ARGS asks for; WRITTEN gets the list after each one (a later failure keeps them)."""
    plan = [("cold", cold), ("noop", noop), ("change", one_change), ("parent", parent_change), ("overlap", overlap)]
    chosen = [(n, f) for n, f in plan if not args.only or n in args.only]
    scenarios: list[Scenario] = []
    with tempfile.TemporaryDirectory(prefix="baseimages-bench-") as tmp:
        floor = None if args.no_floor else CHAINED if args.floor_chained else REPRODUCIBLE
        bench = Bench(Path(tmp), verbose=not args.quiet, out=args.out, floor=floor)
        bench.run_id = args.fresh_reuse or bench.run_id
        for name, func in chosen:
            if args.quick and name in ("cold", "overlap"):
                title = "1. cold family build and push" if name == "cold" else "4b. parent change at --jobs 1 and 3"
                scenarios.append(Scenario(name, title, skipped="not run with --quick (minutes per run)"))
                continue
            rounds = 1 if args.quick and name == "parent" else args.overlap_rounds if name == "overlap" else args.rounds
            print(f"{name}: {rounds} round(s), the tools rotating between rounds", flush=True)
            scenarios.append(func(bench, rounds))
            written(scenarios)
            remove_images()
        if "fresh" in args.only:
            print(f"fresh: {args.fresh_rounds} round(s) on scripts/node2's engine, reset before every run", flush=True)
            caches = (True,) if args.fresh_cache_only else (True, False)
            kinds = ("force",) if args.fresh_force_only else ("force", "change")
            scenarios += fresh(bench, args.fresh_rounds, set_up=not args.fresh_reuse, caches=caches, kinds=kinds)
        else:
            title = "5. fresh engine with registry cache vs without"
            scenarios.append(Scenario("fresh", title, skipped="not run in this run (`--only fresh` runs it)"))
    return scenarios


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.render is not None:
        print(render_file(args.render), end="")
        return 0
    status = subprocess.run([str(ROOT / "scripts" / "engine"), "status"], capture_output=True, text=True)
    if status.returncode != 0:
        raise SystemExit("the engine is not ready: run `scripts/engine up` first\n" + status.stdout)
    meta = metadata()  # the commit measured: taken before the runs
    stem = args.name or ("fresh-engine" if args.only == ["fresh"] else "results")

    def written(scenarios: list[Scenario]) -> None:
        write_results(args.out / f"{stem}.json", {"scenarios": [asdict(s) for s in scenarios]}, meta)
        (args.out / f"{stem}.md").write_text(markdown(scenarios, describe({"meta": meta})))

    scenarios = measure(args, written)
    written(scenarios)
    print(f"\n{markdown(scenarios, describe({'meta': meta}))}\nwritten: {args.out / f'{stem}.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
