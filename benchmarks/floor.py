"""The floor: what bake itself costs when it makes what baseimages promises, cold, in one run.

bake's usual run (benchmarks/run.py) pushes images whose platform manifests change with every build:
its layers keep the build's file times. baseimages rebuilds byte for byte, which costs BuildKit work
bake does not do. This benchmark gives bake that work and nothing else, and times three runs of the
family, cold (BuildKit's cache emptied before each, a fresh namespace), one after the other, the order
rotating between rounds:

  baseimages           `push` of the family (its report gives the time only tests ran)
  bake                 the bake file of benchmarks/run.py as it is
  bake, reproducible   the same with SOURCE_DATE_EPOCH (the build date's first second, as baseimages
                       sets it), `rewrite-timestamp=true` on its image output with the gzip level of
                       baseimages' `layer-compression-level` default, and provenance mode=max (what
                       baseimages attaches): reproducible platform manifests, still pushed
                       straight from BuildKit, one build for both platforms, no tests

The floor of baseimages' ratio for a build path that keeps its promise is then
(bake, reproducible + the time only tests ran) / bake: no build path that keeps reproducible platform
manifests and tests every platform does less, unless it does less than bake's own build.

    python benchmarks/floor.py [--rounds N]   writes floor.{json,md} beside the other results
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench_model import Sample, Scenario
from results_meta import describe, metadata, write_results
from run import ROOT, Bench, cold_namespace, empty_engine

from baseimages.settings.config import SETTINGS

REPRODUCIBLE = "bake, reproducible"
TOOLS = ("baseimages", "bake", REPRODUCIBLE)


def day_epoch(now: dt.datetime) -> int:
    """The first second of NOW's day (UTC): what baseimages sets SOURCE_DATE_EPOCH to (its build date)."""
    return int(now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def reproducible(epoch: int, level: int) -> Callable[[dict[str, Any]], None]:
    """A bake-file edit: every target reproducible (SOURCE_DATE_EPOCH, rewritten timestamps, provenance max),
    its rewritten layers compressed at gzip LEVEL, as baseimages' `layer-compression-level` does."""
    option = f"rewrite-timestamp=true,compression=gzip,compression-level={level}"

    def edit(definition: dict[str, Any]) -> None:
        for target in definition["target"].values():
            target.setdefault("args", {})["SOURCE_DATE_EPOCH"] = str(epoch)
            target["output"] = [f"{o},{option}" for o in target.get("output", ["type=image,push=true"])]
            target["attest"] = ["type=provenance,mode=max"]

    return edit


def rotation(round_: int) -> tuple[str, ...]:
    """The tools in round ROUND_'s order: rotated, so that no tool always goes first."""
    shift = round_ % len(TOOLS)
    return TOOLS[shift:] + TOOLS[:shift]


def floor_rows(scenario: Scenario) -> dict[str, Any]:
    """Medians per tool, baseimages' time only tests ran, and the floor ratio."""
    median = {tool: statistics.median(s.seconds for s in scenario.timed(tool)) for tool in TOOLS}
    alone = statistics.median(s.tests_alone or 0.0 for s in scenario.timed("baseimages"))
    bake = median["bake"]
    return {
        "median": {k: round(v, 1) for k, v in median.items()},
        "tests_alone": round(alone, 1),
        "ratio": round(median["baseimages"] / bake, 2),
        "reproducible_ratio": round(median[REPRODUCIBLE] / bake, 2),
        "floor_ratio": round((median[REPRODUCIBLE] + alone) / bake, 2),
    }


def markdown(scenario: Scenario, rows: dict[str, Any], described: str) -> str:
    lines = [described, "", "| tool | n | min s | median s | max s | ratio to bake |", "|---|---|---|---|---|---|"]
    for tool in TOOLS:
        stats = scenario.stats(tool) or {}
        ratio = rows["median"][tool] / rows["median"]["bake"]
        lines.append(
            f"| {tool} | {stats.get('n', 0)} | {stats.get('min', 0):.1f} | {stats.get('median', 0):.1f} "
            f"| {stats.get('max', 0):.1f} | {ratio:.2f} |"
        )
    lines += [
        "",
        f"baseimages' time in which only tests ran (median): {rows['tests_alone']} s. "
        f"Floor for a build path with reproducible platform manifests and every platform tested: "
        f"({rows['median'][REPRODUCIBLE]} + {rows['tests_alone']}) / {rows['median']['bake']} = "
        f"**{rows['floor_ratio']}x** bake.",
    ]
    return "\n".join(lines) + "\n"


def measure(bench: Bench, rounds: int) -> Scenario:
    scenario = Scenario("floor", "cold family: baseimages, bake, and bake made reproducible")
    level = next(s.default for s in SETTINGS if s.key == "layer-compression-level")
    edit = reproducible(day_epoch(dt.datetime.now(dt.UTC)), level)
    for r in range(rounds):
        for tool in rotation(r):
            for attempt in range(3):  # a bake repeated after a registry error found its work done: again
                empty_engine()
                sample = _one(bench, tool, r, attempt, edit)
                scenario.samples.append(sample)
                print(f"    {tool:<20} {sample.seconds:7.2f} s", flush=True)
                if scenario.counts(sample):
                    break
    return scenario


def _one(bench: Bench, tool: str, round_: int, attempt: int, edit: Callable[[dict[str, Any]], None]) -> Sample:
    if tool == "baseimages":
        return bench.baseimages(cold_namespace(bench, "floor", tool, round_, attempt))
    namespace = cold_namespace(bench, "floor-r" if tool == REPRODUCIBLE else "floor", "bake", round_, attempt)
    sample = bench.bake(namespace, edit=edit if tool == REPRODUCIBLE else None)
    sample.tool = tool
    return sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    meta = metadata()
    with tempfile.TemporaryDirectory(prefix="baseimages-floor-") as tmp:
        scenario = measure(Bench(Path(tmp), verbose=True), args.rounds)
    rows = floor_rows(scenario)
    path = write_results(args.out / "floor.json", {"scenario": asdict(scenario), "rows": rows}, meta)
    table = markdown(scenario, rows, describe({"meta": meta}))
    (args.out / "floor.md").write_text(table)
    print(f"\n{table}\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
