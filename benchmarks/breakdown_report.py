"""breakdown.py's printout: per image set, each variant's median seconds, its ratio to bake's median in
the same run, and its difference to the product's commands as printed (what that piece costs)."""

from __future__ import annotations

import statistics

from bench_model import Scenario, without_tests

BAKE, PRODUCT, PUSH, MERGE, LOAD = "bake", "product commands", "the product's push", "merge", "load"


def markdown(scenarios: list[Scenario], measured: str, cold: bool) -> str:
    cache = "BuildKit's cache emptied before every timed run" if cold else "BuildKit's cache left warm"
    lines = [f"{measured} Both platforms (arm64 under QEMU), local registry, {cache}."]
    for scenario in scenarios:
        lines += ["", f"**{scenario.title}**", ""] + table(scenario)
        if scenario.note:
            lines += ["", f"Failed runs (left out): {scenario.note}"]
    lines += [
        "",
        "*against the product's commands*: the variant's median less the product commands' median (negative: "
        "that piece costs that much). bake's time includes its push; the variants upload nothing (the "
        "product uploads in its push stage, the *upload* row). *the product's push* is the whole path "
        "(builds, merge, load, upload, tests...) into a fresh namespace; its time without tests is its "
        "wall time less the seconds in which only tests ran (the benchmark's one definition).",
    ]
    return "\n".join(lines) + "\n"


def table(scenario: Scenario) -> list[str]:
    bake = scenario.stats(BAKE)
    base = scenario.stats(PRODUCT)
    rows = ["| run | n | median s | ratio to bake | against the product's commands |", "|---|---|---|---|---|"]
    tools = list(dict.fromkeys(s.tool for s in scenario.samples))
    for tool in [t for t in tools if t not in (BAKE, PUSH, MERGE, LOAD)] + [MERGE, LOAD, BAKE, PUSH]:
        st = scenario.stats(tool)
        if st is None:
            continue
        ratio = f"{st['median'] / bake['median']:.2f}" if bake and tool not in (MERGE, LOAD) else ""
        versus = (
            f"{st['median'] - base['median']:+.1f} s" if base and tool not in (PRODUCT, MERGE, LOAD, BAKE, PUSH) else ""
        )
        rows.append(f"| {_label(tool)} | {st['n']} | {st['median']:.1f} | {ratio} | {versus} |")
    rows += _push_parts(scenario, bake["median"] if bake else None)
    return rows


def _label(tool: str) -> str:
    return {
        MERGE: "merge of the platform archives (the product's function)",
        LOAD: "`docker image load` of the merged archive",
        BAKE: "bake of the same images, same builder",
    }.get(tool, tool)


def _push_parts(scenario: Scenario, bake: float | None) -> list[str]:
    """The product's push: its upload and tests alone from its report, and its time without tests."""
    samples = scenario.timed(PUSH)
    if not samples:
        return []
    upload = statistics.median((s.phases or {}).get("upload", 0.0) for s in samples)
    alone = [s.tests_alone for s in samples]
    out = [f"| of which upload (report) | | {upload:.1f} | | |"]
    if all(a is not None for a in alone):
        out.append(
            f"| of which tests alone (report) | | {statistics.median(a for a in alone if a is not None):.1f} | | |"
        )
    free = [without_tests(s) for s in samples]
    if bake and all(f is not None for f in free):
        median = statistics.median(f for f in free if f is not None)
        out.append(f"| the product's push without tests | | {median:.1f} | {median / bake:.2f} | |")
    return out
