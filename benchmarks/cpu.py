"""The machine's busy CPU time during a timed run, and what it says of any schedule of that run's work.

Every process counts (dockerd, BuildKit's steps, QEMU, the registry, the tool itself): the kernel's
`cpu` line of /proc/stat, whose busy fields are user, nice, system, irq, softirq and steal (guest time
is inside user already; idle and iowait are not busy). A run that kept the machine's CORES busy for
C CPU-seconds took at least C / CORES seconds, whatever the order of its work: that is the *CPU bound*
of the work the run did. It holds for that work only: a path that does less work is not bound by it.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from bench_model import Scenario

BUSY = (0, 1, 2, 5, 6, 7)  # user nice system [idle iowait] irq softirq steal
STAT = Path("/proc/stat")


def busy_seconds(stat: str | None = None) -> float:
    """The busy CPU-seconds since boot, all cores, from STAT's text (None: read /proc/stat now)."""
    text = STAT.read_text() if stat is None else stat
    fields = next(line for line in text.splitlines() if line.startswith("cpu ")).split()[1:]
    return sum(int(fields[i]) for i in BUSY if i < len(fields)) / os.sysconf("SC_CLK_TCK")


def cpu_table(scenarios: list[Scenario]) -> list[str]:
    """Per scenario and tool, the median busy CPU-seconds, the share of the cores they kept busy, and
    their CPU bound over bake's median wall time, as Markdown lines (none if no run recorded them)."""
    rows = []
    for scenario in scenarios:
        bake = scenario.stats("bake")
        if scenario.skipped or bake is None:
            continue
        for tool in dict.fromkeys(s.tool for s in scenario.samples):
            runs = [
                (s.seconds, s.cpu_seconds, s.cores)
                for s in scenario.timed(tool)
                if s.cpu_seconds is not None and s.cores
            ]
            if not runs:
                continue
            wall = statistics.median(seconds for seconds, _, _ in runs)
            cpu = statistics.median(busy for _, busy, _ in runs)
            share = statistics.median(busy / cores / seconds for seconds, busy, cores in runs)
            bound = statistics.median(busy / cores for _, busy, cores in runs)
            rows.append(
                f"| {scenario.title} | {tool} | {wall:.1f} | {cpu:.1f} | "
                f"{share:.0%} | {bound:.1f} | {bound / bake['median']:.2f}x |"
            )
    if not rows:
        return []
    return [
        "",
        "CPU (medians): the machine's busy CPU-seconds during each run, every process (/proc/stat), the share of "
        "the cores they kept busy, and the CPU bound, CPU-seconds / cores: no order of that run's work on these "
        "cores takes less (benchmarks/cpu.py); over bake's median wall time.",
        "",
        "| scenario | tool | wall s | CPU s | cores busy | CPU bound s | over bake |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
