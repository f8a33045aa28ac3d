"""The one scheduler: runs the stages of every planned image, or walks them for a dry run.

Its rules, the same for every stage list:
- a child starts as soon as its parent's candidate exists (the stage that `publishes` it ran),
  so that it builds while the parent is tested; it is `blocked` when the parent failed before that;
  its `early` stage (its cache warm-up) runs before, while the parent builds (`early`);
- a stage gated on the parent (`Gate.PARENT_DONE`: promotion) waits until the parent promoted, and
  the image is `blocked` (built and tested, not promoted) when the parent then failed;
- at most `jobs` images run their heavy stages at once (build to contract), siblings in parallel; a
  free permit goes by rank, never to whichever thread asked first (`permits`); a `beside` stage runs
  while the next ones do (`beside`), awaited before the next light stage and before the permit goes;
- a stage that raises fails its image: its own and its descendants' tags stay where they were, while
  independent siblings go on; a stop signal (Ctrl-C, SIGTERM: `baseimages.core.interrupts`) starts no
  further stage (so no tag moves), stops the children and fails every image that was not done.
It alone emits the events and records each stage's duration and interval (the report's timeline).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from functools import partial

from ..catalog.changes import Action as Verdict
from ..catalog.changes import Decision
from ..catalog.plan import Plan
from ..core.errors import BaseImagesError, InternalError, RunCancelled
from ..core.events import Event, EventSink, Phase
from ..core.interrupts import exit_code_of, signal_of
from ..core.results import ImageResult, ImageStatus
from ..core.retry import RetryNotice
from ..engine.client import interrupt_children
from ..registry.published import Promotion, tags_at
from .beside import Beside, wait_all
from .dry_run import ImagePlan
from .early import EarlyStages
from .permits import ImageState as _State
from .permits import Permits, ranks
from .stages import Converge, Gate, ImageContext, MoveSettled, Stage, Tools
from .walk import published, walk

SUCCEEDED = (ImageStatus.PROMOTED, ImageStatus.UNCHANGED, ImageStatus.TESTED)


class Scheduler:
    def __init__(self, stages: Sequence[Stage], tools: Tools, on_event: EventSink | None = None) -> None:
        self.stages = list(stages)
        self.tools = tools
        self._on_event = on_event
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self.converger = Converge()  # the one stage of an image whose promotion a previous run cut short
        self._signal = signal.SIGINT  # what stopped the run, once `_cancel` is set
        self.settler = MoveSettled()  # the tags an image settled onto its published digest still moves

    def restart_clock(self) -> None:
        self._started = time.monotonic()

    def emit(
        self,
        image: str | None,
        phase: Phase,
        platform: str | None = None,
        detail: str = "",
        *,
        retry: RetryNotice | None = None,
    ) -> None:
        """One event: IMAGE (None: no image concerned) entered PHASE, or, with RETRY, one of its requests
        is tried again (DETAIL then defaults to the notice's text)."""
        if retry is not None and not detail:
            detail = retry.text
        if self._on_event is not None:
            with self._lock:
                self._on_event(Event(image, phase, time.monotonic() - self._started, platform, detail, retry))

    # ------------------------------------------------------------------ run

    def run(
        self, plan: Plan, push: bool, decisions: Mapping[str, Decision], results: Mapping[str, ImageResult]
    ) -> None:
        """Run every image of PLAN through the stages, filling in RESULTS."""
        contexts = [
            ImageContext(image, plan, push, self.tools, results[image.name], decisions.get(image.name))
            for image in plan.images
        ]
        for ctx in contexts:
            decision = ctx.decision
            detail = f"wave {ctx.image.wave + 1}" + (
                f": {decision.action.value}, {'; '.join(decision.reasons)}" if decision else ""
            )
            self.emit(ctx.name, Phase.WAITING, detail=detail)
        roots = [ctx.name for ctx in contexts if ctx.image.spec.parent_is_external]
        permits = Permits(self.tools.settings.jobs, ranks(plan), ready=roots)
        children = {c.name: [k.name for k in contexts if k.image.spec.parent == c.name] for c in contexts}
        states = {ctx.name: _State(children[ctx.name], permits) for ctx in contexts}
        announce = partial(self._announce, quiet=True)  # an early stage shows by its notes only
        early = EarlyStages(self.stages, contexts, states, permits, announce, self._cancel)
        pool = ThreadPoolExecutor(max_workers=max(1, len(contexts)))
        futures = [pool.submit(self._image, ctx, states, permits, early) for ctx in contexts]
        try:
            # Until all are done, or one raised what a stage does not catch (Ctrl-C in a worker thread).
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in [*done, *futures]:
                future.result()
        except KeyboardInterrupt as exc:
            # A stop signal: no stage starts any more (no tag moves), the docker children stop, then we leave.
            finished = {name for name, state in states.items() if state.done.is_set()}
            self._signal = signal_of(exc)
            self._cancel.set()
            for state in states.values():
                state.release()
            interrupt_children()
            pool.shutdown(wait=True, cancel_futures=True)
            for ctx in contexts:
                if ctx.name not in finished and ctx.result.status not in SUCCEEDED:
                    self._interrupted(ctx)
            raise
        pool.shutdown(wait=True)

    def _interrupted(self, ctx: ImageContext) -> None:
        """CTX was not done when the signal came: whatever its stages said as they were stopped, it failed
        because the run was interrupted, and its tags did not move."""
        result = ctx.result
        result.status, result.exit_code = ImageStatus.FAILED, exit_code_of(self._signal)
        result.error = f"{ctx.name}: interrupted ({self._signal.name}); its tags did not move"

    def _image(self, ctx: ImageContext, states: dict[str, _State], permits: Permits, early: EarlyStages) -> None:
        """One image, from waiting for its parent to its last stage."""
        state = states[ctx.name]
        spec = ctx.image.spec
        parent = None if spec.parent_is_external else states[spec.parent]
        warm = early.start(ctx, parent)
        try:
            if parent is not None:
                parent.built.wait()
                if parent.pinned is None:
                    permits.drop(ctx.name)  # (each path that never asks for a permit says so at once)
                    return self._block(ctx, f"not built: parent {spec.parent} failed")
                ctx.parent = parent.pinned
            decision = ctx.decision
            if decision is not None and decision.action is Verdict.SKIP and decision.current_digest:
                permits.drop(ctx.name)
                seen = self.tools.tags_read.get(ctx.name)  # where its tags stood: nothing moved them since
                return self._unchanged(ctx, state, decision.current_digest, decision.built, seen)
            if decision is not None and decision.action is Verdict.CONVERGE:
                permits.drop(ctx.name)
                return self._converge(ctx, state, parent)
            if not self._stages(ctx, state, parent, permits):
                return None
            if ctx.settled is not None:
                return self._settle(ctx, state, parent)
            self._finish(ctx, state)
        except BaseImagesError as exc:
            self._fail(ctx, exc)
        except Exception as exc:  # a bug: this image fails, the others go on, the report is written
            self._fail(ctx, InternalError(ctx.name, exc))
        finally:
            early.end(ctx, warm)
            permits.drop(ctx.name)
            state.release()
        return None

    def _stages(self, ctx: ImageContext, state: _State, parent: _State | None, permits: Permits) -> bool:
        """Run each stage that applies, in order (a `beside` one awaited before the next light stage);
        False when the image was blocked by its parent. A permit is held from the first heavy stage to the
        last (light stages between them included: no other image's build slips in between an image's
        build and its tests)."""
        stages = [s for s in self.stages if not s.early and s.applies(ctx)]  # early ones: EarlyStages
        heavy = [i for i, s in enumerate(stages) if s.heavy]
        if not heavy:
            permits.drop(ctx.name)
        held = waited = False
        pending: list[Beside] = []
        try:
            for i, stage in enumerate(stages):
                if pending and not stage.heavy:
                    wait_all(pending)
                    if ctx.settled is not None:
                        return True
                if stage.gate is Gate.PARENT_DONE and not waited:
                    waited = True
                    if not self._parent_ok(ctx, parent):
                        return False
                if heavy and i == heavy[0]:
                    if ctx.warming is not None and ctx.warming.close():
                        permits.drop(ctx.name)  # its warm-up's permit is the image's now
                    else:
                        permits.acquire(ctx.name)
                    held = True
                if stage.beside:  # announced here, so that the stages after it are announced after it
                    began = self._announce(stage, ctx)
                    pending.append(Beside(partial(self._run_stage, stage, began=began), ctx, stage.joined))
                else:
                    self._run_stage(stage, ctx)
                if held and i == heavy[-1]:
                    wait_all(pending)  # a heavy stage beside the last holds the permit too
                    permits.release()
                    held = False
                if ctx.settled is not None:  # what it built is already published: nothing more to do
                    return True
                if stage.publishes(ctx):
                    state.pinned = ctx.built
                    state.publish()  # children may build FROM it now
            wait_all(pending)
        finally:
            with contextlib.suppress(BaseException):  # an error already on its way wins over theirs
                wait_all(pending)
            if held:
                permits.release()
        return ctx.settled is not None or waited or self._parent_ok(ctx, parent)

    def _run_stage(self, stage: Stage, ctx: ImageContext, began: float | None = None) -> None:
        """Run STAGE on CTX, announced and timed from now, or from BEGAN when it was announced already."""
        if self._cancel.is_set():
            raise RunCancelled(
                f"{ctx.name}: interrupted ({self._signal.name}); its tags did not move", exit_code_of(self._signal)
            )
        if began is None:
            began = self._announce(stage, ctx)
        with self._timed(ctx.result, stage.key, began):
            stage.run(ctx)

    def _announce(self, stage: Stage, ctx: ImageContext, quiet: bool = False) -> float:
        """Give CTX the stage's progress callbacks and emit its phase (unless QUIET): once for the image, or,
        for a stage announced per platform, on each platform (where its notes say more later). Returns when
        it began."""
        began = time.monotonic()

        def note(detail: str, platform: str | None) -> None:
            if platform is not None:
                self._mark(ctx.result, stage.key, platform)
            self.emit(ctx.name, stage.phase, platform, detail)

        def retried(notice: RetryNotice) -> None:
            self.emit(ctx.name, stage.phase, retry=notice)

        ctx.note = note
        ctx.retried = retried
        if quiet:
            return began
        if not stage.per_platform:
            self.emit(ctx.name, stage.phase, detail=stage.detail(ctx))
        else:
            for platform in ctx.image.platforms:
                note("", platform)
        return began

    def _parent_ok(self, ctx: ImageContext, parent: _State | None) -> bool:
        if parent is None:
            return True
        parent.done.wait()
        if not parent.ok:
            self._block(ctx, f"built and tested, not promoted: parent {ctx.image.spec.parent} failed")
        return parent.ok

    def _finish(self, ctx: ImageContext, state: _State) -> None:
        assert ctx.built is not None
        state.ok = True
        if ctx.push:
            ctx.result.status = ImageStatus.PROMOTED
            rolling = ctx.image.tags.rolling[0]
            self.emit(ctx.name, Phase.PROMOTED, detail=f"{ctx.image.repository}:{rolling} -> {ctx.built.digest}")
        else:
            ctx.result.status = ImageStatus.TESTED
            self.emit(ctx.name, Phase.TESTED, detail=f"{ctx.built.ref} ({ctx.built.digest})")

    def _unchanged(
        self, ctx: ImageContext, state: _State, digest: str, built: dt.datetime | None, seen: Promotion | None = None
    ) -> None:
        """The image is published already at DIGEST (built on BUILT): no tag moves; its children use it."""
        result = ctx.result
        result.status = ImageStatus.UNCHANGED
        result.digest = digest
        result.tags = tags_at(self.tools.registry, ctx.image, digest, built, seen)
        state.pinned = published(ctx, digest, result.tags)
        state.ok = True
        self.emit(ctx.name, Phase.UNCHANGED, detail=f"{ctx.image.repository}:{ctx.image.spec.version}")

    def _settle(self, ctx: ImageContext, state: _State, parent: _State | None) -> None:
        """What the image built is published already (ctx.settled): no new digest; the tags of its promotion
        that do not name that digest yet move to it once the parent is done. Its tags are found among those
        of the day the version's tag was built (what it settled onto), else of this run's day."""
        settled = ctx.settled
        assert settled is not None
        ctx.result.reasons.append(settled.reason)
        if settled.moves:
            if not self._parent_ok(ctx, parent):
                return
            self._run_stage(self.settler, ctx)
        built = ctx.decision.built if ctx.decision is not None and ctx.decision.built else None
        self._unchanged(ctx, state, settled.digest, built or ctx.plan.build_date)

    def _converge(self, ctx: ImageContext, state: _State, parent: _State | None) -> None:
        """The image's tags disagree and its newest promoted digest passed: its children may build FROM
        that digest at once; once the parent is done, the tags that lag move to it (nothing builds)."""
        decision = ctx.decision
        assert decision is not None and decision.current_digest is not None
        state.pinned = published(ctx, decision.current_digest, [decision.proof])
        state.publish()
        if not self._parent_ok(ctx, parent):
            return
        self._run_stage(self.converger, ctx)
        ctx.result.status = ImageStatus.PROMOTED
        ctx.result.digest = decision.current_digest
        state.ok = True
        moved = f"{', '.join(decision.moves)} -> {decision.current_digest} ({decision.proof})"
        self.emit(ctx.name, Phase.PROMOTED, detail=f"{ctx.image.repository}: converged {moved}")

    def _fail(self, ctx: ImageContext, exc: BaseImagesError) -> None:
        result = ctx.result
        result.status, result.error, result.exit_code = ImageStatus.FAILED, str(exc), exc.exit_code
        result.log = getattr(exc, "log", "") or result.log
        self.emit(ctx.name, Phase.FAILED, detail=str(exc))

    def _block(self, ctx: ImageContext, reason: str) -> None:
        ctx.result.status = ImageStatus.BLOCKED
        ctx.result.error = reason
        self.emit(ctx.name, Phase.BLOCKED, detail=reason)

    @contextlib.contextmanager
    def _timed(self, result: ImageResult, key: str, start: float | None = None) -> Iterator[None]:
        """Record KEY's wall time and its interval since the run started (the report's timeline), from START
        (default: now)."""
        start = time.monotonic() if start is None else start
        try:
            yield
        finally:
            end = time.monotonic()
            result.seconds[key] = end - start
            result.timeline[key] = (round(start - self._started, 3), round(end - self._started, 3))

    def _mark(self, result: ImageResult, key: str, platform: str) -> None:
        """A stage's interval on PLATFORM: from its first note for that platform to its latest."""
        now = round(time.monotonic() - self._started, 3)
        with self._lock:
            phases = result.platform_timeline.setdefault(platform, {})
            phases[key] = (phases.get(key, (now, now))[0], now)

    # ------------------------------------------------------------------ dry run

    def walk(self, plan: Plan, push: bool, decisions: Mapping[str, Decision], tools: Tools) -> list[ImagePlan]:
        """What a run would do, without running anything (`walk.walk` over these stages)."""
        return walk(self.stages, self.converger, plan, push, decisions, tools)
