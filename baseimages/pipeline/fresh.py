"""The refresh policy `updates` (`--refresh updates`): besides the monthly floor, an image the change detection
would skip is rebuilt when an update is installable for its published build (baseimages.updates: the Debian
packages its own apt sources have a newer version of, the Python distributions the index has a newer release
of that its requirements do not pin). Which updates count is the `refresh-updates` setting: `security` (a
package of a security suite) or `any`.

One look per run, before the change detection's verdicts: every image of the plan at its version's tag, each
layer read once. The verdict of an image it rebuilds names the packages (what `plan` and the dry run show),
and asks for a fresh build (every step again: cached steps would install the old version again). A child of
a rebuilt image rebuilds as always. An image whose look failed (an archive unreachable) keeps its verdict,
with the reason; the run goes on. A run records its look (`updates-state`: when each update was first seen)
and the report lists what waits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from ..catalog.changes import Action, Decision, RefreshPolicy
from ..catalog.plan import Plan, PlannedImage
from ..catalog.spec import Catalog
from ..settings.config import Settings
from ..updates import UpdatesReport
from ..updates.model import DebianUpdate, Update
from .stages import Tools

Review = Callable[[PlannedImage, Decision], Decision]


def look(tools: Tools, settings: Settings, catalog: Catalog, plan: Plan) -> UpdatesReport:
    """The installable updates of every image of PLAN, at its version's tag (never raises for one image)."""
    # The readers of package indexes and archives load only when a run looks for updates.
    from ..updates.compute import check_updates
    from ..updates.targets import index_url, target

    targets = [target(settings, catalog, image.name, tag=image.spec.version) for image in plan.images]
    return check_updates(tools.registry, targets, index_url(settings), cache=tools.layer_facts)


def rebuild_for_updates(found: UpdatesReport, policy: RefreshPolicy) -> Review:
    """A review of the change detection's verdicts: a skipped image with an update of POLICY's kind waiting
    (in FOUND) is built afresh, with the updates as its reason."""
    looked = {image.image: image for image in found.images}
    kind = "any" if policy.updates == "any" else "security"
    what = "installable update" if kind == "any" else "installable security update"

    def review(image: PlannedImage, decision: Decision) -> Decision:
        seen = looked.get(image.name)
        if decision.action is not Action.SKIP or seen is None:
            return decision
        if seen.error is not None:
            return dataclasses.replace(decision, reasons=(*decision.reasons, f"updates not known: {seen.error}"))
        waiting: dict[str, list[str]] = {}  # the update, as said -> the platforms it waits on
        for platform in seen.platforms:
            for update in platform.of_kind(kind):
                waiting.setdefault(describe(update), []).append(platform.platform)
        if not waiting:
            return dataclasses.replace(decision, reasons=(*decision.reasons, f"no {what}"))
        every = len(seen.platforms)
        said = [text if len(on) == every else f"{text} on {', '.join(on)}" for text, on in waiting.items()]
        reason = f"{what}{'s' if len(said) > 1 else ''}: {'; '.join(said)}"
        return dataclasses.replace(decision, action=Action.BUILD, reasons=(reason,), fresh=True)

    return review


def describe(update: Update) -> str:
    """`openssl 3.0.11-1 -> 3.0.15-1 (bookworm-security)`, `rich (/opt/venv) 13.7.1 -> 13.9.4 (index)`."""
    if isinstance(update, DebianUpdate):  # libssl3:amd64 and libssl3:arm64 are one package on two platforms
        name = update.package.partition(":")[0]
        return f"{name} {update.installed} -> {update.candidate} ({update.suite})"
    return f"{update.name} ({update.environment}) {update.installed} -> {update.candidate} (index)"


def chained(first: Review, second: Review) -> Review:
    """FIRST's verdict, then SECOND's review of it."""
    return lambda image, decision: second(image, first(image, decision))
