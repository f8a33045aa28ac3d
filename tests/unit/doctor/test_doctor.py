"""doctor's frame: findings in order, each as it is made; exit code 0 unless something fails; a check that
raises is a failed finding and the others still run; the default checks end to end against fakes."""

from __future__ import annotations

from fake_probe import FakeProbe, doctor_context, hub_clients, write_binfmt
from fake_registry import make_image

from baseimages.catalog.plan import make_plan
from baseimages.doctor.checkup import Doctor, DoctorReport, Finding, Verdict, run_doctor
from baseimages.settings.config import Settings


def test_exit_code_is_one_only_when_a_finding_fails():
    ok, warn, fail = (Finding("x", v, "s") for v in (Verdict.OK, Verdict.WARN, Verdict.FAIL))
    assert DoctorReport((ok, warn)).exit_code == 0
    assert DoctorReport((ok, warn, fail)).exit_code == 1
    assert DoctorReport((ok, warn, fail)).summary() == "1 ok, 1 warn, 1 fail"


def test_a_finding_reads_as_verdict_check_summary_details_then_fix():
    finding = Finding("context", Verdict.FAIL, "too big", fix="ignore it", subject="uv", details=("1 GB  x",))
    assert finding.lines() == [
        f"FAIL  {'context uv':<32} too big",
        "      1 GB  x",
        "      fix: ignore it",
    ]
    assert finding.to_dict() == {
        "check": "context",
        "subject": "uv",
        "verdict": "fail",
        "summary": "too big",
        "fix": "ignore it",
        "details": ["1 GB  x"],
    }


def test_findings_arrive_in_check_order_as_they_are_made_and_a_raising_check_is_a_failed_finding(catalog_writer):
    catalog_writer.add("uv")
    seen = []

    def broken(ctx):
        raise KeyError("boom")

    checks = [
        ("first", lambda ctx: [Finding("first", Verdict.OK, "fine")]),
        ("broken", broken),
        ("last", lambda ctx: [Finding("last", Verdict.WARN, "meh")]),
    ]
    report = Doctor(doctor_context(catalog_writer.load()), checks, on_finding=seen.append).run()
    assert [f.check for f in report.findings] == ["first", "broken", "last"] == [f.check for f in seen]
    broken_finding = report.findings[1]
    assert broken_finding.verdict is Verdict.FAIL
    assert "internal error" in broken_finding.summary and "KeyError" in broken_finding.summary
    assert report.exit_code == 1


def _healthy_run(catalog_writer, tmp_path, fake_registry, probe, **settings):
    """run_doctor on a catalog FROM python:3.11-slim, which only the fake registry serves (as a mirror)."""
    fake_registry.preload("library/python", make_image(), tag="3.11-slim")
    catalog_writer.add("uv")
    catalog = catalog_writer.load()
    config = Settings(root=catalog_writer.root, registry=fake_registry.address, **settings)
    return run_doctor(
        config,
        make_plan(catalog, config),
        engine=probe,
        registry=hub_clients(tmp_path),
        binfmt_dir=write_binfmt(tmp_path / "binfmt"),
        host_arch="x86_64",
        temp_dir=tmp_path,
    )


def test_healthy_machine_passes_every_default_check(catalog_writer, tmp_path, fake_registry):
    probe = FakeProbe(mirrors=(fake_registry.url,))
    report = _healthy_run(catalog_writer, tmp_path, fake_registry, probe)
    checks = [(f.check, f.verdict) for f in report.findings]
    assert [check for check, _ in checks] == [
        "buildx",
        "engine",
        "image store",
        "builder",
        "qemu",
        "build cache",
        "leftovers",  # containers
        "leftovers",  # folders
        "registry",
        "base",
        "context",
        "dockerfile",
    ]
    assert {verdict for _, verdict in checks} == {Verdict.OK}, report.findings
    assert report.exit_code == 0


def test_engine_down_fails_once_and_the_rest_of_the_machine_is_still_checked(catalog_writer, tmp_path, fake_registry):
    probe = FakeProbe(down=True, host="unix:///tmp/none.sock")
    report = _healthy_run(catalog_writer, tmp_path, fake_registry, probe, base_mirrors=(fake_registry.url,))
    verdicts = {f.check: f.verdict for f in report.findings}
    assert verdicts["engine"] is Verdict.FAIL
    assert {"image store", "builder", "build cache"}.isdisjoint(verdicts)
    # the mirror from daemon.json (settings.base_mirrors) still serves the base
    assert verdicts["buildx"] is verdicts["registry"] is verdicts["base"] is verdicts["context"] is Verdict.OK
    assert report.exit_code == 1


def test_doctor_changes_nothing_it_only_reads_the_registry(catalog_writer, tmp_path, fake_registry):
    _healthy_run(catalog_writer, tmp_path, fake_registry, FakeProbe(mirrors=(fake_registry.url,)))
    assert {r.method for r in fake_registry.requests} <= {"GET", "HEAD"}
