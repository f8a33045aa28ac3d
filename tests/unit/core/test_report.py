"""RunReport: the exit code of a run and its JSON form."""

from __future__ import annotations

import datetime as dt
import json

from baseimages.core.results import CheckResult, ImageResult, ImageStatus, PlatformResult, RunReport, Status

STARTED = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)


def _report(*images: ImageResult) -> RunReport:
    return RunReport(command="push", registry="localhost:5000", started=STARTED, images=list(images))


def _image(name: str, status: ImageStatus, exit_code: int = 0, error: str | None = None) -> ImageResult:
    return ImageResult(name, f"localhost:5000/baseimages/{name}", status=status, exit_code=exit_code, error=error)


def test_exit_code_is_0_when_every_image_was_promoted():
    report = _report(_image("uv", ImageStatus.PROMOTED), _image("ml", ImageStatus.PROMOTED))
    assert report.ok
    assert report.exit_code == 0


def test_exit_code_is_0_when_images_were_only_built_and_tested():
    assert _report(_image("uv", ImageStatus.TESTED)).exit_code == 0


def test_exit_code_is_1_when_a_build_failed():
    report = _report(_image("uv", ImageStatus.PROMOTED), _image("ml", ImageStatus.FAILED, 1, "build failed"))
    assert not report.ok
    assert report.exit_code == 1


def test_failed_image_without_an_exit_code_still_gives_1():
    assert _report(_image("uv", ImageStatus.FAILED)).exit_code == 1


def test_blocked_image_alone_gives_1():
    report = _report(_image("uv", ImageStatus.PROMOTED), _image("ml", ImageStatus.BLOCKED))
    assert not report.ok
    assert report.exit_code == 1


def test_exit_code_is_3_when_any_failure_was_a_registry_failure():
    report = _report(
        _image("uv", ImageStatus.FAILED, 1, "smoke tests failed"),
        _image("ml", ImageStatus.FAILED, 3, "registry unreachable"),
        _image("security", ImageStatus.BLOCKED),
        _image("tools", ImageStatus.PROMOTED),
    )
    assert report.exit_code == 3


def test_to_dict_is_json_serialisable_and_complete():
    platform = PlatformResult(
        "linux/arm64",
        checks=[
            CheckResult("python is 3.11", "command", Status.PASSED, "Python 3.11.9", 0.4),
            CheckResult("pytest", "command", Status.SKIPPED, "not on arm64"),
            CheckResult("/usr/bin/gcc is absent", "file", Status.FAILED, "present"),
        ],
        compressed_bytes=52_000_000,
        seconds=3.2,
    )
    failed = ImageResult(
        "uv",
        "localhost:5000/baseimages/uv",
        status=ImageStatus.FAILED,
        version="1.0.0",
        digest="sha256:" + "0" * 64,
        platforms=[platform],
        seconds={"build": 12.3456},
        error="smoke tests failed",
        exit_code=1,
        log="#1 DONE",
    )
    report = _report(failed, _image("ml", ImageStatus.BLOCKED))
    report.finished = STARTED + dt.timedelta(minutes=3)

    data = json.loads(json.dumps(report.to_dict()))
    assert data["command"] == "push"
    assert data["started"] == "2026-11-28T12:00:00+00:00"
    assert data["finished"] == "2026-11-28T12:03:00+00:00"
    assert (data["ok"], data["exit_code"]) == (False, 1)
    uv, ml = data["images"]
    assert (uv["status"], ml["status"]) == ("failed", "blocked")
    assert uv["seconds"] == {"build": 12.35}
    (arm64,) = uv["platforms"]
    assert arm64["status"] == "failed"
    assert [c["status"] for c in arm64["checks"]] == ["passed", "skipped", "failed"]
    assert arm64["compressed_bytes"] == 52_000_000


def test_write_produces_the_same_json(tmp_path):
    report = _report(_image("uv", ImageStatus.PROMOTED))
    path = tmp_path / "report.json"
    report.write(path)
    assert json.loads(path.read_text()) == json.loads(json.dumps(report.to_dict()))


def test_platform_with_no_executed_check_fails_never_passes_empty():
    skipped = PlatformResult("linux/amd64", [CheckResult("a", "command", Status.SKIPPED)])
    assert skipped.status is Status.FAILED
    assert skipped.problem == "no check ran"
    assert PlatformResult("linux/amd64").status is Status.FAILED
    image = _image("uv", ImageStatus.TESTED)
    image.platforms = [skipped]
    assert image.smoke_passed is False


def test_platform_with_allowed_skips_is_degraded_with_the_reason_not_passed():
    mixed = PlatformResult(
        "linux/arm64",
        [CheckResult("a", "command", Status.SKIPPED, "no torch here"), CheckResult("b", "command", Status.PASSED)],
    )
    assert mixed.status is Status.DEGRADED
    assert mixed.problem == "1 check(s) skipped: no torch here"
    assert mixed.to_dict()["status"] == "degraded"
    passed = PlatformResult("linux/amd64", [CheckResult("b", "command", Status.PASSED)])
    assert passed.status is Status.PASSED and passed.problem == ""
