"""Past one machine, on paper: the family's wall time with linux/arm64 built on a native node, from the
per-platform build times a run measured, and how it grows with images and platforms; the model checked
against a measured two-engine run.

Measured here, each run cold (BuildKit's cache emptied, a fresh namespace), one round:

  family, one engine   `push` of the family, both platforms on the main engine (arm64 under QEMU)
  pair, one engine     `push` of python311-uv and python311-security, both platforms on the main engine
  pair, two engines    the same with `--builder linux/arm64=NODE`: NODE a fresh second engine (an instance
                       of scripts/node2 of the benchmark's own), the run tests/integration/test_two_engines.py
                       makes

The model reads a run's report (`timeline`: each stage's interval per image; `platform_timeline`: each
platform's build) and gives each image four measured parts:

  wait     a child: from its parent's last build's end until its own first stage (the parent's merge,
           load and upload of its candidate, then a free permit); an image without a parent in the
           run: from the run's start
  lead     from the image's first stage to its first platform build
  builds   each platform's build, seconds
  finish   from its last build's end until its last stage ended (merge, load, upload, tests,
           changelog, signing, promotion)

An image starts its wait after its parent's builds are done; it is done after its lead, its slowest
platform build and its finish. The wall time is the latest image's end. With builds
rescaled per platform (`predict(shapes, scale)`), the same sum says what a different builder mapping
gives: arm64 on a native node is arm64's build taking the time the same image's amd64 build took
(the arm64 smoke tests and contract services still run on the main engine under QEMU: the finish is
kept as measured). The model assumes a node has cores enough for the builds the graph runs at once;
on this 2-core machine they share them, which the measured build times include.

    python benchmarks/scale_model.py            measure the three runs, write scale-model.{json,md}
    python benchmarks/scale_model.py --render F only print the tables of an earlier results file
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fresh_engine import NODE, node, reset_node
from results_meta import describe, metadata, write_results
from run import FAMILY, ROOT, Bench
from scenarios import empty_engine

PAIR = ["python311-uv", "python311-security"]
Scale = Callable[[str, str, float], float]  # (image, platform, measured seconds) -> seconds in the model


@dataclass(frozen=True)
class Shape:
    """One image of a run, as the model sees it (seconds; starts relative to the run's start)."""

    name: str
    parent: str | None
    wait: float
    lead: float
    builds: dict[str, float]
    finish: float


def _parent(image: Mapping[str, Any], repositories: Mapping[str, str]) -> str | None:
    ref = image.get("parent_ref") or ""
    return next(
        (name for repo, name in repositories.items() if ref.startswith(f"{repo}:") or ref.startswith(f"{repo}@")), None
    )


def shapes(report: Mapping[str, Any]) -> dict[str, Shape]:
    """The built images of REPORT (a run's JSON report), each cut into the model's parts."""
    images = [i for i in report.get("images", []) if i.get("platform_timeline")]
    repositories = {i["repository"]: i["name"] for i in images}
    builds = {i["name"]: {p: t["build"] for p, t in i["platform_timeline"].items() if "build" in t} for i in images}
    starts = {i["name"]: min(float(a) for a, _ in i["timeline"].values()) for i in images}
    parents = {i["name"]: _parent(i, repositories) for i in images}
    built = {name: max(float(b) for _, b in spans.values()) for name, spans in builds.items()}
    out: dict[str, Shape] = {}
    for image in images:
        name, spans, parent = image["name"], builds[image["name"]], parents[image["name"]]
        out[name] = Shape(
            name=name,
            parent=parent,
            wait=starts[name] - (built[parent] if parent is not None else 0.0),
            lead=min(float(a) for a, _ in spans.values()) - starts[name],
            builds={p: float(b) - float(a) for p, (a, b) in spans.items()},
            finish=max(float(b) for _, b in image["timeline"].values()) - built[name],
        )
    return out


def measured_wall(report: Mapping[str, Any]) -> float:
    """The last stage's end of any image in REPORT (the run's own time from its first stage)."""
    return max(float(b) for i in report.get("images", []) for _, b in i.get("timeline", {}).values())


def predict(graph: Mapping[str, Shape], scale: Scale | None = None) -> float:
    """The wall time the model gives for GRAPH with each build's seconds through SCALE (None: as measured)."""
    ends: dict[str, float] = {}
    built: dict[str, float] = {}

    def done(name: str) -> float:
        if name not in ends:
            shape = graph[name]
            parent = shape.parent if shape.parent in graph else None
            if parent is not None:
                done(parent)
            start = (built[parent] if parent is not None else 0.0) + shape.wait
            slowest = max(scale(name, p, s) if scale else s for p, s in shape.builds.items())
            built[name] = start + shape.lead + slowest
            ends[name] = built[name] + shape.finish
        return ends[name]

    return max((done(name) for name in graph), default=0.0)


def native(platform: str, like: str = "linux/amd64") -> Callable[[Mapping[str, Shape]], Scale]:
    """A SCALE in which PLATFORM's builds take what the same image's LIKE build took (a native node as fast)."""

    def scale_for(graph: Mapping[str, Shape]) -> Scale:
        def scale(image: str, p: str, seconds: float) -> float:
            return graph[image].builds.get(like, seconds) if p == platform else seconds

        return scale

    return scale_for


def model_rows(runs: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The figures the results file holds: per run its measured wall, the model's wall from its own parts,
    and with arm64 as fast as amd64; the pair on two engines predicted from the pair on one."""
    rows = []
    for label, report in runs.items():
        graph = shapes(report)
        rows.append(
            {
                "run": label,
                "measured": round(measured_wall(report), 1),
                "model": round(predict(graph), 1),
                "native_arm64": round(predict(graph, native("linux/arm64")(graph)), 1),
                "builds": {n: {p: round(s, 1) for p, s in g.builds.items()} for n, g in graph.items()},
            }
        )
    if "pair, one engine" in runs and "pair, two engines" in runs:
        predicted = predict(shapes(runs["pair, one engine"]))
        measured = measured_wall(runs["pair, two engines"])
        rows.append({"run": "check: pair, two engines, from pair, one engine", "measured": round(measured, 1),
                     "model": round(predicted, 1), "error": round((predicted - measured) / measured, 3)})  # fmt: skip
    return rows


def markdown(rows: list[dict[str, Any]], described: str) -> str:
    lines = [described, "", "| run | measured s | model s | model, arm64 native s | builds s (amd64 / arm64) |",
             "|---|---|---|---|---|"]  # fmt: skip
    for row in rows:
        builds = "; ".join(
            f"{n} {b.get('linux/amd64', '-')} / {b.get('linux/arm64', '-')}" for n, b in row.get("builds", {}).items()
        )
        error = f" (error {row['error']:+.0%})" if "error" in row else ""
        lines.append(
            f"| {row['run']} | {row['measured']} | {row['model']}{error} | {row.get('native_arm64', '')} | {builds} |"
        )
    return "\n".join(lines) + "\n"


def measure(bench: Bench) -> dict[str, dict[str, Any]]:
    pair = [w for name in PAIR for w in ("--only", name)]
    runs: dict[str, list[str]] = {
        "family, one engine": [],
        "pair, one engine": pair,
        "pair, two engines": [*pair, "--builder", f"linux/arm64={NODE}"],
    }
    reports = {}
    for i, (label, flags) in enumerate(runs.items()):
        empty_engine()
        if "two engines" in label:
            reset_node()
        sample = bench.baseimages(bench.namespace(f"scale{i}", "baseimages"), flags)
        print(f"    {label:<22} {sample.seconds:7.2f} s", flush=True)
        reports[label] = bench.last_report
    node("reset")
    return reports


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--render", type=Path, metavar="JSON", help="only print the table of an earlier run")
    args = parser.parse_args(argv)
    if args.render:
        data = json.loads(args.render.read_text())
        print(markdown(data["rows"], describe(data)))
        return 0
    meta = metadata()
    with tempfile.TemporaryDirectory(prefix="baseimages-scale-") as tmp:
        reports = measure(Bench(Path(tmp), verbose=True))
    rows = model_rows(reports)
    keep = {label: {"images": [{k: i[k] for k in ("name", "parent_ref", "repository", "timeline", "platform_timeline")}
                               for i in r["images"]]} for label, r in reports.items()}  # fmt: skip
    path = write_results(args.out / "scale-model.json", {"rows": rows, "reports": keep, "family": FAMILY}, meta)
    table = markdown(rows, describe({"meta": meta}))
    (args.out / "scale-model.md").write_text(table)
    print(f"\n{table}\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
