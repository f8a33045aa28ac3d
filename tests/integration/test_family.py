"""The whole family on a real engine and registry: uv, then ml and security, proven on every platform."""

from __future__ import annotations

from baseimages import ImageStatus, Status
from baseimages.pipeline.factory import Phase

FAMILY = ["python311-uv", "python311-ml", "python311-security"]  # the order the conftest's `family` pushes
PLATFORMS = ["linux/amd64", "linux/arm64"]


def _checks(report, image: str, platform: str) -> dict[str, tuple[Status, str]]:
    result = next(p for p in report.image(image).platforms if p.platform == platform)
    return {c.name: (c.status, c.detail) for c in result.checks}


def test_whole_family_promotes_with_every_check_passed_or_explained(family) -> None:
    report, _, _ = family
    assert report.exit_code == 0, [(i.name, i.error) for i in report.images]
    assert [i.name for i in report.images] == FAMILY
    assert all(i.status is ImageStatus.PROMOTED for i in report.images)
    for image in report.images:
        assert [p.platform for p in image.platforms] == PLATFORMS
        for platform in image.platforms:
            for check in platform.checks:
                assert check.status is not Status.FAILED, (image.name, platform.platform, check)
                if check.status is Status.SKIPPED:
                    # The one explained skip: no CPU torch for aarch64 on this network.
                    assert (image.name, platform.platform) == ("python311-ml", "linux/arm64"), check
                    assert "no CPU torch 2.13.0 wheel for aarch64" in check.detail
                    assert "CUDA" in check.detail and "allowed here" in check.detail
            expected = Status.DEGRADED if (image.name, platform.platform) == ("python311-ml", "linux/arm64") else None
            assert platform.status is (expected or Status.PASSED), (image.name, platform.platform, platform.problem)


def test_ml_and_security_build_in_parallel_once_uv_is_built_and_promote_after_it(family) -> None:
    report, events, _ = family
    promoted = {e.image: e.elapsed for e in events if e.phase is Phase.PROMOTED}
    uv_built = report.image("python311-uv").timeline["build"][1]
    building = {child: report.image(child).timeline["build"][0] for child in ("python311-ml", "python311-security")}
    for child in building:
        # FROM uv's candidate: only once it exists (a cache warm-up, FROM one platform's output, may run before)
        assert uv_built <= building[child]
        assert promoted["python311-uv"] <= promoted[child]  # tags move parent first
    # Siblings overlap: each starts before the other is done.
    assert building["python311-ml"] < promoted["python311-security"]
    assert building["python311-security"] < promoted["python311-ml"]
    for child in building:  # a warm-up runs its steps only while a platform of uv still builds
        warm = report.image(child).timeline.get("warm")
        assert warm is None or warm[0] < uv_built, (child, warm, uv_built)


def test_children_are_built_from_the_digest_uv_got_in_this_run(family) -> None:
    report, _, _ = family
    uv = report.image("python311-uv")
    for child in ("python311-ml", "python311-security"):
        assert report.image(child).parent_ref == f"{uv.repository}:candidate-1.0.0@{uv.digest}"


def test_ml_has_cpu_torch_on_amd64_and_says_why_not_on_arm64(family) -> None:
    report, _, _ = family
    amd64 = _checks(report, "python311-ml", "linux/amd64")
    assert amd64["torch imports at the pinned version"] == (Status.PASSED, "2.13.0+cpu")
    assert amd64["torch reports no CUDA, without error"][0] is Status.PASSED
    assert amd64["torch is a CPU build"][0] is Status.PASSED
    assert amd64["no CUDA (nvidia-*) distribution in /opt/venv"][0] is Status.PASSED
    arm64 = _checks(report, "python311-ml", "linux/arm64")
    assert arm64["torch imports at the pinned version"][0] is Status.SKIPPED
    assert arm64["numpy imports at the pinned version and computes"][0] is Status.PASSED


def test_security_scanners_and_hyperscan_work_on_both_platforms(family) -> None:
    report, _, _ = family
    for platform in PLATFORMS:
        checks = _checks(report, "python311-security", platform)
        assert checks["nmap runs"][0] is Status.PASSED
        assert checks["masscan runs"][0] is Status.PASSED
        status, detail = checks["hyperscan compiles two patterns and reports both ids"]
        assert status is Status.PASSED and detail.endswith("matched ids: [11, 22]")
        assert checks["/usr/bin/gcc is absent"][0] is Status.PASSED
        assert checks["/usr/include/stdio.h is absent"][0] is Status.PASSED


def test_contract_services_run_in_the_slim_runtime(family) -> None:
    report, _, _ = family
    for image in ("python311-uv", "python311-ml"):
        checks = _checks(report, image, "linux/amd64")
        contract = {name: status for name, (status, _) in checks.items() if name.startswith("service contract")}
        assert contract and all(status is Status.PASSED for status in contract.values()), contract
    ml_arm64 = _checks(report, "python311-ml", "linux/arm64")
    assert ml_arm64["service contract"][0] is Status.SKIPPED
    uv_arm64 = _checks(report, "python311-uv", "linux/arm64")
    assert uv_arm64["service contract: the service runs in the slim runtime with its synced venv"][0] is Status.PASSED


def test_every_image_is_held_to_its_size_budget_per_platform(family) -> None:
    report, _, _ = family
    for image in report.images:
        for platform in image.platforms:
            sizes = [c for c in platform.checks if c.kind == "size"]
            assert sizes and all(c.status is Status.PASSED for c in sizes), (image.name, platform.platform, sizes)
            assert platform.compressed_bytes and platform.compressed_bytes > 0
            print(f"{image.name} {platform.platform}: {platform.compressed_bytes / 1e6:.1f} MB")
