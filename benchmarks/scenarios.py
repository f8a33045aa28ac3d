"""The scenarios of benchmarks/run.py: each tool's runs, alternating, on a cold or a warm engine."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from bench_model import TOOLS, Scenario

if TYPE_CHECKING:
    from run import Bench

REPEATS = 3  # rounds done again at most when a run had to be repeated after a registry error


def empty_engine() -> None:
    """Empty BuildKit cache (cache mounts included) and no local images of the family."""
    from python_on_whales import docker

    docker.buildx.prune(all=True)
    remove_images()


def remove_images() -> None:
    """No local images of the family: each run leaves its images in the engine's store (a complete run's
    fill tens of gigabytes); a scenario's runs need none that another left."""
    from python_on_whales import docker

    for image in docker.image.list():
        names = [t for t in image.repo_tags if "/bench-" in t or "baseimages-contract/" in t]
        if names:
            docker.image.remove(names, force=True)


def alternate(
    bench: Bench,
    name: str,
    title: str,
    rounds: int,
    before: Callable[[], None] | None = None,
    cold: bool = False,
    tools: tuple[str, ...] = TOOLS,
    changed: list[str] | None = None,
) -> Scenario:
    """ROUNDS rounds of TOOLS, their order rotating between rounds (baseimages first, then bake...: none
    always runs on what another left warm). Warm scenarios first build and push once per tool
    (not timed); BEFORE runs before every timed run (the change under test); COLD empties the engine.
    CHANGED: the images the change makes baseimages rebuild, the only ones bake made reproducible builds
    in the timed runs (None: all; plain bake builds all, as a bake file does)."""
    scenario = Scenario(name, title)
    bench.last_bakes = {}
    if not cold:
        for tool in tools:
            bench.run(tool, bench.namespace(name, tool))
    for r in range(rounds):
        for tool in order(r, tools):
            for attempt in range(REPEATS):  # a run repeated after a registry error is not counted: again
                if cold:
                    empty_engine()
                if before is not None:
                    before()
                space = cold_namespace(bench, name, tool, r, attempt) if cold else bench.namespace(name, tool)
                sample = bench.run(tool, space, only=changed)
                scenario.samples.append(sample)
                if scenario.counts(sample):
                    break
    bench.timeline(name, title)
    return scenario


def cold_namespace(bench: Bench, name: str, tool: str, round_: int, attempt: int) -> str:
    """A cold run's namespace: its own per round, and per attempt: a run done again after a registry error
    must not find the registry cache the failed attempt exported (bake's is in the namespace), or it is no
    longer cold."""
    return bench.namespace(name, tool, round_) + (f"-again{attempt}" if attempt else "")


def order(round_: int, tools: tuple[str, ...] = TOOLS) -> tuple[str, ...]:
    """TOOLS in the order round ROUND_ runs them: rotated, so that none always goes first (two alternate)."""
    shift = round_ % len(tools)
    return tools[shift:] + tools[:shift]


def cold(bench: Bench, rounds: int) -> Scenario:
    title = "1. cold family build and push (empty BuildKit cache, empty registry)"
    return alternate(bench, "cold", title, rounds, cold=True, tools=bench.tools)


def noop(bench: Bench, rounds: int) -> Scenario:
    return alternate(bench, "noop", "2. no-op: the family unchanged, run again", rounds)


def one_change(bench: Bench, rounds: int) -> Scenario:
    def change() -> None:
        bench.bump("python311-security", f"# bench {uuid.uuid4().hex}")

    title = "3. one change: a file in python311-security's context"
    return alternate(bench, "change", title, rounds, change, tools=bench.tools, changed=["python311-security"])


def parent_change(bench: Bench, rounds: int) -> Scenario:
    def change() -> None:
        bench.bump("python311-uv", f"ENV BENCH_MARK={uuid.uuid4().hex}")
        bench.bump("python311-ml")
        bench.bump("python311-security")

    title = "4. parent change: python311-uv's Dockerfile (all three rebuild)"
    return alternate(bench, "parent", title, rounds, change, tools=bench.tools)


def overlap(bench: Bench, rounds: int) -> Scenario:
    from overlap import overlap as jobs_overlap  # scenario 4b, in a module of its own

    return jobs_overlap(bench, rounds)


def fresh(bench: Bench, rounds: int, set_up: bool, caches: tuple[bool, ...], kinds: tuple[str, ...]) -> list[Scenario]:
    from fresh_engine import fresh_engine  # scenario 5, in a module of its own

    return fresh_engine(bench, rounds, set_up, caches, kinds)
