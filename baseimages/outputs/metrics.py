"""Build metrics in Prometheus form: what one run measured, per image and platform, read from the scheduler's
events (registry retries) and the finished RunReport (everything else). Nothing here runs inside a stage.

Every metric is a gauge holding the value of the last run (a textfile and a Pushgateway group both hold
one run), in base units, with the low-cardinality labels `image` and `platform` (and `phase` for
durations); no digest, tag or timestamp is ever a label. A value that covers every platform at once (the
one buildx build, the upload, the promotion, the image's verdict) has `platform="all"`.

Beside them, the waiting updates (baseimages.updates), per image, platform and `kind` (`any`, `security`):
a run whose report carries a look (refresh `updates`) measures them as that look found them, and the
`updates` command measures them from its waiting state (`waiting_samples`).

`metrics_publish` writes them as a node_exporter textfile and pushes them to a Pushgateway.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..catalog.spec import SizeBudget
from ..core.events import Event
from ..core.results import ImageResult, ImageStatus, PlatformResult, RunReport, Status
from ..updates import INSTALLABLE_METRIC, WAITING_METRIC, UpdatesReport, WaitingState, found, metric_samples
from . import view

ALL = "all"  # the platform label of a value that covers every platform at once
MB = 1_000_000
IMAGE_LABELS = ("image", "platform")
UPDATE_LABELS = ("image", "platform", "kind")


@dataclass(frozen=True)
class MetricDef:
    name: str
    help: str
    labels: tuple[str, ...]


# fmt: off
METRICS: tuple[MetricDef, ...] = (
    MetricDef("baseimages_phase_duration_seconds",
              "Wall time of one phase of the image's last run (the JSON report's seconds; per platform for smoke)",
              ("image", "platform", "phase")),
    MetricDef("baseimages_image_compressed_size_bytes",
              "Compressed size of the image for the platform, as pushed", IMAGE_LABELS),
    MetricDef("baseimages_image_size_budget_bytes",
              "The image's size budget per platform (image.yaml size_budget.max_mb)", IMAGE_LABELS),
    MetricDef("baseimages_image_parent_compressed_size_bytes",
              "Compressed size of the image's parent for the platform, as measured for the growth budget",
              IMAGE_LABELS),
    MetricDef("baseimages_image_growth_budget_bytes",
              "How much the image may add to its parent (image.yaml size_budget.max_mb_over_parent)", IMAGE_LABELS),
    MetricDef("baseimages_smoke_success",
              "1 when every smoke check that ran on the platform passed (passed or degraded), else 0", IMAGE_LABELS),
    MetricDef("baseimages_smoke_skipped_checks",
              "Smoke checks skipped on the platform where the catalog allows it", IMAGE_LABELS),
    MetricDef("baseimages_image_success",
              "1 when the image's last run promoted it, tested it or found it unchanged; 0 when it failed or was "
              "blocked", IMAGE_LABELS),
    MetricDef("baseimages_image_built",
              "1 when the last run built the image, 0 when it was unchanged", IMAGE_LABELS),
    MetricDef("baseimages_image_registry_retries",
              "Registry requests retried for the image in the last run", IMAGE_LABELS),
    MetricDef("baseimages_image_last_promotion_timestamp_seconds",
              "When the image's tags last moved: this run's promotion, else the build time of the digest its version "
              "tag names", IMAGE_LABELS),
    MetricDef("baseimages_run_duration_seconds", "Wall time of the last run", ()),
    MetricDef("baseimages_run_success", "1 when the last run passed (exit code 0), else 0", ()),
    MetricDef("baseimages_run_exit_code", "Exit code of the last run", ()),
    MetricDef("baseimages_run_timestamp_seconds", "When the last run finished", ()),
    MetricDef("baseimages_run_registry_retries",
              "Registry requests retried in the last run, images' and shared ones (external bases)", ()),
    MetricDef(WAITING_METRIC,
              "Seconds the oldest installable update of the kind (any, security) had waited since first seen, at the "
              "last look; 0 when none waits", UPDATE_LABELS),
    MetricDef(INSTALLABLE_METRIC,
              "Packages with an installable update of the kind (any, security), at the last look", UPDATE_LABELS),
)
# fmt: on
BY_NAME = {metric.name: metric for metric in METRICS}


@dataclass(frozen=True)
class Sample:
    """One series' value: METRIC with LABELS (in the metric's label order)."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    value: float

    @property
    def image(self) -> str | None:
        return dict(self.labels).get("image")


def sample(metric: str, value: float, **labels: str) -> Sample:
    names = BY_NAME[metric].labels
    assert set(labels) == set(names), f"{metric} takes {names}, got {sorted(labels)}"
    return Sample(metric, tuple((name, labels[name]) for name in names), float(value))


