"""benchmarks/scale_model.py: a run's report cut into the model's parts, and the wall time they give."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from scale_model import markdown, measured_wall, model_rows, native, predict, shapes  # noqa: E402

NS = "localhost:5000/ns"


def image(
    name: str, parent: str | None, start: float, builds: dict[str, tuple[float, float]], end: float
) -> dict[str, Any]:
    built = max(b for _, b in builds.values())
    return {
        "name": name,
        "repository": f"{NS}/{name}",
        "parent_ref": f"{NS}/{parent}:candidate-1.0.0@sha256:aa" if parent else "python:3.11-slim@sha256:bb",
        "timeline": {"resolve": [start, start + 1], "build": [start + 1, built], "smoke": [built, end]},
        "platform_timeline": {p: {"build": list(span)} for p, span in builds.items()},
    }


# uv builds 2-10 (amd64) and 2-30 (arm64 under QEMU); its child starts at 35 (waits 5) and ends at 80.
REPORT = {
    "images": [
        image("uv", None, 1.0, {"linux/amd64": (2, 10), "linux/arm64": (2, 30)}, 40.0),
        image("child", "uv", 35.0, {"linux/amd64": (36, 46), "linux/arm64": (36, 70)}, 80.0),
        {"name": "skipped", "repository": f"{NS}/skipped", "timeline": {"resolve": [0.5, 0.6]}},
    ]
}


def test_shapes_cut_each_built_image_into_wait_lead_builds_and_finish_and_find_its_parent() -> None:
    graph = shapes(REPORT)
    assert set(graph) == {"uv", "child"}  # an image that built nothing is not part of the graph
    uv, child = graph["uv"], graph["child"]
    assert (uv.parent, uv.wait, uv.lead, uv.builds, uv.finish) == (
        None,
        1.0,
        1.0,
        {"linux/amd64": 8, "linux/arm64": 28},
        10,
    )
    assert (child.parent, child.wait, child.lead, child.finish) == ("uv", 5.0, 1.0, 10)


def test_the_model_gives_back_the_measured_wall_time_of_a_run_whose_images_follow_their_parents() -> None:
    assert measured_wall(REPORT) == 80.0
    assert predict(shapes(REPORT)) == 80.0


def test_arm64_on_a_native_node_takes_amd64s_build_time_and_shortens_the_chain() -> None:
    graph = shapes(REPORT)
    # uv: 1 + 1 + 8 -> built 10, the child waits 5 -> starts at 15, 1 + 10 -> built 26, finish 10 -> 36.
    assert predict(graph, native("linux/arm64")(graph)) == 36.0


def test_the_check_row_compares_the_two_engine_run_with_the_model_of_the_one_engine_run() -> None:
    slower = {"images": [dict(i) for i in REPORT["images"]]}
    slower["images"][1] = image("child", "uv", 35.0, {"linux/amd64": (36, 46), "linux/arm64": (36, 70)}, 100.0)
    rows = model_rows({"pair, one engine": REPORT, "pair, two engines": slower})
    check = rows[-1]
    assert check["run"].startswith("check:")
    assert (check["measured"], check["model"], check["error"]) == (100.0, 80.0, -0.2)
    table = markdown(rows, "measured somewhere")
    assert "| pair, one engine | 80.0 | 80.0 | 36.0 | uv 8.0 / 28.0; child 10.0 / 34.0 |" in table
    assert "(error -20%)" in table
