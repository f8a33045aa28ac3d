"""Scenario 5 of benchmarks/run.py: builds on a fresh engine, with and without the registry build cache.

The fresh engine is an instance of `scripts/node2` of the benchmark's own (a dockerd, Docker context,
bridge and data folder of its own, so that tests using node2 are not disturbed), reset before every timed
run: an empty image store and an empty BuildKit cache. Every platform builds there:
baseimages with `--builder linux/amd64=NODE --builder linux/arm64=NODE` (its smoke tests and contract
services still run on the main engine, which loads what was built), bake with `--builder NODE`.

  5a  `push --force` of the unchanged family (bake: the family baked again)
  5b  one change: a file in python311-security's context (bake: the family baked again)

each by both tools without and with the registry cache, alternating (which tool goes first rotates
between rounds); with the cache, bake made reproducible (floor.py) too, unless the run leaves it out
(--no-floor), and only with it when asked (--fresh-cache-only). Before the timed runs, one untimed
run per tool and cache setting on the main engine publishes the family and, with the cache, fills the
cache refs (BuildKit keys a step by its inputs, so a cache one engine wrote serves any other). 5a's runs
leave every namespace as its setup did; 5b's change follows them.
- baseimages with the cache: its default, `REPO:buildcache-<arch>` (one ref per platform, mode=max);
  without: `--no-build-cache`.
- bake with the cache: `cache-from`/`cache-to` `type=registry,ref=REPO:buildcache,mode=max` added to each
  target of its bake file: the same kind of ref, one per image, because bake builds an image's two
  platforms in one build, whose cache export holds both; without: neither.
In 5a with the cache, BuildKit's logs say which Dockerfile steps were CACHED: all of them (FROM aside:
a base's layers are fetched for the export, not built), on an empty engine, is what the cache promises.

The cache's effect (time without it / with it) compares like with like: wall times where both runs did
the same work (promoted the same images), else only the time inside buildx (both built every image;
`push --force` of an unchanged family settles with the cache but may promote images without it, whose
uploads and tests the cached run did not do).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench_model import Sample, Scenario
from floor import CHAINED, REPRODUCIBLE

if TYPE_CHECKING:
    from run import Bench

ROOT = Path(__file__).resolve().parents[1]
NODE_SCRIPT = ROOT / "scripts" / "node2"
# An instance of scripts/node2 of the benchmark's own (its context, bridge, subnet, data and run folders),
# so that resetting it never disturbs a node2 the tests use.
NODE = "baseimages-bench-node"  # the Docker context, which buildx knows as a builder of that name
NODE_ENV = {
    "BASEIMAGES_NODE2_NAME": NODE,
    "BASEIMAGES_NODE2_BRIDGE": "bi-bench",
    "BASEIMAGES_NODE2_BRIDGE_CIDR": "172.31.251.1/24",
    "BASEIMAGES_NODE2_SUBNET": "172.31.251.0/24",
    "BASEIMAGES_NODE2_STATE": "/var/lib/baseimages-bench-node",
    "BASEIMAGES_NODE2_RUN": "/run/bi-bench",
}
FAMILY = ["python311-uv", "python311-ml", "python311-security"]

# buildx plain progress: `#12 [builder 2/4] RUN ...`, `#12 CACHED`; baseimages' logs prefix each line of a
# platform's build with `[linux/arm64] ` (its two builds number their steps each from 1).
_STEP = re.compile(r"^(?:\[(?P<platform>[a-z0-9]+/[^\]]+)\] )?#(?P<id>\d+) \[(?P<name>[^\]]*\b\d+/\d+)\] (?P<op>\S+)")
_CACHED = re.compile(r"^(?:\[(?P<platform>[a-z0-9]+/[^\]]+)\] )?#(?P<id>\d+) CACHED\s*$")


def step_cache(lines: Iterable[str], platform_builds: bool) -> tuple[int, int, list[str]]:
    """How many of the Dockerfile steps that make layers (RUN, COPY, ...; not FROM, whose base layers are
    fetched, not built) in buildx's plain progress LINES were CACHED, of how many, and those that were
    not. PLATFORM_BUILDS: only lines of per-platform builds count (baseimages' log also holds its contract
    service's build)."""
    steps: dict[tuple[str, str], str] = {}
    cached: set[tuple[str, str]] = set()
    for line in lines:
        if (match := _STEP.match(line)) is not None:
            if (match["platform"] or not platform_builds) and match["op"] != "FROM":
                steps.setdefault((match["platform"] or "", match["id"]), f"[{match['name']}] {match['op']}")
        elif (match := _CACHED.match(line)) is not None:
            cached.add((match["platform"] or "", match["id"]))
    missed = [f"{key[0]} {name}".strip() for key, name in steps.items() if key not in cached]
    return len(steps) - len(missed), len(steps), missed


def node(*commands: str) -> None:
    """Run scripts/node2 COMMANDS on the benchmark's own node."""
    for command in commands:
        done = subprocess.run([str(NODE_SCRIPT), command], capture_output=True, text=True, env=os.environ | NODE_ENV)
        if done.returncode != 0:
            raise SystemExit(f"scripts/node2 {command} failed:\n{done.stdout}{done.stderr}")


def reset_node() -> None:
    """An empty second engine: its data removed (image store, BuildKit cache), then started again."""
    node("reset", "up")


def _bake_cache(definition: dict[str, Any]) -> None:
    """Give every target of a bake file the registry cache: one ref per image (both platforms)."""
    for target in definition["target"].values():
        repository = target["tags"][0].rsplit(":", 1)[0]
        ref = f"type=registry,ref={repository}:buildcache"
        target["cache-from"] = [ref]
        target["cache-to"] = [f"{ref},mode=max,ignore-error=true"]


def variants(tools: tuple[str, ...], round_: int, caches: tuple[bool, ...]) -> list[tuple[str, bool]]:
    """ROUND_'s runs: per setting of CACHES, TOOLS (bake made reproducible only with the cache) in an order
    that rotates between rounds."""
    from scenarios import order

    chosen = []
    for cache in caches:
        these = tuple(t for t in tools if t != CHAINED and (cache or t != REPRODUCIBLE))
        chosen += [(tool, cache) for tool in order(round_, these)]
    return chosen


def _bake_edit(bench: Bench, tool: str, cache: bool) -> Callable[[dict[str, Any]], None] | None:
    """The edit of bake's file for TOOL (bake, or bake made reproducible) with or without the CACHE."""
    if tool == REPRODUCIBLE:
        return bench.made_reproducible(_bake_cache if cache else None)
    return _bake_cache if cache else None


def _run(bench: Bench, tool: str, cache: bool, namespace: str, node: bool, flags: list[str], check: bool) -> Sample:
    """One run of TOOL, with or without the registry CACHE, on the second NODE or the main engine.
    CHECK: read BuildKit's logs for CACHED steps (the sample's `cached`)."""
    if tool != "baseimages":
        log: list[str] = []
        sample = bench.bake(
            namespace,
            builder=NODE if node else None,
            edit=_bake_edit(bench, tool, cache),
            log=log if check else None,
            before_repeat=reset_node if node else None,  # the repeat on an empty engine again
            tool=tool,
        )
        if check:
            done, total, missed = step_cache(log, platform_builds=False)
            sample.cached = _says(done, total, missed)
        return sample
    extra = [*flags] + ([] if cache else ["--no-build-cache"])
    if node:
        extra += ["--builder", f"linux/amd64={NODE}", "--builder", f"linux/arm64={NODE}"]
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as logs:
        sample = bench.baseimages(namespace, extra, logs=Path(logs) if check else None)
        if check:
            parts = [step_cache(_lines(Path(logs) / f"{name}.log"), platform_builds=True) for name in FAMILY]
            done, total = sum(p[0] for p in parts), sum(p[1] for p in parts)
            sample.cached = _says(done, total, [m for p in parts for m in p[2]])
            sample.cached += " (" + ", ".join(f"{n}: {p[0]}/{p[1]}" for n, p in zip(FAMILY, parts, strict=True)) + ")"
    return sample


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.is_file() else []


def _says(done: int, total: int, missed: list[str]) -> str:
    text = f"{done} of {total} Dockerfile steps (FROM aside) CACHED"
    return text + (f"; not: {'; '.join(missed[:6])}" if missed else "")


def fresh_engine(
    bench: Bench,
    rounds: int,
    set_up: bool = True,
    caches: tuple[bool, ...] = (True, False),
    kinds: tuple[str, ...] = ("force", "change"),
) -> list[Scenario]:
    """Scenarios 5a and 5b (KINDS "force" and "change"), each with and without the registry cache (four
    table rows; CACHES (True,): with it alone). Without SET_UP, the namespaces of BENCH's run id are those
    an earlier (interrupted) run set up."""
    reset_node()
    bake_note = "bake: REPO:buildcache, one ref per image"
    scenarios = {
        ("force", True): Scenario("fresh-force-cache", f"5a. fresh engine, push --force, registry cache ({bake_note})"),
        ("force", False): Scenario("fresh-force", "5a. fresh engine, push --force, no registry cache"),
        ("change", True): Scenario("fresh-change-cache", f"5b. fresh engine, one change, registry cache ({bake_note})"),
        ("change", False): Scenario("fresh-change", "5b. fresh engine, one change, no registry cache"),
    }
    for r in range(rounds):
        runs = variants(bench.tools, r, caches)
        spaces = {(tool, cache): bench.namespace(f"fresh{r}{'c' if cache else 'n'}", tool) for tool, cache in runs}
        for tool, cache in variants(bench.tools, 0, caches):
            if set_up and (cache or tool == "baseimages"):  # bake without cache asks the registry nothing
                _run(bench, tool, cache, spaces[tool, cache], node=False, flags=[], check=False)
        for kind, flags in [(k, ["--force"] if k == "force" else []) for k in kinds]:
            if kind == "change":
                bench.bump("python311-security", f"# bench {r} {bench.run_id}")
            _timed(bench, runs, scenarios, kind, flags, spaces, last=r == rounds - 1)
    node("reset")  # stopped, its data and its context gone
    chosen = [s for (kind, cache), s in scenarios.items() if cache in caches and kind in kinds]
    annotate(chosen)
    return chosen


def _timed(
    bench: Bench,
    runs: list[tuple[str, bool]],
    scenarios: dict[tuple[str, bool], Scenario],
    kind: str,
    flags: list[str],
    spaces: dict[tuple[str, bool], str],
    last: bool,
) -> None:
    """The timed RUNS of scenario 5a or 5b (KIND), each on a fresh engine; in the LAST round, each cache
    setting's timeline once all its tools ran."""
    for i, (tool, cache) in enumerate(runs):
        if i == 0 or runs[i - 1][1] != cache:
            bench.last_bakes = {}
        reset_node()
        check = kind == "force" and cache
        sample = _run(bench, tool, cache, spaces[tool, cache], node=True, flags=flags, check=check)
        scenarios[kind, cache].samples.append(sample)
        if bench.verbose:
            print(f"    5{'a' if kind == 'force' else 'b'} {tool:<18} cache={cache!s:<5} "
                  f"{sample.seconds:7.2f} s  {sample.cached or ''}", flush=True)  # fmt: skip
        if last and (i == len(runs) - 1 or runs[i + 1][1] != cache):
            bench.timeline(scenarios[kind, cache].name, scenarios[kind, cache].title)


def annotate(scenarios: list[Scenario]) -> None:
    """Give each with-cache scenario of SCENARIOS the note of the cache's effect against its no-cache one."""
    by_name = {s.name: s for s in scenarios}
    for kind in ("force", "change"):
        with_cache, without = by_name.get(f"fresh-{kind}-cache"), by_name.get(f"fresh-{kind}")
        if with_cache is not None and without is not None:
            with_cache.note = speedup(with_cache, without)


def speedup(with_cache: Scenario, without: Scenario) -> str:
    """The registry cache's effect per tool (median without / median with: above 1 it saves time), like
    with like (see the module's doc), and the CACHED check."""
    parts = [part for tool in ("baseimages", "bake") if (part := _effect(tool, with_cache, without))]
    checks = [f"{s.tool}: {s.cached}" for s in with_cache.samples if s.cached]
    text = f"{with_cache.title.split(',')[0]}: time without the registry cache / with it: " + "; ".join(parts)
    return text + (". BuildKit's logs on the fresh engine: " + " | ".join(checks) if checks else "")


def _effect(tool: str, with_cache: Scenario, without: Scenario) -> str | None:
    fast, slow = with_cache.timed(tool), without.timed(tool)
    if not fast or not slow:
        return None
    done = {", ".join(sorted(s.rebuilt)) or "nothing" for s in fast + slow}
    if len(done) == 1:
        return f"{tool} {_median(slow, 'seconds') / _median(fast, 'seconds'):.2f} (wall time)"
    promoted = f"promoted {', '.join(sorted(slow[0].rebuilt)) or 'nothing'} without the cache and "
    promoted += f"{', '.join(sorted(fast[0].rebuilt)) or 'nothing'} with it"
    if any(s.buildx_seconds is None for s in fast + slow):
        return f"{tool}: not compared (it {promoted}: not the same work)"
    ratio = _median(slow, "buildx_seconds") / _median(fast, "buildx_seconds")
    return f"{tool} {ratio:.2f} inside buildx (its wall times are not compared: it {promoted})"


def _median(samples: list[Sample], field: str) -> float:
    return statistics.median(float(getattr(s, field)) for s in samples)
