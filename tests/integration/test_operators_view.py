"""The operators' view of one real push: `python -m baseimages push` builds python311-uv on the real engine
(both platforms, arm64 under QEMU), smoke-tests, pushes and promotes it, and the durations of its JSON
report are the same in its metrics file (read by a real node_exporter), in a real Pushgateway and in a
query to a real Prometheus that scrapes both."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from prometheus_processes import get, node_exporter, prometheus, pushgateway

from baseimages import Settings
from baseimages.cli.main import main
from baseimages.engine.client import DockerEngine

IMAGE = "python311-uv"


def _durations(text: str) -> dict[tuple[str, str], float]:
    """(platform, phase) -> seconds of IMAGE in a page of the Prometheus text format."""
    return {
        (s.labels["platform"], s.labels["phase"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "baseimages_phase_duration_seconds" and s.labels["image"] == IMAGE
    }


def test_one_push_gives_the_same_durations_in_the_report_the_metrics_file_the_pushgateway_and_prometheus(
    engine: DockerEngine,
    test_registry: str,
    tmp_path: Path,
    catalog_copy: Callable[[Path, list[str]], Path],
    fresh_settings: Callable[..., Settings],
) -> None:
    project = catalog_copy(tmp_path / "project", [IMAGE])
    namespace = fresh_settings(project, test_registry).namespace
    textfiles = tmp_path / "textfiles"
    textfiles.mkdir()
    metrics_file, report_file = textfiles / "baseimages.prom", tmp_path / "report.json"
    with pushgateway(tmp_path) as gateway, node_exporter(tmp_path, textfiles) as node:
        out, err = io.StringIO(), io.StringIO()
        argv = ["push", "--project", str(project), "--registry", test_registry, "--namespace", namespace]
        argv += ["--lock-dir", str(tmp_path / "locks"), "--report", str(report_file)]
        markdown, page = tmp_path / "report.md", tmp_path / "report.html"
        argv += ["--report-md", str(markdown), "--report-html", str(page)]
        code = main([*argv, "--metrics-file", str(metrics_file), "--pushgateway", gateway.url], out=out, err=err)
        assert code == 0, out.getvalue() + err.getvalue()[-3000:]

        report = json.loads(report_file.read_text())
        assert report["warnings"] == []
        (image,) = report["images"]
        assert image["status"] == "promoted"
        expected = {("all", phase): seconds for phase, seconds in image["seconds"].items()}
        expected |= {(p["platform"], "smoke"): p["seconds"] for p in image["platforms"]}
        # Every stage that ran for an unsigned push (no key: no SBOM, no test record; the changelog is read).
        stages = {"resolve", "build", "identify", "push", "smoke", "contract", "sizes", "changelog", "sign", "promote"}
        assert set(image["seconds"]) == stages
        assert image["seconds"]["build"] > 0 and image["seconds"]["smoke"] > 0

        # The Markdown table and the HTML timeline show the same durations (to the hundredth they print).
        lines = markdown.read_text().splitlines()
        rows = {line.split(" | ")[1]: line for line in lines if line.startswith(f"| {IMAGE} |")}
        html = page.read_text()
        for phase, seconds in image["seconds"].items():
            if phase not in ("smoke", "build"):  # those two worked per platform: each bar says its own time
                assert f"{IMAGE} linux/amd64 {phase}: {seconds:.2f} s" in html, phase
        for platform in image["platforms"]:
            name = platform["platform"]
            assert f"{IMAGE} {name} smoke: {platform['seconds']:.2f} s" in html
            start, end = image["platform_timeline"][name]["build"]
            on = f" on {image['builders'][name]}" if name in image["builders"] else ""
            assert f"{IMAGE} {name} build{on}: {end - start:.2f} s" in html
            assert f"| {image['seconds']['build']:.2f} s |" in rows[platform["platform"]]

        assert _durations(metrics_file.read_text()) == expected
        assert _durations(get(f"{gateway.url}/metrics").decode()) == expected
        with prometheus(tmp_path, {"pushgateway": gateway, "node": node}) as server:
            query = f'baseimages_phase_duration_seconds{{image="{IMAGE}"}}'
            server.wait_for(query, count=2 * len(expected))
            for job in ("baseimages", "node"):
                queried = server.values(
                    f'baseimages_phase_duration_seconds{{image="{IMAGE}", job="{job}"}}', "platform", "phase"
                )
                assert queried == expected, job
            run = server.values("baseimages_run_duration_seconds", "job")
            assert run[("baseimages",)] == run[("node",)] > image["seconds"]["build"]