class RetryCounter:
    """Observes the scheduler's events and keeps the image of each retry (`Event.retry`): a stage's own, or
    a registry request's, which the factory attributes to the image whose repository it concerns (None:
    no image, e.g. an external base's digest)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._images: list[str | None] = []  # the image of each retry seen, in order

    def event(self, event: Event) -> None:
        if event.retry is not None:
            with self._lock:
                self._images.append(event.retry.image)

    def counts(self, images: Iterable[str]) -> tuple[dict[str, int], int]:
        """Retries per image of IMAGES, and all retries of the run (those of no image included)."""
        per_image = dict.fromkeys(images, 0)
        with self._lock:
            seen = list(self._images)
        for image in seen:
            if image is not None and image in per_image:
                per_image[image] += 1
        return per_image, len(seen)


def measure(report: RunReport, budgets: Mapping[str, SizeBudget | None], retries: RetryCounter) -> list[Sample]:
    """The samples of a finished run: the run's, then each image's (BUDGETS: each image's size budget)."""
    per_image, total = retries.counts(image.name for image in report.images)
    finished = report.finished or report.started
    samples = [
        sample("baseimages_run_duration_seconds", (finished - report.started).total_seconds()),
        sample("baseimages_run_success", report.exit_code == 0),
        sample("baseimages_run_exit_code", report.exit_code),
        sample("baseimages_run_timestamp_seconds", finished.timestamp()),
        sample("baseimages_run_registry_retries", total),
    ]
    for image in report.images:
        samples += _image_samples(report, image, budgets.get(image.name), per_image.get(image.name, 0))
    look = view.look(report)
    return samples if look is None else [*samples, *waiting_samples(look)]


def waiting_samples(look: UpdatesReport, state: WaitingState | None = None) -> list[Sample]:
    """The waiting-updates gauges of the images of LOOK, as of its time: from STATE, the waiting state after
    the look (an image whose look failed keeps what was known), or without one from the first-seen times
    LOOK carries (the images it read only)."""
    images = {image.image for image in look.images}
    return [
        sample(name, value, **labels)
        for name, labels, value in metric_samples(found(look) if state is None else state, look.checked)
        if labels["image"] in images
    ]


def _image_samples(report: RunReport, image: ImageResult, budget: SizeBudget | None, retries: int) -> list[Sample]:
    name = image.name
    ok = image.status in (ImageStatus.PROMOTED, ImageStatus.TESTED, ImageStatus.UNCHANGED)
    samples = [
        sample("baseimages_image_success", ok, image=name, platform=ALL),
        sample("baseimages_image_built", "build" in image.seconds, image=name, platform=ALL),
        sample("baseimages_image_registry_retries", retries, image=name, platform=ALL),
    ]
    promoted = last_promotion(report, image)
    if promoted is not None:
        samples.append(sample("baseimages_image_last_promotion_timestamp_seconds", promoted, image=name, platform=ALL))
    for phase, seconds in image.to_dict()["seconds"].items():  # as the JSON report rounds them
        samples.append(sample("baseimages_phase_duration_seconds", seconds, image=name, platform=ALL, phase=phase))
    for result in image.platforms:
        samples += _platform_samples(name, result, budget)
    return samples


def _platform_samples(image: str, result: PlatformResult, budget: SizeBudget | None) -> Iterable[Sample]:
    labels = {"image": image, "platform": result.platform}
    yield sample("baseimages_phase_duration_seconds", result.seconds, phase="smoke", **labels)
    yield sample("baseimages_smoke_success", result.status is not Status.FAILED, **labels)
    yield sample("baseimages_smoke_skipped_checks", sum(c.status is Status.SKIPPED for c in result.checks), **labels)
    if result.compressed_bytes is not None:
        yield sample("baseimages_image_compressed_size_bytes", result.compressed_bytes, **labels)
        if budget is not None and budget.max_mb is not None:
            yield sample("baseimages_image_size_budget_bytes", budget.max_mb * MB, **labels)
    if result.parent_compressed_bytes is not None and budget is not None and budget.max_mb_over_parent is not None:
        yield sample("baseimages_image_parent_compressed_size_bytes", result.parent_compressed_bytes, **labels)
        yield sample("baseimages_image_growth_budget_bytes", budget.max_mb_over_parent * MB, **labels)


def last_promotion(report: RunReport, image: ImageResult) -> float | None:
    """When IMAGE's tags last moved, as a Unix time: the end of this run's promotion; else (unchanged, or
    this run failed) the build time of the digest its version tag names; None when it never promoted."""
    if image.status is ImageStatus.PROMOTED and "promote" in image.timeline:
        return report.started.timestamp() + image.timeline["promote"][1]
    if image.registry_build_time is not None:
        return image.registry_build_time.timestamp()
    return None
