"""monitoring/dashboard.json: a Grafana dashboard whose every query, each panel's and each variable's, returns
data from the test Prometheus fed by a run (monitoring_stack.py), and whose thresholds are the alerts'."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from monitoring_stack import Stack

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
DASHBOARD = json.loads((MONITORING / "dashboard.json").read_text())
# Grafana's variables as a dashboard that shows everything sets them ("All" is `.*`), and its range.
VARIABLES = {"$job": ".*", "$image": ".*", "$platform": ".*", "$__range": "1h"}


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


PANELS = [p for p in _panels(DASHBOARD["panels"]) if p["type"] != "row"]
TARGETS = [(panel["title"], target) for panel in PANELS for target in panel["targets"]]


def _expand(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"a variable the test does not set: {expr}"
    return expr


def test_the_dashboard_draws_durations_success_sizes_retries_and_waiting_updates() -> None:
    exprs = " ".join(target["expr"] for _, target in TARGETS)
    for metric in (
        "baseimages_phase_duration_seconds",
        "baseimages_image_success",
        "baseimages_run_success",
        "baseimages_image_compressed_size_bytes",
        "baseimages_image_size_budget_bytes",
        "baseimages_image_registry_retries",
        "baseimages_image_last_promotion_timestamp_seconds",
        "baseimages_update_waiting_seconds",
        "baseimages_updates_installable",
    ):
        assert metric in exprs
    for panel in PANELS:
        assert panel["targets"] and panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert len({panel["id"] for panel in _panels(DASHBOARD["panels"])}) == len(list(_panels(DASHBOARD["panels"])))


@pytest.mark.parametrize(("title", "target"), TARGETS, ids=[f"{t}/{x['refId']}" for t, x in TARGETS])
def test_every_panel_query_returns_data_from_the_test_prometheus(fed_stack: Stack, title: str, target: dict) -> None:
    result = fed_stack.prometheus.query(_expand(target["expr"]))
    assert result, f"{title}: {target['expr']} returned no data"
    legend = re.findall(r"{{(\w+)}}", target.get("legendFormat", ""))
    for series in result:
        assert all(label in series["metric"] for label in legend), (title, legend, series["metric"])


VARIABLE_QUERIES = [v for v in DASHBOARD["templating"]["list"] if v["type"] == "query"]


@pytest.mark.parametrize("variable", VARIABLE_QUERIES, ids=[v["name"] for v in VARIABLE_QUERIES])
def test_every_variable_query_returns_values(fed_stack: Stack, variable: dict) -> None:
    match = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["query"]["query"])
    assert match, variable["query"]
    values = fed_stack.prometheus.label_values(match[2], _expand(match[1]))
    expected = {
        "job": {"baseimages", "node"},
        "image": {"uv", "ml", "security", "broken"},
        "platform": {"linux/amd64", "linux/arm64"},
    }[variable["name"]]
    assert set(values) == expected


def _alert_threshold(name: str) -> float:
    """The number an alert's expression compares with (`> N` or `> N * M`)."""
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    (expr,) = [r["expr"] for g in rules["groups"] for r in g["rules"] if r.get("alert") == name]
    match = re.search(r">\s*([\d.]+)(?:\s*\*\s*([\d.]+))?\s*$", expr)
    if match is None:
        return 1.0  # a comparison of two series (size > budget): 100 % of the budget
    return float(match[1]) * float(match[2] or 1)


def _red_step(title: str) -> float:
    (panel,) = [p for p in PANELS if p["title"] == title]
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    (red,) = [s["value"] for s in steps if s["color"] == "red"]
    return float(red)


@pytest.mark.parametrize(
    ("alert", "panel", "unit"),
    [
        ("BaseImageBuildSlow", "Build duration per image (buildx, every platform at once)", 1),
        ("BaseImageNotPromoted", "Days since the last promotion", 86400),
        ("BaseImageNotPromoted", "Oldest promotion (days)", 86400),
        ("BaseImageOverSizeBudget", "Size budget used", 1),
        ("BaseImageGrewOverBudget", "Growth budget used", 1),
        ("BaseImageSecurityUpdateWaiting", "Oldest waiting update (days)", 86400),
    ],
)
def test_the_panels_thresholds_are_the_alerts(alert: str, panel: str, unit: float) -> None:
    assert _red_step(panel) * unit == _alert_threshold(alert)
    (found,) = [p for p in PANELS if p["title"] == panel]
    assert alert in found["description"] or alert in str(found)
