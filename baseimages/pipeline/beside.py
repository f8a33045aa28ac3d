"""A stage that runs beside the next ones (`Stage.beside`): started in a thread of its own when its turn
comes, awaited before the next light stage (or the image's end). It runs on its own view of the image's
context, so that its progress callbacks are its own; what it set on that view is copied back when it is
awaited, and an error it raised is raised there, as if it had run in line; then its `joined` runs on
the image's context (the contract's checks join the smoke tests' there)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable

from .stages import ImageContext

_OWN = ("note", "retried")  # the view's progress callbacks, set for it by the scheduler


class Beside:
    def __init__(
        self,
        run: Callable[[ImageContext], None],
        ctx: ImageContext,
        joined: Callable[[ImageContext], None] = lambda ctx: None,
    ) -> None:
        self._ctx = ctx
        self._joined = joined
        self._view = copy.copy(ctx)
        self._before = dict(vars(self._view))
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._go, args=(run,), daemon=True)
        self._thread.start()

    def _go(self, run: Callable[[ImageContext], None]) -> None:
        try:
            run(self._view)
        except BaseException as exc:  # raised again where it is awaited
            self._error = exc

    def wait(self) -> None:
        """Until it is done: what it set copied back, its error raised, else JOINED called on the context."""
        self._thread.join()
        for key, value in vars(self._view).items():
            if key not in _OWN and value is not self._before.get(key):
                setattr(self._ctx, key, value)
        if self._error is not None:
            raise self._error
        self._joined(self._ctx)


def wait_all(pending: list[Beside]) -> None:
    """Await every stage in PENDING (emptied), then raise the first error any of them raised."""
    first: BaseException | None = None
    while pending:
        try:
            pending.pop(0).wait()
        except BaseException as exc:
            first = first or exc
    if first is not None:
        raise first
