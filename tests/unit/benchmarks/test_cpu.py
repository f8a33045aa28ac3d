"""The machine's busy CPU time and the CPU bound it sets (benchmarks/cpu.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from bench_model import Sample, Scenario  # noqa: E402
from cpu import busy_seconds, cpu_table  # noqa: E402

STAT = "cpu  100 20 30 1000 50 5 6 7 40 0\ncpu0 50 10 15 500 25 2 3 3 20 0\nintr 1 2 3\n"


def test_busy_time_counts_user_nice_system_irq_softirq_and_steal_not_idle_iowait_or_guest_twice() -> None:
    assert busy_seconds(STAT) == (100 + 20 + 30 + 5 + 6 + 7) / os.sysconf("SC_CLK_TCK")


def test_busy_time_of_this_machine_grows() -> None:
    first = busy_seconds()
    sum(i * i for i in range(200_000))
    assert busy_seconds() >= first > 0


def test_the_cpu_bound_is_the_busy_time_over_the_cores_against_bakes_median_wall_time() -> None:
    scenario = Scenario("cold", "1. cold", [Sample("bake", 100.0, cpu_seconds=180.0, cores=2)])
    scenario.samples += [Sample("bake, reproducible, chained", 130.0, cpu_seconds=250.0, cores=2)]
    rows = [line for line in cpu_table([scenario]) if line.startswith("| 1. cold")]
    assert rows == [
        "| 1. cold | bake | 100.0 | 180.0 | 90% | 90.0 | 0.90x |",
        "| 1. cold | bake, reproducible, chained | 130.0 | 250.0 | 96% | 125.0 | 1.25x |",
    ]


def test_runs_recorded_before_the_cpu_was_measured_give_no_table() -> None:
    scenario = Scenario("cold", "1. cold", [Sample("bake", 100.0), Sample("baseimages", 150.0)])
    assert cpu_table([scenario]) == []
