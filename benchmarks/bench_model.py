"""What the benchmark records: a timed run of one tool (Sample) and a scenario's runs (Scenario)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

TESTS = ("smoke", "contract")
TOOLS = ("baseimages", "bake")  # the two tools every scenario times
BREAKDOWN = {"build": ("warm", "reuse", "build"), "upload": ("push",), "smoke": ("smoke",), "contract": ("contract",)}


@dataclass
class Sample:
    tool: str
    seconds: float
    buildx_seconds: float | None = None  # baseimages: wall time inside buildx builds (union of intervals)
    test_seconds: float | None = None  # baseimages: smoke tests + contract services (union)
    push_seconds: float | None = None  # baseimages: uploads and tag moves (union)
    phases: dict[str, float] | None = None  # baseimages: BREAKDOWN's phases, each the union of its intervals
    tests_alone: float | None = None  # baseimages: seconds in which a test ran and no other stage of any image
    # (None in runs recorded before it was measured: their time without tests is not known)
    rebuilt: list[str] = field(default_factory=list)
    failed_attempts: int = 0  # bake: runs that failed (it does not retry a flaky registry) and were repeated
    cached: str | None = None  # what BuildKit's log says of the Dockerfile steps (scenario 5), e.g. "31 of 31 CACHED"
    cpu_seconds: float | None = None  # the machine's busy CPU-seconds during the run, every process (cpu.py)
    cores: int | None = None  # the cores they were spent on


@dataclass
class Scenario:
    name: str
    title: str
    samples: list[Sample] = field(default_factory=list)
    skipped: str | None = None
    note: str | None = None  # printed under the table

    def timed(self, tool: str) -> list[Sample]:
        """TOOL's samples that count. A run repeated after a registry failure found its work already
        built by the failed attempt, so it counts only where there was nothing to build (the no-op), or
        where the engine was emptied again before the repeat (scenario 5's fresh engine)."""
        return [s for s in self.samples if s.tool == tool and self.counts(s)]

    def counts(self, sample: Sample) -> bool:
        return self.name == "noop" or self.name.startswith("fresh") or not sample.failed_attempts

    def stats(self, tool: str) -> dict[str, float] | None:
        values = [s.seconds for s in self.timed(tool)]
        if not values:
            return None
        return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def without_tests(sample: Sample) -> float | None:
    """baseimages' time without tests, the one definition every table and page uses: SAMPLE's wall time
    less the seconds in which a smoke test or contract ran and nothing else of the build path did (no
    build, upload, promotion... of any image), both from the same run's report. Seconds in which a test
    overlapped another image's build stay in: leaving the tests out would not have saved them.
    (Subtracting every second a test ran would flatter baseimages.) None when the run did not record it."""
    if sample.tests_alone is None:
        return None
    return sample.seconds - sample.tests_alone


Interval = tuple[float, float]


def intervals(images: list[dict[str, Any]], phases: tuple[str, ...] | None = None) -> list[Interval]:
    """The report's intervals of PHASES (None: every phase) over every image, sorted."""
    found = [tuple(t) for i in images for p, t in i.get("timeline", {}).items() if phases is None or p in phases]
    return sorted((float(a), float(b)) for a, b in found)


def merged(spans: list[Interval]) -> list[Interval]:
    """SPANS as disjoint intervals, sorted."""
    out: list[Interval] = []
    for start, stop in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], stop))
        else:
            out.append((start, stop))
    return out


def length(spans: list[Interval]) -> float:
    return sum(stop - start for start, stop in merged(spans))


def minus(spans: list[Interval], other: list[Interval]) -> float:
    """Seconds covered by SPANS and not by OTHER."""
    both = [(max(a, c), min(b, d)) for a, b in merged(spans) for c, d in merged(other) if min(b, d) > max(a, c)]
    return length(spans) - length(both)


def breakdown(images: list[dict[str, Any]]) -> tuple[dict[str, float], float]:
    """Each BREAKDOWN phase's union, and the seconds in which only tests ran (no build, upload, promotion...)."""
    phases = {name: length(intervals(images, keys)) for name, keys in BREAKDOWN.items()}
    others = tuple(p for i in images for p in i.get("timeline", {}) if p not in TESTS)
    return phases, minus(intervals(images, TESTS), intervals(images, others))
