"""The timeline's bars say how long each phase lasted with the JSON report's own figures."""

from __future__ import annotations

from baseimages.core.results import CheckResult, ImageResult, PlatformResult, Status
from baseimages.outputs.timeline import bar_seconds


def _image() -> ImageResult:
    image = ImageResult("uv", "r/ns/uv")
    image.seconds = {"build": 10.0, "smoke": 8.94, "sbom": 30.0}
    image.timeline = {"build": (0.0, 10.0), "smoke": (11.64, 20.52), "sbom": (21.0, 51.0)}
    image.platform_timeline = {
        "linux/amd64": {"smoke": (11.64, 15.85), "sbom": (21.0, 33.0)},
        "linux/arm64": {"smoke": (11.64, 20.52), "sbom": (33.0, 51.0)},
    }
    image.platforms = [
        PlatformResult("linux/amd64", [CheckResult("a", "command", Status.PASSED)], seconds=4.19),
        PlatformResult("linux/arm64", [CheckResult("a", "command", Status.PASSED)], seconds=8.86),
    ]
    return image


def test_a_platforms_smoke_bar_says_that_platforms_own_time_not_the_images():
    assert bar_seconds(_image(), "linux/amd64", "smoke", 11.64, 15.85) == 4.19
    assert bar_seconds(_image(), "linux/arm64", "smoke", 11.64, 20.52) == 8.86


def test_a_stage_that_worked_per_platform_says_the_platforms_interval_and_others_the_images_time():
    assert bar_seconds(_image(), "linux/amd64", "sbom", 21.0, 33.0) == 12.0
    assert bar_seconds(_image(), "linux/amd64", "build", 0.0, 10.0) == 10.0
