"""baseimages.outputs.metrics_publish: the node_exporter textfile and the Pushgateway push of a run, with a fake engine,
an in-memory registry and an in-process Pushgateway (the real one: tests/integration/test_metrics_prometheus.py)."""

from __future__ import annotations

import datetime as dt
import io
import json
import socket

import pytest
from fake_pushgateway import FakePushgateway
from fake_registry import FakeRegistry, make_image
from fakes import FakeEngine, MemoryRegistry
from prometheus_client.parser import text_string_to_metric_families

from baseimages.catalog.plan import make_plan
from baseimages.cli.main import main
from baseimages.core.results import ImageResult, ImageStatus, RunReport
from baseimages.outputs.metrics import ALL, RetryCounter, measure, sample
from baseimages.outputs.metrics_publish import carry_over, read_textfile, write_textfile
from baseimages.pipeline.factory import Factory
from baseimages.pipeline.options import RunOptions
from baseimages.settings.config import Settings

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
REGISTRY = "registry.test:5000"


@pytest.fixture
def family(catalog_writer):
    catalog_writer.add("uv", size_budget={"max_mb": 80})
    catalog_writer.add("ml", parent="uv", size_budget={"max_mb_over_parent": 60})
    return catalog_writer


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(family, engine=None, **settings_fields):
    settings = Settings(root=family.root, registry=REGISTRY, namespace="t", **settings_fields)
    catalog = family.load()
    factory = Factory(settings, catalog, engine=engine or FakeEngine(build_seconds=0.02), registry=MemoryRegistry())
    return factory.run(make_plan(catalog, settings, now=NOW), RunOptions(push=True))


