"""baseimages.outputs.metrics_publish with the real parts from Debian: a run's push lands in a prometheus-pushgateway,
its metrics file in a node_exporter's textfile collector, and a prometheus scraping both answers queries
with the durations of the run's JSON report and fires baseimages' alerts (see monitoring_stack.py)."""

from __future__ import annotations

import json

from monitoring_stack import Stack
from prometheus_client.parser import text_string_to_metric_families
from prometheus_processes import get

JOBS = ("baseimages", "node")  # the Pushgateway's job (honor_labels), the node_exporter's scrape job


def test_the_pushgateway_holds_a_group_per_image_and_one_for_the_run(fed_stack: Stack) -> None:
    groups = json.loads(get(f"{fed_stack.gateway.url}/api/v1/metrics"))["data"]
    keys = sorted(tuple(sorted(group["labels"].items())) for group in groups)
    images = sorted(image["name"] for image in fed_stack.report["images"])
    assert keys == sorted([(("job", "baseimages"),)] + [(("image", i), ("job", "baseimages")) for i in images])


def test_the_pushgateways_metrics_page_shows_the_durations_of_the_json_report(fed_stack: Stack) -> None:
    page = get(f"{fed_stack.gateway.url}/metrics").decode()
    shown = {
        (s.labels["image"], s.labels["phase"]): s.value
        for family in text_string_to_metric_families(page)
        for s in family.samples
        if s.name == "baseimages_phase_duration_seconds" and s.labels["platform"] == "all"
    }
    assert shown == fed_stack.seconds()
    assert 'baseimages_run_success{instance="",job="baseimages"} 0' in page  # broken failed the run


def test_a_prometheus_query_returns_the_durations_the_json_report_shows_from_both_sources(fed_stack: Stack) -> None:
    prometheus = fed_stack.prometheus
    for job in JOBS:
        queried = prometheus.values(
            f'baseimages_phase_duration_seconds{{job="{job}", platform="all"}}', "image", "phase"
        )
        assert queried == fed_stack.seconds(), job
    smoke = prometheus.values(
        'baseimages_phase_duration_seconds{job="node", phase="smoke", platform!="all"}', "image", "platform"
    )
    assert smoke == {
        (image["name"], platform["platform"]): platform["seconds"]
        for image in fed_stack.report["images"]
        for platform in image["platforms"]
    }


def test_the_run_duration_result_sizes_and_retries_reach_prometheus(fed_stack: Stack) -> None:
    prometheus = fed_stack.prometheus
    report = fed_stack.report
    assert prometheus.values("baseimages_run_exit_code", "job") == {(job,): report["exit_code"] for job in JOBS}
    sizes = prometheus.values('baseimages_image_compressed_size_bytes{job="baseimages"}', "image", "platform")
    assert sizes == {
        (image["name"], platform["platform"]): platform["compressed_bytes"]
        for image in report["images"]
        for platform in image["platforms"]
    }
    retries = prometheus.values('baseimages_image_registry_retries{job="baseimages"}', "image")
    assert retries == {("uv",): 0, ("ml",): 0, ("security",): 1, ("broken",): 0}


def test_prometheus_loads_the_alert_rules_and_fires_for_the_image_that_failed_its_size_budget(fed_stack: Stack) -> None:
    prometheus = fed_stack.prometheus
    rules = json.loads(get(f"{prometheus.url}/api/v1/rules"))["data"]["groups"]
    assert [(r["name"], r["health"]) for g in rules for r in g["rules"]] == [
        ("BaseImageBuildSlow", "ok"),
        ("BaseImageRebuildFailed", "ok"),
        ("BaseImageNotPromoted", "ok"),
        ("BaseImageOverSizeBudget", "ok"),
        ("BaseImageGrewOverBudget", "ok"),
        ("BaseImageSecurityUpdateWaiting", "ok"),
        ("BaseImageUpdateWaiting", "ok"),
    ]

    def firing() -> set[tuple[str, str, str, str]] | None:
        alerts = json.loads(get(f"{prometheus.url}/api/v1/alerts"))["data"]["alerts"]
        found = {
            (a["labels"]["alertname"], a["labels"]["image"], a["labels"]["platform"], a["labels"]["job"])
            for a in alerts
            if a["state"] == "firing"
        }
        return found if len(found) >= 6 else None

    expected = {
        (alert, "broken", platform, job)
        for job in JOBS
        for alert, platform in [
            ("BaseImageRebuildFailed", "all"),
            ("BaseImageOverSizeBudget", "linux/amd64"),
            ("BaseImageOverSizeBudget", "linux/arm64"),
        ]
    }
    assert prometheus.wait_until(firing, 30, "the alerts did not fire") == expected
