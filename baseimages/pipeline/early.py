"""The `early` stages of a run (an image's cache warm-up, `stages.warm`): which image runs one, its parent's
build offering each platform's output to it, and the warm-up started while the image waits for its
parent's candidate, in a thread of its own (`Beside`), then awaited when the image ends.

A warm-up may take a free `jobs` permit; the image keeps it for its own heavy stages (`Warming.close`
hands it over), or gives it back when it ends without them (blocked by its parent, unchanged)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from functools import partial

from .beside import Beside
from .permits import ImageState, Permits
from .stages import ImageContext, Stage, Warming
from .walk import early_stages


class EarlyStages:
    def __init__(
        self,
        stages: Sequence[Stage],
        contexts: Sequence[ImageContext],
        states: Mapping[str, ImageState],
        permits: Permits,
        announce: Callable[[Stage, ImageContext], object],
        cancel: threading.Event,
    ) -> None:
        self._stages = early_stages(stages, contexts)
        self._permits = permits
        self._announce = announce  # gives CTX the stage's progress callbacks (its notes are its events)
        self._cancel = cancel
        for ctx in contexts:
            if any(c.image.spec.parent == ctx.name for c in contexts if c.name in self._stages):
                ctx.offer = states[ctx.name].offer  # its build offers each platform to the children's warm-ups

    def start(self, ctx: ImageContext, parent: ImageState | None) -> Beside | None:
        """CTX's early stage, started while it waits for PARENT's candidate (None: it runs none)."""
        stage = self._stages.get(ctx.name)
        if stage is None or parent is None:
            return None
        ctx.warming = Warming(ctx.image.platforms, parent.offered, partial(self._permits.try_acquire, ctx.name))
        self._permits.hope(ctx.name)  # a free permit goes to the warm-up of the best-ranked child
        return Beside(partial(self._run, stage), ctx)

    def _run(self, stage: Stage, ctx: ImageContext) -> None:
        """STAGE on CTX (not once the run is stopping), its interval from its first note to its last on any
        platform (it may find nothing to do: then it has none)."""
        assert ctx.warming is not None
        try:
            if not self._cancel.is_set():
                self._announce(stage, ctx)
                stage.run(ctx)
        finally:
            ctx.warming.finish()  # no build of the image waits for it any more
            self._permits.unhope(ctx.name)
        spans = [phases[stage.key] for phases in ctx.result.platform_timeline.values() if stage.key in phases]
        if spans:
            start, end = min(s[0] for s in spans), max(s[1] for s in spans)
            ctx.result.timeline[stage.key] = (start, end)
            ctx.result.seconds[stage.key] = end - start

    def end(self, ctx: ImageContext, started: Beside | None) -> None:
        """CTX ends: its early stage awaited, and the permit it took given back unless the image took it over."""
        if started is None:
            return
        with contextlib.suppress(BaseException):  # a warm-up raises nothing it does not report
            started.wait()
        if ctx.warming is not None and ctx.warming.close():
            self._permits.release()
