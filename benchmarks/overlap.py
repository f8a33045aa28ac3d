"""Scenario 4b of benchmarks/run.py: the parent change by baseimages alone at other --jobs settings."""

from __future__ import annotations

import statistics
import uuid
from typing import TYPE_CHECKING

from bench_model import Scenario

if TYPE_CHECKING:
    from run import Bench


def overlap(bench: Bench, rounds: int) -> Scenario:
    """Scenario 4's parent change by baseimages alone, at --jobs 1 (an image's tests never overlap
    another's build) and 3 (both children build while their parent is tested), against the default 2
    (scenario 4's baseimages row): whether overlapping tests with builds helps here or slows both."""
    scenario = Scenario("overlap", "4b. parent change at --jobs 1 and 3 (baseimages only; 2 is row 4)")
    jobs = ("1", "3")
    for n in jobs:  # each setting's own namespace, built and pushed once first (not timed)
        bench.baseimages(bench.namespace(f"overlap{n}", "baseimages"), ["--jobs", n])
    for _ in range(rounds):
        for n in jobs:
            bench.bump("python311-uv", f"ENV BENCH_MARK={uuid.uuid4().hex}")
            bench.bump("python311-ml")
            bench.bump("python311-security")
            sample = bench.baseimages(bench.namespace(f"overlap{n}", "baseimages"), ["--jobs", n])
            sample.tool = f"--jobs {n}"
            scenario.samples.append(sample)
            if bench.verbose:
                print(f"    --jobs {n}  {sample.seconds:7.2f} s", flush=True)
    scenario.note = "4b. " + "; ".join(
        f"--jobs {n}: median {st['median']:.1f} s of {st['n']} (build {_median_phase(scenario, n, 'build'):.1f} s, "
        f"smoke {_median_phase(scenario, n, 'smoke'):.1f} s, contract {_median_phase(scenario, n, 'contract'):.1f} s)"
        for n in jobs
        if (st := scenario.stats(f"--jobs {n}"))
    )
    return scenario


def _median_phase(scenario: Scenario, jobs: str, phase: str) -> float:
    return statistics.median((s.phases or {}).get(phase, 0.0) for s in scenario.timed(f"--jobs {jobs}"))
