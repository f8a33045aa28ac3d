"""benchmarks/run.py: the order of the tools alternates between rounds, and bake's timer includes its
bake file; bench_report's table shows what a results file did not record as not recorded."""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from bench_model import Sample, Scenario  # noqa: E402
from bench_report import markdown  # noqa: E402
from fake_image import make_image  # noqa: E402
from floor import CHAINED, REPRODUCIBLE  # noqa: E402
from run import FAMILY, Bench, _same_failure_again  # noqa: E402
from scenarios import cold_namespace, order  # noqa: E402


def test_the_tool_that_goes_first_alternates_between_rounds() -> None:
    assert [order(r)[0] for r in range(4)] == ["baseimages", "bake", "baseimages", "bake"]
    assert sorted(order(1)) == sorted(order(0))


def test_a_cold_run_done_again_after_a_registry_error_gets_a_namespace_without_the_failed_attempts_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("run.ROOT", tmp_path)
    (tmp_path / "images").mkdir()
    bench = Bench(tmp_path / "work", verbose=False)
    first = cold_namespace(bench, "cold", "bake", 0, 0)
    assert first == bench.namespace("cold", "bake", 0)
    assert len({first, cold_namespace(bench, "cold", "bake", 0, 1), cold_namespace(bench, "cold", "bake", 1, 0)}) == 3


class FakeBuildx:
    def bake(self, files: list[str], progress: str, stream_logs: bool) -> Iterator[str]:
        yield "#1 [python311-uv linux/amd64 1/2] FROM base"
        yield "#1 DONE 0.0s"


def use_buildx(monkeypatch: pytest.MonkeyPatch, buildx: object) -> None:
    """python-on-whales as Bench.bake imports it, its docker client's buildx BUILDX."""
    fake = types.ModuleType("python_on_whales")
    fake.DockerClient = lambda **_: types.SimpleNamespace(buildx=buildx)  # type: ignore[attr-defined]
    errors = types.ModuleType("python_on_whales.exceptions")
    errors.DockerException = RuntimeError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "python_on_whales", fake)
    monkeypatch.setitem(sys.modules, "python_on_whales.exceptions", errors)


def test_bakes_timer_starts_before_its_bake_file_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_buildx(monkeypatch, FakeBuildx())
    bench = Bench(tmp_path, verbose=False)

    def slow_bake_file(namespace: str, edit: Any) -> None:
        time.sleep(0.2)

    monkeypatch.setattr(bench, "write_bake_file", slow_bake_file)
    sample = bench.bake("ns")
    assert sample.seconds >= 0.2
    assert [line for _, line in bench.last_bake] == ["#1 [python311-uv linux/amd64 1/2] FROM base", "#1 DONE 0.0s"]


def test_a_run_that_did_not_record_tests_alone_has_no_ratio_without_tests() -> None:
    scenario = Scenario("change", "3. one change")
    scenario.samples += [Sample("baseimages", 50.0, buildx_seconds=45.0, test_seconds=4.0), Sample("bake", 40.0)]
    row = markdown([scenario], "Measured then.").splitlines()[4]
    assert row.endswith("| 1.25 | 10% | 8% | not recorded |")
    scenario.samples[0].tests_alone = 4.0
    assert markdown([scenario], "Measured then.").splitlines()[4].endswith("| 1.15 |")


def _bench_in(root: Path, monkeypatch: pytest.MonkeyPatch, floor: str) -> Bench:
    """A Bench with FLOOR as its third tool, for a checkout at ROOT with no images."""
    monkeypatch.setattr("run.ROOT", root)
    (root / "images").mkdir()
    return Bench(root / "work", verbose=False, floor=floor)


def test_bake_made_reproducible_runs_bakes_file_edited_and_keeps_its_own_timeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _bench_in(tmp_path, monkeypatch, REPRODUCIBLE)
    assert bench.tools == ("baseimages", "bake", REPRODUCIBLE)
    edits: list[Any] = []
    runs = iter(range(100))

    class NumberedBuildx:  # each bake's progress says which run it was
        def bake(self, files: list[str], progress: str, stream_logs: bool) -> Iterator[str]:
            yield f"#1 [python311-uv linux/amd64 1/2] FROM base (run {next(runs)})"

    use_buildx(monkeypatch, NumberedBuildx())
    monkeypatch.setattr(bench, "write_bake_file", lambda namespace, edit: edits.append(edit))
    plain = bench.run("bake", bench.namespace("cold", "bake"))
    made = bench.run(REPRODUCIBLE, bench.namespace("cold", REPRODUCIBLE))
    assert (plain.tool, made.tool) == ("bake", REPRODUCIBLE)
    assert edits[0] is None and callable(edits[1])
    definition: dict[str, Any] = {"target": {"uv": {}}}
    edits[1](definition)
    assert "rewrite-timestamp=true" in definition["target"]["uv"]["output"][0]
    assert set(bench.last_bakes) == {"bake", REPRODUCIBLE}
    assert bench.last_bakes["bake"] != bench.last_bakes[REPRODUCIBLE]


def test_bake_made_reproducible_chained_bakes_the_parent_then_its_children_from_its_oci_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bench = _bench_in(tmp_path, monkeypatch, CHAINED)
    parent = make_image("uv")
    baked: list[dict[str, Any]] = []

    def write(namespace: str, edit: Any) -> None:  # the edited bake file, and the archives its bake writes
        chained = {"baseimages-parent": f"target:{FAMILY[0]}"}
        targets = {name: {"contexts": dict(chained) if name != FAMILY[0] else {}} for name in FAMILY}
        definition: dict[str, Any] = {"group": {"default": {"targets": list(FAMILY)}}, "target": targets}
        edit(definition)
        baked.append(definition)
        for name in definition["group"]["default"]["targets"]:
            dest = definition["target"][name]["output"][0].split("dest=")[1].split(",")[0]
            (parent if name == FAMILY[0] else make_image(name)).write_archive(Path(dest), name=name)

    class Buildx:  # bake names a step's target only when it builds more than one
        def bake(self, files: list[str], progress: str, stream_logs: bool) -> Iterator[str]:
            yield "#1 [linux/amd64 1/2] FROM base" if len(baked) == 1 else f"#1 [{FAMILY[1]} linux/amd64 1/2] FROM uv"
            yield "#1 DONE 0.1s"

    use_buildx(monkeypatch, Buildx())
    monkeypatch.setattr(bench, "write_bake_file", write)
    sample = bench.run(CHAINED, bench.namespace("cold", CHAINED))
    assert (sample.tool, sample.failed_attempts) == (CHAINED, 0)
    assert [d["group"]["default"]["targets"] for d in baked] == [FAMILY[:1], FAMILY[1:]]
    layout = bench.work / "parent-layout"
    for child in FAMILY[1:]:
        assert baked[1]["target"][child]["contexts"]["baseimages-parent"] == f"oci-layout://{layout}@{parent.digest}"
    assert not layout.exists() and not (bench.work / "oci").exists()  # gigabytes, in a real run
    assert {bar[0] for bar in bench.chained_bars} == {f"{FAMILY[0]} [linux/amd64]", f"{FAMILY[1]} [linux/amd64]"}


def test_bake_is_repeated_after_registry_errors_but_not_after_the_same_mistake_twice() -> None:
    refused = 'ERROR: failed to solve: exporter option "rewrite-timestamp" conflicts with "unpack"'
    assert not _same_failure_again(refused, [])
    assert _same_failure_again(refused, [refused])
    server = "ERROR: failed to solve: unexpected status from HEAD request to http://localhost:5000/v2/x: 500"
    assert not _same_failure_again(server, [server])
