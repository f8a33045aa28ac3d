"""Where a run's metrics go: a node_exporter textfile (`--metrics-file`, written atomically) and a Prometheus
Pushgateway (`--pushgateway`, one group per image). An observer of the run (see `observers`): it counts
registry retries as the events pass and publishes once the report is complete. The `updates` command
publishes its waiting-updates gauges to the same places (`publish_waiting`), each image's into its group.

Publishing never fails a build: a Pushgateway that is down or refuses, or a file that cannot be written,
comes back as a warning for the report.
"""

from __future__ import annotations

import http.client
import urllib.error
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import push_to_gateway, pushadd_to_gateway, write_to_textfile
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

from ..catalog.spec import SizeBudget
from ..core.events import Event
from ..core.results import RunReport
from ..settings.config import Settings
from ..updates import UpdatesReport, WaitingState
from .metrics import BY_NAME, METRICS, RetryCounter, Sample, measure, sample, waiting_samples

JOB = "baseimages"  # the Pushgateway job, and so the `job` label of every pushed series
PUSH_TIMEOUT = 10.0  # seconds per push request


class _Snapshot(Collector):
    """The fixed samples of one run, as Prometheus gauge families (in METRICS order)."""

    def __init__(self, samples: Sequence[Sample]) -> None:
        self.samples = list(samples)

    def collect(self) -> Iterable[Metric]:
        for definition in METRICS:
            rows = [s for s in self.samples if s.metric == definition.name]
            if not rows:
                continue
            family = GaugeMetricFamily(definition.name, definition.help, labels=list(definition.labels))
            for row in rows:
                family.add_metric([value for _, value in row.labels], row.value)
            yield family


def registry_of(samples: Sequence[Sample]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(samples))
    return registry


def write_textfile(path: Path, samples: Sequence[Sample]) -> None:
    """PATH in the Prometheus text format, replaced atomically (a temporary file beside it, then rename), so
    that node_exporter's textfile collector never reads half a file. An image's metric that this run did not
    measure keeps the value PATH had, as in the Pushgateway (see `push`)."""
    write_to_textfile(str(path), registry_of(carry_over(read_textfile(path), samples)))


def read_textfile(path: Path) -> list[Sample]:
    """The samples of METRICS in an earlier textfile at PATH; none when there is none or it does not parse."""
    try:
        text = path.read_text()
        families = list(text_string_to_metric_families(text))
    except (OSError, ValueError, UnicodeDecodeError):
        return []
    samples = []
    for family in families:
        for row in family.samples:
            definition = BY_NAME.get(row.name)
            if definition is not None and set(row.labels) == set(definition.labels):
                samples.append(sample(row.name, row.value, **row.labels))
    return samples


def carry_over(previous: Sequence[Sample], current: Sequence[Sample]) -> list[Sample]:
    """CURRENT, plus the samples of PREVIOUS whose (image, metric) CURRENT does not have: what a Pushgateway
    keeps when each image's group is updated with POST. A run measures every metric of the run's own
    (image-less) group, so a run replaces them all; the `updates` command measures none, so it keeps them."""
    measured = {(s.image, s.metric) for s in current}
    kept = [s for s in previous if (s.image, s.metric) not in measured]
    return [*current, *kept]


Pusher = Callable[..., None]  # push_to_gateway / pushadd_to_gateway
Group = tuple[Mapping[str, str], list[Sample], Pusher]  # grouping key (besides the job), its samples, how


def push(gateway: str, report: RunReport, samples: Sequence[Sample], timeout: float = PUSH_TIMEOUT) -> list[str]:
    """Push the run's samples to GATEWAY: the run's under {job} (replaced: PUT), each image's under
    {job, image} with POST, which replaces each metric this run measured and keeps the others (an unchanged
    image keeps the durations and sizes of its last build). Returns warnings; raises nothing."""
    groups: list[Group] = [({}, [s for s in samples if s.image is None], push_to_gateway)]
    groups += _image_groups([image.name for image in report.images], samples)
    return _push_groups(gateway, groups, timeout)


def _image_groups(images: Sequence[str], samples: Sequence[Sample]) -> list[Group]:
    return [({"image": image}, [s for s in samples if s.image == image], pushadd_to_gateway) for image in images]


def _push_groups(gateway: str, groups: Sequence[Group], timeout: float) -> list[str]:
    warnings: list[str] = []
    for number, (key, group, method) in enumerate(groups):
        where = f"{gateway}/metrics/job/{JOB}" + "".join(f"/{k}/{v}" for k, v in key.items())
        try:
            method(gateway, job=JOB, registry=registry_of(group), grouping_key=dict(key), timeout=timeout)
        except urllib.error.HTTPError as exc:  # it answered, and refused this group: try the others
            warnings.append(f"pushgateway: {where}: HTTP {exc.code} {_reason(exc)}; this group was not pushed")
        except (OSError, http.client.HTTPException, ValueError) as exc:  # down or unreachable: stop here
            left = f"{len(groups) - number} of {len(groups)} metric groups not pushed"
            warnings.append(f"pushgateway: {gateway} unreachable ({_reason(exc)}); {left}")
            break
    return warnings


def _reason(exc: BaseException) -> str:
    reason: Any = getattr(exc, "reason", None) or exc
    text = " ".join(str(reason).split())
    return text[:200] or type(exc).__name__


class MetricsPublisher:
    """A run observer: counts registry retries from the events; when the run is done, writes METRICS_FILE
    and pushes to PUSHGATEWAY (either may be None/empty). BUDGETS: each image's size budget."""

    name = "metrics"

    def __init__(
        self,
        budgets: Mapping[str, SizeBudget | None],
        metrics_file: Path | None = None,
        pushgateway: str = "",
        timeout: float = PUSH_TIMEOUT,
    ) -> None:
        self.budgets = dict(budgets)
        self.metrics_file = metrics_file
        self.pushgateway = pushgateway
        self.timeout = timeout
        self.retries = RetryCounter()

    def event(self, event: Event) -> None:
        self.retries.event(event)

    def finished(self, report: RunReport) -> list[str]:
        samples = measure(report, self.budgets, self.retries)
        warnings = _written(self.metrics_file, samples)
        if self.pushgateway:
            warnings += push(self.pushgateway, report, samples, self.timeout)
        return warnings


def _written(path: Path | None, samples: Sequence[Sample]) -> list[str]:
    """SAMPLES written to the textfile PATH (when set); a warning when it cannot be."""
    if path is None:
        return []
    try:
        write_textfile(path, samples)
    except OSError as exc:
        return [f"metrics file {path}: not written ({_reason(exc)})"]
    return []


def publish_waiting(
    settings: Settings, look: UpdatesReport, state: WaitingState, timeout: float = PUSH_TIMEOUT
) -> list[str]:
    """The waiting-updates gauges of LOOK's images (STATE: the waiting state after it) to the settings'
    `metrics-file` and `pushgateway`, when set: into the file beside what runs wrote there, and into each
    image's Pushgateway group with POST (its build metrics stay). Returns warnings; raises nothing."""
    samples = waiting_samples(look, state)
    warnings = _written(settings.metrics_file, samples)
    if settings.pushgateway:
        images = sorted({s.image for s in samples if s.image is not None})
        warnings += _push_groups(settings.pushgateway, _image_groups(images, samples), timeout)
    return warnings
