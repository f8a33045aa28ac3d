"""monitoring/alerts.yml: Prometheus' own promtool accepts the rules, and runs their unit tests
(monitoring/alerts.test.yml), where every alert is seen firing and not firing."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml
from prometheus_processes import binary

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
ALERTS = {
    "BaseImageBuildSlow": "a build slower than 5 minutes",
    "BaseImageRebuildFailed": "a failed rebuild",
    "BaseImageNotPromoted": "no successful promotion of an image for 35 days",
    "BaseImageOverSizeBudget": "an image over its size budget",
    "BaseImageGrewOverBudget": "an image that grew over its parent by more than its budget allows",
    "BaseImageSecurityUpdateWaiting": "a security update installable for over 7 days",
    "BaseImageUpdateWaiting": "any update installable for over 35 days (informational)",
}


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary("promtool"), *args], cwd=MONITORING, capture_output=True, text=True, timeout=60)


def test_promtool_check_rules_accepts_the_alerts() -> None:
    checked = _promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout


def test_promtool_test_rules_passes_every_alerts_unit_tests() -> None:
    tested = _promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout


def test_promtool_test_rules_fails_when_an_alert_does_not_fire_as_its_test_expects(tmp_path: Path) -> None:
    # The unit tests have teeth: with the 5-minute threshold moved to 6, the slow build no longer fires.
    (tmp_path / "alerts.yml").write_text((MONITORING / "alerts.yml").read_text().replace("> 300", "> 360"))
    (tmp_path / "alerts.test.yml").write_text((MONITORING / "alerts.test.yml").read_text())
    tested = subprocess.run(
        [binary("promtool"), "test", "rules", "alerts.test.yml"], cwd=tmp_path, capture_output=True, text=True
    )
    assert tested.returncode == 1
    assert "alertname: BaseImageBuildSlow" in tested.stdout + tested.stderr


def _identity(series: str) -> tuple[str, ...]:
    """The labels of SERIES that tell images, platforms, phases and kinds of update apart."""
    labels = dict(re.findall(r'(\w+)="([^"]*)"', series))
    return tuple(labels.get(name, "") for name in ("image", "platform", "phase", "kind"))


def test_every_alert_is_unit_tested_firing_and_not_firing() -> None:
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    names = [rule["alert"] for group in rules["groups"] for rule in group["rules"]]
    assert names == list(ALERTS)
    tests = yaml.safe_load((MONITORING / "alerts.test.yml").read_text())["tests"]
    firing: set[str] = set()
    quiet: set[str] = set()
    for test in tests:
        identities = {_identity(series["series"]) for series in test["input_series"]}
        for case in test["alert_rule_test"]:
            expected = case.get("exp_alerts") or []
            if expected:
                firing.add(case["alertname"])
            if not expected or len(identities) > len(expected):  # some input series did not fire
                quiet.add(case["alertname"])
    assert firing == set(ALERTS)
    assert quiet == set(ALERTS)
