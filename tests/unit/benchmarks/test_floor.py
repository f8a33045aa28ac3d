"""benchmarks/floor.py: bake made reproducible, and the floor ratio it gives with baseimages' tests;
run.py rotates the three tools between rounds."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from bench_model import Sample, Scenario  # noqa: E402
from bench_report import markdown  # noqa: E402
from floor import CHAINED, REPRODUCIBLE, day_epoch, floor_rows, from_layout, reproducible  # noqa: E402
from scenarios import order  # noqa: E402

THREE = ("baseimages", "bake", REPRODUCIBLE)


def test_reproducible_bake_targets_get_the_build_epoch_rewritten_timestamps_an_archive_and_max_provenance(
    tmp_path: Path,
) -> None:
    definition = {
        "target": {
            "uv": {"args": {"BASE_IMAGE": "python:3.11-slim"}, "output": ["type=image,push=true"]},
            "ml": {"output": ["type=image,push=true"]},
        }
    }
    reproducible(day_epoch(dt.datetime(2026, 12, 6, 11, 30, tzinfo=dt.UTC)), 1, tmp_path)(definition)
    for name, target in definition["target"].items():
        assert target["args"]["SOURCE_DATE_EPOCH"] == "1796515200"  # 2026-12-06T00:00:00Z
        # an OCI archive: the docker driver refuses rewrite-timestamp into its image store
        option = "rewrite-timestamp=true,compression=gzip,compression-level=1"
        assert target["output"] == [f"type=oci,dest={tmp_path}/{name}.tar,{option}"]
        assert target["attest"] == ["type=provenance,mode=max"]
    assert definition["target"]["uv"]["args"]["BASE_IMAGE"] == "python:3.11-slim"


def test_three_tools_order_rotates_so_that_each_goes_first_in_turn() -> None:
    assert [order(r, THREE)[0] for r in range(3)] == list(THREE)
    assert all(sorted(order(r, THREE)) == sorted(THREE) for r in range(4))


def test_the_floor_adds_the_time_only_tests_ran_to_reproducible_bake_and_divides_by_bake() -> None:
    scenario = Scenario("cold", "1. cold")
    scenario.samples += [
        Sample("baseimages", 300.0, tests_alone=30.0),
        Sample("bake", 200.0),
        Sample(REPRODUCIBLE, 240.0),
        Sample("bake", 999.0, failed_attempts=1),  # repeated after a registry error: does not count
    ]
    rows = floor_rows(scenario)
    assert rows is not None
    assert rows["median"] == {"baseimages": 300.0, "bake": 200.0, REPRODUCIBLE: 240.0}
    assert (rows["ratio"], rows["reproducible_ratio"], rows["floor_ratio"]) == (1.5, 1.2, 1.35)
    table = markdown([scenario], "measured here")
    assert "|  | bake, reproducible | 1 | 240.00 | 240.00 | 240.00 |" in table
    row = "| 1. cold | bake, reproducible | 200.0 | 240.0 | 1.20 | 30.0 | (240.0 + 30.0) / 200.0 = **1.35x** | 1.50x |"
    assert row in table


def test_a_scenario_without_bake_made_reproducible_has_no_floor_row() -> None:
    scenario = Scenario("noop", "2. no-op", [Sample("baseimages", 0.5, tests_alone=0.0), Sample("bake", 5.0)])
    assert floor_rows(scenario) is None
    assert "The floor" not in markdown([scenario], "measured here")


def test_bake_made_reproducible_can_build_only_the_images_baseimages_rebuilds(tmp_path: Path) -> None:
    definition: dict[str, Any] = {
        "group": {"default": {"targets": ["uv", "ml", "security"]}},
        "target": {"uv": {}, "ml": {}, "security": {}},
    }
    reproducible(0, 1, tmp_path, only=["security"])(definition)
    assert definition["group"]["default"]["targets"] == ["security"]


def test_chained_children_read_their_parent_from_its_oci_layout_instead_of_its_bake_target(tmp_path: Path) -> None:
    definition: dict[str, Any] = {
        "target": {
            "uv": {"contexts": {"wheelhouse": "/opt/wheels"}},
            "ml": {"contexts": {"wheelhouse": "/opt/wheels", "baseimages-parent": "target:uv"}},
        }
    }
    from_layout(tmp_path / "uv", "sha256:" + "a" * 64)(definition)
    assert definition["target"]["ml"]["contexts"] == {
        "wheelhouse": "/opt/wheels",
        "baseimages-parent": f"oci-layout://{tmp_path}/uv@sha256:{'a' * 64}",
    }
    assert definition["target"]["uv"]["contexts"] == {"wheelhouse": "/opt/wheels"}


def test_the_chained_floor_gets_a_row_of_its_own_named_after_it() -> None:
    scenario = Scenario("cold", "1. cold")
    scenario.samples += [Sample("baseimages", 300.0, tests_alone=30.0), Sample("bake", 200.0), Sample(CHAINED, 220.0)]
    rows = floor_rows(scenario, CHAINED)
    assert rows is not None and rows["floor_ratio"] == 1.25
    assert floor_rows(scenario) is None  # no run of bake made reproducible in one bake
    table = markdown([scenario], "measured here")
    assert "|  | bake, reproducible, chained | 1 | 220.00 |" in table
    assert "| 1. cold | bake, reproducible, chained | 200.0 | 220.0 | 1.10 | 30.0 |" in table
