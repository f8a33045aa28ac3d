"""report_outputs and the CLI's flags for them: --report-md, --report-html, --log-dir, and GitHub's job
summary and step outputs, through `python -m baseimages push` on the fake engine and registry."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from report_family import GrowingRegistry, TimedEngine, fake_cli, run_family, write_family

from baseimages.cli.main import main
from baseimages.core.errors import ConfigError
from baseimages.outputs.files import github_outputs, publish
from baseimages.settings.config import Settings


@pytest.fixture
def family(catalog_writer, clean_env):
    return write_family(catalog_writer)


def _push(root, tmp_path, *extra):
    out, err = io.StringIO(), io.StringIO()
    argv = ["push", "--project", str(root), "--lock-dir", str(tmp_path / "locks"), "--report", str(tmp_path / "r.json")]
    code = main([*argv, *extra], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_push_writes_markdown_html_and_a_log_per_image_with_the_json_reports_durations(family, tmp_path, monkeypatch):
    engine = TimedEngine(build_seconds=0.05, fail_on={"/ml:": "linux/arm64"})
    root = fake_cli(monkeypatch, family, engine, GrowingRegistry())
    md, html, logs = tmp_path / "report.md", tmp_path / "report.html", tmp_path / "logs"
    code, out, err = _push(root, tmp_path, "--report-md", str(md), "--report-html", str(html), "--log-dir", str(logs))
    assert code == 1, out + err
    report = json.loads((tmp_path / "r.json").read_text())
    markdown = md.read_text()
    page = html.read_text()
    for image in report["images"]:
        build = f"{image['seconds']['build']:.2f} s"
        row = next(line for line in markdown.splitlines() if line.startswith(f"| {image['name']} | linux/amd64 |"))
        assert f"| {build} |" in row
        start, end = image["platform_timeline"]["linux/amd64"]["build"]  # each platform builds on its own
        assert f"{image['name']} linux/amd64 build on default: {end - start:.2f} s" in page  # the bar's title
    assert sorted(p.name for p in logs.iterdir()) == ["ml.log", "security.log", "uv.log"]
    assert "#6 1.000 Downloading part 0 of a wheel" in (logs / "uv.log").read_text()  # the whole stream
    assert "ImportError" in markdown and "ImportError" in page


def test_a_failed_build_shows_the_lines_around_the_error_and_where_the_whole_log_is(family, tmp_path, monkeypatch):
    root = fake_cli(monkeypatch, family, TimedEngine(fail_build={"security"}), GrowingRegistry())
    code, out, err = _push(root, tmp_path, "--log-dir", str(tmp_path / "logs"))
    assert code == 1
    header = f"--- buildx log of security, the lines around the error; the whole log: {tmp_path / 'logs'}/security.log"
    assert header in err
    shown = err.split(header, 1)[1]
    assert "ERROR: failed to solve" in shown and "Downloading part" not in shown
    assert "Downloading part 149" in (tmp_path / "logs" / "security.log").read_text()


def test_in_github_actions_the_summary_gets_the_report_and_the_outputs_each_digest(family, tmp_path, monkeypatch):
    summary, outputs = tmp_path / "summary.md", tmp_path / "outputs"
    summary.write_text("earlier step\n")
    outputs.write_text("earlier=1\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    root = fake_cli(monkeypatch, family, TimedEngine(), GrowingRegistry())
    code, out, err = _push(root, tmp_path)
    assert code == 0, out + err
    report = json.loads((tmp_path / "r.json").read_text())
    assert summary.read_text().startswith("earlier step\n## baseimages push: 3 promoted (ok)\n")
    digests = {image["name"]: image["digest"] for image in report["images"]}
    assert outputs.read_text().splitlines() == ["earlier=1"] + [f"{n}-digest={d}" for n, d in digests.items()]


def test_a_report_file_whose_folder_does_not_exist_is_refused_before_anything_runs(family, tmp_path, monkeypatch):
    engine = TimedEngine()
    root = fake_cli(monkeypatch, family, engine, GrowingRegistry())
    code, out, err = _push(root, tmp_path, "--report-md", str(tmp_path / "missing" / "r.md"))
    assert code == 2 and engine.builds == []
    assert err == f"error: --report-md: {tmp_path}/missing/r.md: no such directory: {tmp_path}/missing\n"


def test_an_unwritable_github_summary_is_a_config_error_naming_the_variable(family, tmp_path):
    report = run_family(family)
    settings = Settings(root=tmp_path)
    with pytest.raises(ConfigError) as info:
        publish(report, settings, environ={"GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "summary.md")})
    assert (info.value.source, info.value.field) == ("environment", "GITHUB_STEP_SUMMARY")


def test_without_flags_or_github_variables_nothing_is_written(family, tmp_path):
    report = run_family(family)
    assert publish(report, Settings(root=tmp_path), environ={}) == []
    assert report.finished is not None and report.finished > report.started - dt.timedelta(seconds=1)


def test_a_json_report_whose_folder_does_not_exist_is_refused_naming_the_flag(family, tmp_path, monkeypatch):
    engine = TimedEngine()
    root = fake_cli(monkeypatch, family, engine, GrowingRegistry())
    out, err = io.StringIO(), io.StringIO()
    missing = tmp_path / "missing" / "r.json"
    code = main(
        ["push", "--project", str(root), "--lock-dir", str(tmp_path / "locks"), "--report", str(missing)],
        out=out,
        err=err,
    )
    assert code == 2 and engine.builds == []
    assert err.getvalue() == f"error: --report: {missing}: no such directory: {tmp_path}/missing\n"


def test_the_cli_refuses_a_push_while_another_run_holds_the_lock(family, tmp_path, monkeypatch):
    from report_family import REGISTRY

    from baseimages.core.lock import RunLock

    engine = TimedEngine()
    root = fake_cli(monkeypatch, family, engine, GrowingRegistry())
    with RunLock(tmp_path / "locks", REGISTRY, "t", what="push"):
        code, _, err = _push(root, tmp_path)
    assert code == 5 and engine.builds == []
    assert err.startswith("error: another baseimages run holds") and len(err.splitlines()) == 1


def test_github_outputs_name_each_published_images_digest_and_no_failed_candidate(family):
    report = run_family(family, engine=TimedEngine(fail_on={"/ml:": "linux/arm64"}))
    assert github_outputs(report) == [
        f"uv-digest={report.image('uv').digest}",
        f"security-digest={report.image('security').digest}",
    ]
