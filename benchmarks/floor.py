"""The floor: what bake itself costs when it makes what baseimages promises, in the same run.

bake's usual run pushes images whose platform manifests change with every build: its layers keep the
build's file times. baseimages rebuilds byte for byte, which costs BuildKit work bake does not do.
benchmarks/run.py gives bake that work and nothing else as a third tool in the scenarios that build
(cold, one change, parent change), its order rotating with the other two:

  bake, reproducible   bake's file with SOURCE_DATE_EPOCH (the build date's first second, as baseimages
                       sets it), `rewrite-timestamp=true` with the gzip level of baseimages'
                       `layer-compression-level` default, and provenance mode=max (what baseimages
                       attaches): reproducible platform manifests, one build for both platforms, no tests.
                       Each image goes to an OCI archive, not to the registry: the engine's docker
                       driver pushes from its image store, and BuildKit refuses `rewrite-timestamp` with
                       that store ("conflicts with unpack"), as it refuses it for every reproducible path
                       here. Its upload is not timed: the floor is low rather than high.

The floor is then (bake, reproducible + the time only tests ran in baseimages' run) / bake: what bake's
own path costs once it keeps baseimages' promise and the tests are added. An estimate, not a bound: in
bake's single solve a child's parent is part of the build, not a base image, so bake made reproducible
rewrites the parent's layers again inside every child, which baseimages (each child FROM its parent's
published image) does not.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_model import Scenario

REPRODUCIBLE = "bake, reproducible"


def day_epoch(now: dt.datetime) -> int:
    """The first second of NOW's day (UTC): what baseimages sets SOURCE_DATE_EPOCH to (its build date)."""
    return int(now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0).timestamp())


def reproducible(epoch: int, level: int, into: Path, only: list[str] | None = None) -> Callable[[dict[str, Any]], None]:
    """A bake-file edit: every target reproducible (SOURCE_DATE_EPOCH, rewritten timestamps, provenance max),
    its rewritten layers compressed at gzip LEVEL, as baseimages' `layer-compression-level` does, and
    exported to the OCI archive INTO/<target>.tar (see the module's doc). ONLY: bake builds these targets
    alone (what baseimages rebuilds; their parents as cache hits, not exported)."""
    option = f"rewrite-timestamp=true,compression=gzip,compression-level={level}"

    def edit(definition: dict[str, Any]) -> None:
        into.mkdir(parents=True, exist_ok=True)  # BuildKit's client writes the archives, not the folder
        for name, target in definition["target"].items():
            target.setdefault("args", {})["SOURCE_DATE_EPOCH"] = str(epoch)
            target["output"] = [f"type=oci,dest={into / name}.tar,{option}"]
            target["attest"] = ["type=provenance,mode=max"]
        if only is not None:
            definition["group"]["default"]["targets"] = list(only)

    return edit


def floor_rows(scenario: Scenario) -> dict[str, Any] | None:
    """SCENARIO's medians per tool, baseimages' time only tests ran, and the ratios to bake (None: a tool
    has no counted run)."""
    tools = ("baseimages", "bake", REPRODUCIBLE)
    runs = {tool: scenario.timed(tool) for tool in tools}
    if not all(runs.values()):
        return None
    median = {tool: statistics.median(s.seconds for s in runs[tool]) for tool in tools}
    alone = statistics.median(s.tests_alone or 0.0 for s in runs["baseimages"])
    bake = median["bake"]
    return {
        "median": {k: round(v, 1) for k, v in median.items()},
        "tests_alone": round(alone, 1),
        "ratio": round(median["baseimages"] / bake, 2),
        "reproducible_ratio": round(median[REPRODUCIBLE] / bake, 2),
        "floor_ratio": round((median[REPRODUCIBLE] + alone) / bake, 2),
    }


def floor_table(scenarios: list[Scenario]) -> list[str]:
    """The floor of each scenario that ran bake reproducible, as Markdown lines (none if none did)."""
    rows = []
    for scenario in scenarios:
        found = None if scenario.skipped else floor_rows(scenario)
        if found is None:
            continue
        m = found["median"]
        rows.append(
            f"| {scenario.title} | {m['bake']} | {m[REPRODUCIBLE]} | {found['reproducible_ratio']:.2f} | "
            f"{found['tests_alone']} | ({m[REPRODUCIBLE]} + {found['tests_alone']}) / {m['bake']} = "
            f"**{found['floor_ratio']:.2f}x** | {found['ratio']:.2f}x |"
        )
    if not rows:
        return []
    return [
        "",
        "The floor (medians, s): bake made reproducible (SOURCE_DATE_EPOCH, rewrite-timestamp at baseimages' "
        "gzip level, provenance mode=max; one build, each image to an OCI archive, not uploaded, no tests) "
        "plus the time only tests ran in baseimages' "
        "runs, over bake: what bake's own path costs once it keeps baseimages' promise. An estimate, not a "
        "bound: bake made reproducible also rewrites each parent's layers inside its children.",
        "",
        "| scenario | bake | bake, reproducible | its ratio | tests alone | floor | baseimages |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
