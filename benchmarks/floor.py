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
published image) does not. With --floor-chained the third tool is instead

  bake, reproducible, chained   the same, in two bakes as baseimages builds: the parent first, into its
                       archive, unpacked as an OCI layout; then its children FROM that image
                       (`oci-layout://LAYOUT@DIGEST` as their `baseimages-parent` context), whose exports
                       then leave the parent's layers as they are (BuildKit rewrites the layers past the
                       base only). Both bakes and the unpacking are timed. In the one-change scenario
                       (python311-security alone) it is `bake, reproducible`'s run.
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_model import Sample, Scenario

REPRODUCIBLE = "bake, reproducible"
CHAINED = "bake, reproducible, chained"
FLOORS = (REPRODUCIBLE, CHAINED)  # the third tools, either of which a run may have
PARENT_CONTEXT = "baseimages-parent"  # the named context through which `bake-file` chains a child to its parent


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


def from_layout(layout: Path, digest: str) -> Callable[[dict[str, Any]], None]:
    """A bake-file edit: each target chained to another (`target:`) reads its parent from the OCI layout
    LAYOUT@DIGEST instead, as a baseimages child reads its parent's image."""

    def edit(definition: dict[str, Any]) -> None:
        for target in definition["target"].values():
            contexts = target.get("contexts", {})
            if str(contexts.get(PARENT_CONTEXT, "")).startswith("target:"):
                contexts[PARENT_CONTEXT] = f"oci-layout://{layout}@{digest}"

    return edit


def bake_chained(bench: Any, namespace: str, family: list[str]) -> Sample:
    """One run of CHAINED by BENCH (run.py's Bench) into NAMESPACE: bake made reproducible of FAMILY's first
    image (the parent) into its archive, unpacked as an OCI layout; then of the others FROM it. Both bakes
    and the unpacking are timed; the timeline gets each bake's steps on its targets' rows."""
    from timeline_svg import bake_bars

    from baseimages.oci.archive import archive_index, extract_layout

    started = time.monotonic()
    first = bench.bake(namespace, edit=bench.made_reproducible(only=family[:1]), tool=CHAINED, keep=True)
    lines = bench.last_bakes[CHAINED]
    archive, layout = bench.work / "oci" / f"{family[0]}.tar", bench.work / "parent-layout"
    shutil.rmtree(layout, ignore_errors=True)
    extract_layout(archive, layout)
    digest = archive_index(archive)[0]
    shutil.rmtree(bench.work / "oci", ignore_errors=True)
    offset = time.monotonic() - started
    edit = bench.made_reproducible(also=from_layout(layout, digest), only=family[1:])
    second = bench.bake(namespace, edit=edit, tool=CHAINED)
    seconds = time.monotonic() - started
    shutil.rmtree(layout, ignore_errors=True)
    later = [(at + offset, line) for at, line in bench.last_bakes[CHAINED]]
    bench.chained_bars = bake_bars(lines, family[:1]) + bake_bars(later, family[1:])  # one target, then two
    bench.last_bake = bench.last_bakes[CHAINED] = lines + later
    attempts = first.failed_attempts + second.failed_attempts
    return Sample(CHAINED, seconds, rebuilt=list(family), failed_attempts=attempts)


def floor_rows(scenario: Scenario, floor: str = REPRODUCIBLE) -> dict[str, Any] | None:
    """SCENARIO's medians per tool, baseimages' time only tests ran, and the ratios to bake, with FLOOR as
    bake made reproducible (None: a tool has no counted run)."""
    tools = ("baseimages", "bake", floor)
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
        "reproducible_ratio": round(median[floor] / bake, 2),
        "floor_ratio": round((median[floor] + alone) / bake, 2),
    }


def floor_table(scenarios: list[Scenario]) -> list[str]:
    """The floor of each scenario that ran bake reproducible, as Markdown lines (none if none did)."""
    rows = []
    for scenario in scenarios:
        for floor in FLOORS:
            found = None if scenario.skipped else floor_rows(scenario, floor)
            if found is None:
                continue
            m = found["median"]
            rows.append(
                f"| {scenario.title} | {floor} | {m['bake']} | {m[floor]} | {found['reproducible_ratio']:.2f} | "
                f"{found['tests_alone']} | ({m[floor]} + {found['tests_alone']}) / {m['bake']} = "
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
        "bound: in one bake, bake made reproducible also rewrites each parent's layers inside its children; "
        "*chained*, each child builds FROM its parent's archive in a second bake and does not.",
        "",
        "| scenario | made reproducible | bake | its time | its ratio | tests alone | floor | baseimages |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ]
