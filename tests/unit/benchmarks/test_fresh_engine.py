"""Scenario 5's registry-cache effect compares like with like (benchmarks/fresh_engine.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from bench_model import Sample, Scenario  # noqa: E402
from floor import REPRODUCIBLE  # noqa: E402
from fresh_engine import speedup, variants  # noqa: E402

FAMILY = ["uv", "ml", "security"]


def scenarios(bi_cached: Sample, bi_uncached: Sample) -> tuple[Scenario, Scenario]:
    cached = Scenario("fresh-force-cache", "5a. fresh engine, push --force, registry cache", [bi_cached])
    cached.samples.append(Sample("bake", 40.0, rebuilt=FAMILY))
    uncached = Scenario("fresh-force", "5a. fresh engine, push --force, no registry cache", [bi_uncached])
    uncached.samples.append(Sample("bake", 360.0, rebuilt=FAMILY))
    return cached, uncached


def test_runs_that_promoted_different_images_are_compared_inside_buildx_not_by_wall_time() -> None:
    cached, uncached = scenarios(
        Sample("baseimages", 163.5, buildx_seconds=162.0, rebuilt=[]),
        Sample("baseimages", 455.4, buildx_seconds=324.0, rebuilt=["ml", "security"]),
    )
    note = speedup(cached, uncached)
    assert "baseimages 2.00 inside buildx" in note
    assert "promoted ml, security without the cache and nothing with it" in note
    assert "2.79" not in note and "2.7" not in note  # 455.4 / 163.5: wall times of different work
    assert "bake 9.00 (wall time)" in note


def test_runs_that_did_the_same_work_are_compared_by_wall_time() -> None:
    cached, uncached = scenarios(
        Sample("baseimages", 100.0, buildx_seconds=90.0, rebuilt=["security"]),
        Sample("baseimages", 150.0, buildx_seconds=140.0, rebuilt=["security"]),
    )
    assert "baseimages 1.50 (wall time)" in speedup(cached, uncached)


def test_bake_made_reproducible_runs_only_with_the_cache_and_the_first_tool_rotates_between_rounds() -> None:
    tools = ("baseimages", "bake", REPRODUCIBLE)
    first = variants(tools, 0, (True, False))
    assert first == [
        ("baseimages", True),
        ("bake", True),
        (REPRODUCIBLE, True),
        ("baseimages", False),
        ("bake", False),
    ]
    assert variants(tools, 1, (True, False))[0] == ("bake", True)
    assert variants(tools, 1, (True, False))[3] == ("bake", False)
    assert variants(tools, 2, (True,)) == [(REPRODUCIBLE, True), ("baseimages", True), ("bake", True)]
