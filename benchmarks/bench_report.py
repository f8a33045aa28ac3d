"""The benchmark's printout: where it was measured (results_meta's line) and the Markdown table of its scenarios."""

from __future__ import annotations

import statistics

from bench_model import BREAKDOWN, Sample, Scenario, without_tests
from cpu import cpu_table
from floor import FLOORS, floor_table

NOT_RECORDED = "not recorded"


def markdown(scenarios: list[Scenario], measured: str) -> str:
    """The table of SCENARIOS under MEASURED (results_meta.describe's line)."""
    lines = [
        f"{measured} Both platforms (arm64 under QEMU), local registry.",
        "",
        "| scenario | tool | n | min s | median s | max s | median ratio baseimages/bake | baseimages outside buildx | "
        "of which smoke + contract | ratio without tests |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario in scenarios:
        if scenario.skipped:
            lines.append(f"| {scenario.title} | | | | | | {scenario.skipped} | | | |")
            continue
        bi, bk = scenario.stats("baseimages"), scenario.stats("bake")
        if not bi and not bk and scenario.note:
            lines.append(f"| {scenario.title} | | | | | | below the table | | | |")
            continue
        if not bi or not bk:
            lines.append(f"| {scenario.title} | | | | | | no valid run of {'bake' if bi else 'baseimages'} | | | |")
            continue
        ratio = bi["median"] / bk["median"]
        samples = scenario.timed("baseimages")
        outside = statistics.median(1 - (s.buildx_seconds or 0) / s.seconds for s in samples)
        tests = statistics.median((s.test_seconds or 0) / s.seconds for s in samples)
        no_tests = _ratio_without_tests(samples, bk["median"])
        rows = [("baseimages", bi), ("bake", bk)]
        rows += [(floor, st) for floor in FLOORS for st in [scenario.stats(floor)] if st]
        for tool, st in rows:
            extra = f"{ratio:.2f} | {outside:.0%} | {tests:.0%} | {no_tests}" if tool == "baseimages" else " | | | "
            lines.append(
                f"| {scenario.title if tool == 'baseimages' else ''} | {tool} | {st['n']} | {st['min']:.2f} | "
                f"{st['median']:.2f} | {st['max']:.2f} | {extra} |"
            )
    lines += floor_table(scenarios)
    lines += cpu_table(scenarios)
    lines += _breakdown(scenarios)
    lines += [f"\n{scenario.note}" for scenario in scenarios if scenario.note]
    failures = sum(s.failed_attempts for sc in scenarios for s in sc.samples)
    lines += [
        "",
        f"bake runs that failed on a registry error and were repeated: {failures}. Outside the no-op scenario a "
        "repeated run is left out (n shows it): the failed attempt had already built its work; in scenario 5 the "
        "engine is emptied again before the repeat, which counts. baseimages retries "
        "each registry request and needed no repeat.",
    ]
    return "\n".join(lines) + "\n"


def _ratio_without_tests(samples: list[Sample], bake_median: float) -> str:
    """The median of baseimages' time without tests (bench_model.without_tests) over bake's median wall
    time; NOT_RECORDED when a run did not record it."""
    values = [without_tests(s) for s in samples]
    if not values or any(v is None for v in values):
        return NOT_RECORDED
    return f"{statistics.median(v for v in values if v is not None) / bake_median:.2f}"


def _median_or_not(values: list[float | None]) -> str:
    if not values or any(v is None for v in values):
        return NOT_RECORDED
    return f"{statistics.median(v for v in values if v is not None):.1f}"


def _breakdown(scenarios: list[Scenario]) -> list[str]:
    """baseimages' time per phase, each the median over the counted runs of the union of that phase's
    intervals over every image (phases overlap: they do not add up to the wall time)."""
    rows = []
    for scenario in scenarios:
        samples = [s for s in scenario.timed("baseimages") if s.phases is not None]
        if scenario.skipped or not samples:
            continue
        cells = [statistics.median(s.seconds for s in samples)]
        cells += [statistics.median((s.phases or {}).get(name, 0.0) for s in samples) for name in BREAKDOWN]
        alone = _median_or_not([s.tests_alone for s in samples])
        rows.append(f"| {scenario.title} | " + " | ".join(f"{c:.1f}" for c in cells) + f" | {alone} |")
    if not rows:
        return []
    return [
        "",
        "baseimages' breakdown (median s; each phase is the union of its intervals over the images, so phases "
        "that ran at the same time overlap and do not add up to the wall time; *tests alone* is the time in "
        "which a smoke test or contract ran and nothing else did, what the time without tests leaves out):",
        "",
        "| scenario | wall | build | upload | smoke | contract | tests alone |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
