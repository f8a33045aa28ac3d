"""What the benchmark records: a timed run of one tool (Sample) and a scenario's runs (Scenario)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class Sample:
    tool: str
    seconds: float
    buildx_seconds: float | None = None  # baseimages: wall time inside buildx builds (union of intervals)
    test_seconds: float | None = None  # baseimages: smoke tests + contract services (union)
    push_seconds: float | None = None  # baseimages: uploads and tag moves (union)
    rebuilt: list[str] = field(default_factory=list)
    failed_attempts: int = 0  # bake: runs that failed (it does not retry a flaky registry) and were repeated
    cached: str | None = None  # what BuildKit's log says of the Dockerfile steps (scenario 5), e.g. "31 of 31 CACHED"


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
