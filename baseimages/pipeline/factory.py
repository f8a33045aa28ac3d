"""The factory: the library's entry point for a run. It wires the run's tools (settings, registry
client, the engine created on first use) to the scheduler and the stage list, holds the run lock, and
turns the results into a report that its observers publish (metrics, reports, build logs).

Push flow per image (the Docker docs' push-by-digest recipe, made safe), one stage each (see
baseimages.pipeline.stages): resolve the base; build all platforms into the local image store under the
candidate tag; upload it to the registry's candidate tag, every request retried on its own; smoke-test
every platform against that digest (arm64 under QEMU) and hold it to its size budget; run the
contract; only when every check passed and the parent promoted, move the tags.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from ..catalog.changes import Current, Decision, decide_plan
from ..catalog.plan import Plan
from ..catalog.spec import Catalog, ImageSpec
from ..checks.smoke import smoke_request
from ..core.errors import BaseImagesError, ConfigError, RegistryError, RunCancelled
from ..core.events import Event, EventSink, Phase
from ..core.interrupts import exit_code_of, signal_of
from ..core.lock import RunLock
from ..core.reference import Reference, parse_reference
from ..core.results import ImageResult, ImageStatus, RunReport
from ..core.retry import RetryNotice, call_with_retries
from ..engine.build_logs import BuildLogs
from ..engine.builders import check_builders
from ..engine.client import DockerEngine, Engine
from ..engine.leftovers import clean_containers, clean_folders
from ..engine.probe import DockerProbe
from ..outputs.notify import deliveries
from ..outputs.observers import Observers, RunObserver, default_observers
from ..registry.client import RegistryClient
from ..registry.connect import registry_client
from ..settings.config import Settings
from ..trust.signing import Cosign
from ..updates import remember
from .actions import MoveTags, Notify, only
from .converge import read_ahead, reviewer
from .dry_run import UNKNOWN, DryRun, StageActions
from .fresh import Review, chained, look, rebuild_for_updates
from .options import RunOptions
from .scheduler import Scheduler
from .stages import Stage, Tools, default_stages
from .stages.checks import check_failure, check_sizes, puller, smoke_all

__all__ = ["DryRun", "Event", "Factory", "Phase", "RunOptions", "registry_client"]

BuildLineSink = Callable[[str, str], None]  # (image, line) of buildx's output


class Factory:
    """Builds, tests, pushes and promotes a planned family. Never prints; reports through callbacks.

    Everything but SETTINGS and CATALOG is an injectable, used as it is given: ENGINE and REGISTRY (tests,
    other tooling; by default the Docker engine, created on first use, and a client per the settings),
    SIGNER, STAGES (default: `stages.default_stages()`), OBSERVERS (run observers besides those the
    settings ask for), ON_EVENT (every event, e.g. progress lines) and ON_BUILD_LINE (buildx's output,
    per image). What one run takes is its `RunOptions`."""

    def __init__(
        self,
        settings: Settings,
        catalog: Catalog,
        *,
        engine: Engine | None = None,
        registry: RegistryClient | None = None,
        signer: Cosign | None = None,
        stages: Sequence[Stage] | None = None,
        observers: Sequence[RunObserver] = (),
        on_event: EventSink | None = None,
        on_build_line: BuildLineSink | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self._engine = engine
        self._platforms: set[str] = set()  # what the engine must be able to build and run
        # A registry request's repository -> the catalog image it belongs to (its retries are that image's).
        self._owners = {settings.repository(name): name for name in catalog.images}
        self.registry = registry or registry_client(settings, on_retry=self._registry_retry)
        self._extra = list(observers)
        self._on_event = on_event
        self._on_build_line = on_build_line
        self._logs: BuildLogs | None = None  # the run's build logs (log-dir), while it goes
        self._report: RunReport | None = None  # the run's report, while it goes
        self._engine_lock = threading.Lock()
        self._swept = False  # the run removed the containers killed runs left
        self.tools = Tools(settings, self.registry, lambda: self.engine, self._build_line, signer)
        # Who sees the events: the caller's sink and OBSERVERS; each run adds those its settings ask for.
        self.observers = Observers(on_event, self._extra)
        self.scheduler = Scheduler(default_stages() if stages is None else stages, self.tools, self._event)

    @property
    def engine(self) -> Engine:
        """The Docker engine, created (and checked for every platform of the run, with the builders the
        settings map platforms to) on first use only: a run where every image is unchanged never starts
        a Docker process. A run's first use also removes the containers killed runs left."""
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._start_engine()
            report = self._report
            if report is not None and not self._swept:
                self._swept = True
                report.warnings += clean_containers(self._engine)
            return self._engine

    def _start_engine(self) -> Engine:
        # The builders platforms are mapped to first (each its own platforms), then the local engine,
        # which builds what is not mapped and runs every platform's smoke tests.
        check_builders(self.settings.builders, sorted(self._platforms), DockerProbe().builder)
        engine = DockerEngine()
        engine.check(sorted(self._platforms))
        if self.settings.credentials is not None:  # so that BuildKit and pulls can read the registry too
            engine.login(self.settings.registry, self.settings.credentials)
        return engine

    def _event(self, event: Event) -> None:
        self.observers.event(event)

    def _build_line(self, image: str, line: str) -> None:
        if self._logs is not None:
            self._logs.line(image, line)
        if self._on_build_line is not None:
            self._on_build_line(image, line)

    def _registry_retry(self, notice: RetryNotice) -> None:
        """A registry request is tried again: the image whose repository it concerns, if any, retries."""
        image = self._owners.get(notice.request.repository) if notice.request is not None else None
        self.scheduler.emit(image, Phase.RETRYING, retry=dataclasses.replace(notice, image=image))

    def run(self, plan: Plan, options: RunOptions | None = None) -> RunReport:
        """Build every planned image; with `options.push`, push and promote each image that passed.

        The run holds the run lock of the settings' registry and namespace (`LockedError` when another
        run holds it past `options.lock_wait`), writes each image's build log when `log_dir` is set,
        and, once the report is complete, its observers publish it: metrics, Markdown, HTML, GitHub's
        summary and outputs, the JSON report, as the settings and OPTIONS ask. What they could not do
        is a warning of the report, never a failure."""
        options = options or RunOptions()
        settings = self.settings
        self.observers = Observers(
            self._on_event, [*default_observers(settings, self.catalog, options.report), *self._extra]
        )
        report = RunReport(command=options.command, registry=settings.registry, started=dt.datetime.now(dt.UTC))
        lock = RunLock(settings.lock_dir, settings.registry, settings.namespace, options.lock_wait, options.command)
        try:
            with lock:
                report.warnings += clean_folders()  # what killed runs left (their own end removes the rest)
                stopped = self._logged(plan, options, report)
                self.observers.finished(report)
        except KeyboardInterrupt as exc:  # stopped waiting for the lock, or while the reports were written
            raise _cancelled(exc, None) from None
        if stopped is not None:
            raise _cancelled(stopped, report)
        return report

    def _logged(self, plan: Plan, options: RunOptions, report: RunReport) -> KeyboardInterrupt | None:
        """The run, with its build logs (log-dir); the stop signal that interrupted it, if one did (REPORT
        then says so, and fails every image that was not done)."""
        logs = BuildLogs(self.settings.log_dir) if self.settings.log_dir is not None else None
        if logs is not None:
            logs.prepare()
        self._logs, self._report, self._swept = logs, report, False
        stopped: KeyboardInterrupt | None = None
        try:
            self._run(plan, options, report)
        except KeyboardInterrupt as exc:
            stopped = exc
            report.interrupted = signal_of(exc).name
            for result in report.images:
                if result.status is ImageStatus.PLANNED:  # stopped before the scheduler had it
                    result.status, result.exit_code = ImageStatus.FAILED, exit_code_of(signal_of(exc))
                    result.error = f"{result.name}: interrupted ({report.interrupted}); its tags did not move"
            report.finished = dt.datetime.now(dt.UTC)
        finally:
            self._logs, self._report = None, None
            if logs is not None:
                logs.close()
        report.logs = logs.written() if logs is not None else {}
        return stopped

    def _run(self, plan: Plan, options: RunOptions, report: RunReport) -> None:
        self.scheduler.restart_clock()
        self.tools.no_cache = options.no_cache
        push = options.push
        self._platforms = {p for image in plan.images for p in image.platforms}
        results = {p.name: ImageResult(p.name, p.repository, version=p.spec.version) for p in plan.images}
        report.images = list(results.values())
        try:
            decisions = self.decide(plan, options) if push else {}
        except RegistryError as exc:  # registry unreachable or refusing: nothing was built, nothing moved
            for result in report.images:
                result.status, result.error, result.exit_code = ImageStatus.FAILED, str(exc), exc.exit_code
                self.scheduler.emit(result.name, Phase.FAILED, detail=str(exc))
            report.finished = dt.datetime.now(dt.UTC)
            return
        report.updates = self._record_look(report)
        for name, decision in decisions.items():
            results[name].reasons = list(decision.reasons)
            results[name].fingerprint = decision.inputs.fingerprint
            results[name].registry_build_time = decision.built
        try:
            self.scheduler.run(plan, push, decisions, results)
        finally:
            self.tools.close()
        report.finished = dt.datetime.now(dt.UTC)

    def _record_look(self, report: RunReport) -> dict[str, Any] | None:
        """The run's look for updates (refresh `updates`), recorded in the `updates-state` file (when each
        update was first seen) and annotated with it, as the report carries it; None without a look."""
        found, self.tools.updates_look = self.tools.updates_look, None
        if found is None:
            return None
        try:
            found, _ = remember(self.settings.updates_state, found)
        except ConfigError as exc:  # the state file is unreadable or unwritable: the look still counts
            report.warnings.append(f"updates-state not recorded: {exc}")
        return found.to_dict()

    def decide(self, plan: Plan, options: RunOptions | None = None) -> dict[str, Decision]:
        """Per image: build, skip or converge, and why, per the refresh policy of OPTIONS (a manifest, a tag
        list and a HEAD per tag of its version's promotion per image; one request per external base)."""
        return self._decide(plan, self.tools, options or RunOptions())

    def _decide(self, plan: Plan, tools: Tools, options: RunOptions) -> dict[str, Decision]:
        policy = options.refresh_policy(self.settings.refresh_days)

        now = dt.datetime.now(dt.UTC)

        def current(reference: str) -> Current | None:
            if tools.unreachable:  # a dry run that could not resolve a base asks no more
                raise RegistryError(tools.unreachable)
            ref = parse_reference(reference)
            summary = tools.registry.summary(ref)
            if not summary:
                return None
            month = None
            if policy.monthly:  # a rebuild settled this month moved the month's tag only
                month = tools.registry.digest(parse_reference(f"{ref.repository}:{plan.build_date:%Y.%m}"))
            return Current(*summary, month_digest=month)

        for base in dict.fromkeys(i.spec.parent for i in plan.images if i.spec.parent_is_external):
            tools.resolve_digest(base)  # first, as a run needs them first (asked once; decide_plan reads them)
        found, states = read_ahead(tools, plan, current)
        tools.tags_read = states
        reviews: Review = reviewer(tools, states)
        if policy.mode == "updates":  # one look at every image; a run records it (see _record_look)
            tools.updates_look = look(tools, self.settings, self.catalog, plan)
            reviews = chained(reviews, rebuild_for_updates(tools.updates_look, policy))
        return decide_plan(plan, found.__getitem__, tools.resolve_digest, policy, now, review=reviews)

    def dry_run(self, plan: Plan, options: RunOptions | None = None, registry: RegistryClient | None = None) -> DryRun:
        """What `run(plan, options)` would do, without running anything or changing any registry: per
        image, the actions of each stage (those a run executes), with placeholders for what only a run
        knows. Pushing, it reads REGISTRY (default: the run's) as `plan` does: the change detection's
        verdict, the next immutable tag and each tag's current digest; a registry that does not answer
        leaves them unknown."""
        options = options or RunOptions()
        push = options.push
        tools = self.tools.for_planning(registry, resolve=push)
        decisions: dict[str, Decision] = {}
        if push:
            decisions = tools.read_or(lambda: self._decide(plan, tools, options), {})
        images = self.scheduler.walk(plan, push, decisions, tools)
        unknown: str | None = UNKNOWN
        for item in images:
            for move in only(item.actions, MoveTags):
                for tag in (tag for tag in move.tags if "<" not in tag):  # not a placeholder (`1.0.0-20261129.<N>`)
                    item.current[tag] = tools.read_or(partial(_digest_at, tools, f"{move.repository}:{tag}"), unknown)
            if only(item.actions, MoveTags):  # once its tags move, the run's notifier sends these
                notes = tuple(Notify(delivery) for delivery in deliveries(self.settings, item.name))
                item.stages += [StageActions("notify", notes)] if notes else []
        return DryRun(plan, push, images, tools.unreachable)

    def test_all(
        self, targets: Sequence[tuple[str, ImageSpec]], platforms: Sequence[str] = (), options: RunOptions | None = None
    ) -> RunReport:
        """Smoke-test each (reference, spec) of TARGETS (see `test`): a report of command `test`, one image
        each, which the observers publish as a run's (the reports for people, the JSON report of
        `options.report`), metrics aside: they describe builds. It pushes nothing and takes no lock."""
        options = options or RunOptions()
        observers = default_observers(self.settings, self.catalog, options.report, metrics=False)
        self.observers = Observers(self._on_event, [*observers, *self._extra])
        report = RunReport(command="test", registry=self.settings.registry, started=dt.datetime.now(dt.UTC))
        for reference, spec in targets:
            try:
                result = self.test(reference, spec, platforms)
            except BaseImagesError as exc:
                result = ImageResult(spec.name, reference, status=ImageStatus.FAILED, error=str(exc))
                result.exit_code = exc.exit_code
            report.images.append(result)
        report.finished = dt.datetime.now(dt.UTC)
        self.observers.finished(report)
        return report

    def test(self, reference: str, spec: ImageSpec, platforms: Sequence[str] = ()) -> ImageResult:
        """Smoke-test an existing image in a registry on every platform of its index (or PLATFORMS)."""
        self.scheduler.restart_clock()
        try:
            ref = parse_reference(reference)
        except ValueError:
            raise ConfigError(
                "REF", reference, "is not an image reference, e.g. localhost:5000/baseimages/x:1.0.0"
            ) from None
        index = self.registry.index(ref)
        chosen = [p for p in index.platforms if not platforms or p in platforms]
        missing = [p for p in platforms if p not in index.platforms]
        if missing:
            raise ConfigError("--platform", ",".join(missing), f"{reference} has only {', '.join(index.platforms)}")
        self._platforms = set(chosen)
        result = ImageResult(spec.name, ref.repository, version=spec.version, digest=index.digest)
        pinned = str(Reference(ref.domain, ref.path, None, index.digest))
        emit = self.scheduler.emit

        def note(detail: str, platform: str | None) -> None:
            emit(spec.name, Phase.SMOKE_TESTING, platform, detail)

        def retrying(func: Callable[[], None]) -> None:
            call_with_retries(spec.name, func, self.registry.retry, note_retry, image=spec.name)

        def note_retry(notice: RetryNotice) -> None:
            emit(spec.name, Phase.RETRYING, retry=notice)

        pull = puller(self.engine, pinned, retrying)
        requests = {platform: smoke_request(pinned, spec.smoke, platform) for platform in chosen}
        for platform in chosen:
            note("", platform)
        result.platforms = smoke_all(self.engine, self.registry, spec, pinned, requests, index, note, pull)
        check_sizes(spec, index, result, parent_index=None)
        result.status = ImageStatus.TESTED if result.smoke_passed else ImageStatus.FAILED
        if not result.smoke_passed:
            result.error = check_failure(result)
        emit(spec.name, Phase.TESTED if result.smoke_passed else Phase.FAILED, detail=result.error or "")
        return result


def _cancelled(exc: KeyboardInterrupt, report: RunReport | None) -> RunCancelled:
    sig = signal_of(exc)
    message = f"interrupted ({sig.name}): builds stopped; images that had not promoted kept their old tags"
    return RunCancelled(message, exit_code_of(sig), report)


def _digest_at(tools: Tools, reference: str) -> str | None:
    return tools.registry.digest(parse_reference(reference))