def _series(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_the_metrics_file_holds_the_reports_durations_in_the_prometheus_text_format(family, tmp_path):
    path = tmp_path / "baseimages.prom"
    report = _run(family, metrics_file=path)
    series = _series(path.read_text())
    for image in report.to_dict()["images"]:
        for phase, seconds in image["seconds"].items():
            labels = (("image", image["name"]), ("phase", phase), ("platform", ALL))
            assert series[("baseimages_phase_duration_seconds", labels)] == seconds
    assert series[("baseimages_run_exit_code", ())] == 0
    assert report.warnings == []


def test_the_metrics_file_is_replaced_by_a_rename_leaving_no_temporary_file(family, tmp_path):
    path = tmp_path / "baseimages.prom"
    path.write_text("# an earlier run\n")
    before = path.stat().st_ino
    _run(family, metrics_file=path)
    assert path.stat().st_ino != before  # a new file renamed over the old one, never rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("baseimages.prom")) == ["baseimages.prom"]


def test_a_metric_this_run_did_not_measure_keeps_the_value_the_file_had():
    earlier = [
        sample("baseimages_image_compressed_size_bytes", 5e6, image="uv", platform="linux/amd64"),
        sample("baseimages_image_success", 0, image="uv", platform=ALL),
        sample("baseimages_run_exit_code", 1),
    ]
    now = [sample("baseimages_image_success", 1, image="uv", platform=ALL), sample("baseimages_run_exit_code", 0)]
    merged = {(s.metric, s.labels): s.value for s in carry_over(earlier, now)}
    assert merged == {
        ("baseimages_image_success", (("image", "uv"), ("platform", ALL))): 1.0,
        ("baseimages_run_exit_code", ()): 0.0,
        ("baseimages_image_compressed_size_bytes", (("image", "uv"), ("platform", "linux/amd64"))): 5e6,
    }


def test_an_unchanged_image_keeps_its_last_builds_durations_and_sizes_in_the_file(tmp_path):
    path = tmp_path / "m.prom"
    built = ImageResult("uv", f"{REGISTRY}/t/uv", status=ImageStatus.PROMOTED, seconds={"build": 12.5})
    first = RunReport("push", REGISTRY, NOW, NOW, images=[built])
    write_textfile(path, measure(first, {}, RetryCounter()))
    unchanged = ImageResult("uv", f"{REGISTRY}/t/uv", status=ImageStatus.UNCHANGED, registry_build_time=NOW)
    later = NOW + dt.timedelta(days=1)
    write_textfile(path, measure(RunReport("push", REGISTRY, later, later, images=[unchanged]), {}, RetryCounter()))
    series = {(s.metric, s.labels): s.value for s in read_textfile(path)}
    assert (
        series[("baseimages_phase_duration_seconds", (("image", "uv"), ("platform", ALL), ("phase", "build")))] == 12.5
    )
    assert series[("baseimages_image_built", (("image", "uv"), ("platform", ALL)))] == 0.0
    assert series[("baseimages_run_timestamp_seconds", ())] == later.timestamp()


def test_an_unreadable_earlier_file_is_replaced(tmp_path):
    path = tmp_path / "m.prom"
    path.write_bytes(b"\xff\xfe not the text format {{{")
    assert read_textfile(path) == []


def test_each_image_is_pushed_to_its_own_group_and_the_run_to_the_jobs(family):
    with FakePushgateway() as gateway:
        report = _run(family, pushgateway=gateway.url)
    assert report.warnings == []
    assert [(p.method, p.path) for p in gateway.pushes] == [
        ("PUT", "/metrics/job/baseimages"),
        ("POST", "/metrics/job/baseimages/image/uv"),
        ("POST", "/metrics/job/baseimages/image/ml"),
    ]
    run = gateway.push_to("/metrics/job/baseimages")
    assert all(dict(labels).get("image") is None for _, labels in run.series)
    assert run.value("baseimages_run_success") == 1.0
    uv = gateway.push_to("/metrics/job/baseimages/image/uv")
    assert {dict(labels)["image"] for _, labels in uv.series} == {"uv"}
    uv_result = report.image("uv")
    assert uv_result is not None
    for phase, seconds in uv_result.to_dict()["seconds"].items():
        assert uv.value("baseimages_phase_duration_seconds", image="uv", phase=phase, platform=ALL) == seconds


def test_a_pushgateway_that_is_down_is_one_warning_in_the_report_never_a_failed_build(family, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}"
    path = tmp_path / "m.prom"
    report = _run(family, pushgateway=url, metrics_file=path)
    assert report.exit_code == 0
    (warning,) = report.warnings
    assert warning.startswith(f"pushgateway: {url} unreachable (")
    assert "3 of 3 metric groups not pushed" in warning
    assert report.to_dict()["warnings"] == [warning]
    assert "baseimages_run_success 1.0" in path.read_text()  # the file is written all the same


def test_a_pushgateway_that_refuses_is_a_warning_per_group_and_every_group_is_tried(family):
    with FakePushgateway(status=400) as gateway:
        report = _run(family, pushgateway=gateway.url)
    assert report.exit_code == 0
    assert len(gateway.pushes) == 3
    assert [w.split(": HTTP 400")[0] for w in report.warnings] == [
        f"pushgateway: {gateway.url}/metrics/job/baseimages",
        f"pushgateway: {gateway.url}/metrics/job/baseimages/image/uv",
        f"pushgateway: {gateway.url}/metrics/job/baseimages/image/ml",
    ]


def test_a_metrics_file_that_cannot_be_written_is_a_warning(family, tmp_path):
    folder = tmp_path / "gone"
    folder.mkdir()
    settings_path = folder / "m.prom"
    report_kwargs = {"metrics_file": settings_path}
    folder.rmdir()  # vanished between the settings check and the end of the run
    report = _run(family, **report_kwargs)
    assert report.exit_code == 0
    (warning,) = report.warnings
    assert warning.startswith(f"metrics file {settings_path}: not written (")


def test_the_cli_prints_the_warning_keeps_the_exit_code_and_the_report_holds_it(catalog_writer, clean_env, tmp_path):
    # Every registry read answers 503 and two attempts are allowed: the base's digest is retried once, then
    # the run fails with exit code 3. Metrics are published all the same, the retry counted for the run.
    with FakeRegistry() as registry:
        registry.preload("library/python", make_image("base"), tag="3.11-slim")
        registry.fault("503")
        catalog_writer.add("tiny", parent=f"{registry.address}/library/python:3.11-slim")
        clean_env.setenv("DOCKER_CONFIG", str(tmp_path / "no-docker-config"))
        clean_env.setenv("BASEIMAGES_RETRY_ATTEMPTS", "2")
        url = f"http://127.0.0.1:{_closed_port()}"
        metrics, report_file = tmp_path / "m.prom", tmp_path / "report.json"
        out, err = io.StringIO(), io.StringIO()
        argv = ["push", "--registry", registry.address, "--project", str(catalog_writer.root)]
        argv += ["--lock-dir", str(tmp_path / "locks"), "--report", str(report_file)]
        code = main([*argv, "--metrics-file", str(metrics), "--pushgateway", url], out=out, err=err)
    assert code == 3, err.getvalue()
    warnings = [line for line in err.getvalue().splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: pushgateway: {url} unreachable")
    assert json.loads(report_file.read_text())["warnings"] == [warnings[0].removeprefix("warning: ")]
    series = _series(metrics.read_text())
    assert series[("baseimages_run_exit_code", ())] == 3
    assert series[("baseimages_image_success", (("image", "tiny"), ("platform", ALL)))] == 0
    assert series[("baseimages_run_registry_retries", ())] == 1  # the external base's, no image's
    assert series[("baseimages_image_registry_retries", (("image", "tiny"), ("platform", ALL)))] == 0
