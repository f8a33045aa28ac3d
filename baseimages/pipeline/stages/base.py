"""What every stage shares: the image as children use it (`Pinned`), the per-image context a stage
reads and fills in, the run's tools, and the `Stage` base class itself.

A stage has one job. It computes what it does from the context (`actions`: typed records, see
baseimages.pipeline.actions), its run executes exactly those, and a dry run renders them; `assume`
fills the context as its run would, with placeholders for what only a run knows. It knows nothing
about threads, events or other images. The scheduler decides when it runs and reports it.
"""

from __future__ import annotations

import copy
import functools
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ...catalog.labels import repository_url
from ...catalog.plan import Plan, PlannedImage
from ...changelog import Changelog
from ...changelog.facts_cache import FactsCache
from ...core.errors import BuildError, InternalError, RegistryError
from ...core.events import Phase
from ...core.process import git_output
from ...core.reference import parse_reference
from ...core.results import CheckResult, ImageResult
from ...core.retry import RetrySink, call_with_retries
from ...core.runs import owned_tempdir
from ...engine.client import Engine, LineSink
from ...registry.client import ImageIndex, RegistryClient
from ...registry.published import Promotion
from ...settings.config import Settings
from ...trust.signing import Cosign
from ...updates import UpdatesReport
from ..actions import Action, placeholder

if TYPE_CHECKING:
    from ...catalog.changes import Decision

T = TypeVar("T")
PLANNING_WORKDIR = Path("<tmp>")  # what a dry run shows for the run's folder
Note = Callable[[str, "str | None"], None]  # (detail, platform): progress of the stage that runs
PARENT_CONTEXT = "baseimages-parent"  # the named build context a child's FROM reads its parent from


@dataclass(frozen=True)
class Pinned:
    """An image as the next build uses it: REF (what BASE_IMAGE is set to) and the DIGEST it must be.

    A parent built in this run is in the local image store under its candidate tag (REF; the smoke
    tests run it there), checked against its digest right before use. When pushing, children build
    FROM its candidate in the registry by digest (UPLOADED), on whatever builder: BuildKit then treats
    its layers as a base image's, exactly as when a later run builds FROM the published parent (a
    reproducible rebuild). In a build run (nothing uploaded) a child's build on the default builder
    reads it from the local store by tag, one on another builder from its OCI layout directory
    (LAYOUT) as the named build context `oci-layout://LAYOUT@DIGEST` (BuildKit's rewrite-timestamp
    then rewrites the base image's layers too). Others are pinned by digest in their registry.
    """

    ref: str
    digest: str
    local: bool
    name: str = ""  # what a consumer calls it (the `base.name` label): its immutable tag, or the catalog's name
    layout: Path | None = None  # its OCI layout (a parent built in this run)
    uploaded: bool = False  # its candidate is in the registry at this digest

    @property
    def label_name(self) -> str:
        return self.name or self.ref.split("@")[0]

    @property
    def pinned_ref(self) -> str:
        return f"{self.ref.split('@')[0]}@{self.digest}"

    @property
    def from_ref(self) -> str:
        """What a child's BASE_IMAGE is set to on the default builder (the contract service's too)."""
        return self.ref if self.local and not self.uploaded else self.pinned_ref

    def base_for(self, default_builder: bool) -> tuple[str, dict[str, str]]:
        """BASE_IMAGE and the named build contexts of a child's build FROM this image, on the default
        builder or on another one."""
        if default_builder or self.uploaded or not self.local or self.layout is None:
            return self.from_ref, {}
        return PARENT_CONTEXT, {PARENT_CONTEXT: f"oci-layout://{self.layout}@{self.digest}"}


class Tools:
    """What stages use, shared by every image of a run: settings, the registry client, the engine
    (created on first use only, so that a run where nothing builds starts no Docker process), the
    external bases each resolved once per run, and where build logs go."""

    def __init__(
        self,
        settings: Settings,
        registry: RegistryClient,
        engine: Callable[[], Engine],
        on_build_line: Callable[[str, str], None] | None = None,
        signer: Cosign | None = None,
        no_cache: bool = False,
    ) -> None:
        self.settings = settings
        self.no_cache = no_cache  # builds run every step again (a reproducibility check)
        self.registry = registry
        self.signer = signer or Cosign(settings.sign_key, settings.sign_password)
        self._engine = engine
        self._on_build_line = on_build_line
        self._resolved: dict[str, str] = {}
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._workdir_lock = threading.Lock()
        self.planning = False  # a dry run's tools: placeholders for what only a run knows, no engine
        self._resolving = False  # a dry run's tools resolve bases (else: placeholders)
        self._unreachable: str | None = None  # why a dry run stopped asking the registry
        self.layer_facts = FactsCache(settings.layer_cache)  # what each layer read for a changelog holds
        self.updates_look: UpdatesReport | None = None  # refresh `updates`: the run's look, until recorded
        self.tags_read: dict[str, Promotion | None] = {}  # image -> where its tags stood when the run decided

    def for_planning(self, registry: RegistryClient | None = None, resolve: bool = False) -> Tools:
        """These tools as a dry run uses them: REGISTRY (default: the run's) is only read, the folder is
        `<tmp>`, and the engine is never started. A base is resolved through REGISTRY when RESOLVE (while
        it answers), else it is a placeholder."""
        tools = copy.copy(self)
        tools.planning = True
        tools._resolving = resolve
        tools.registry = registry or self.registry
        tools._resolved = dict(self._resolved)
        tools._workdir, tools._workdir_lock = None, threading.Lock()
        return tools

    def read_or(self, func: Callable[[], T], fallback: T) -> T:
        """A dry run's registry read: FUNC, or FALLBACK once the registry failed (asked no more)."""
        if self._unreachable is not None:
            return fallback
        try:
            return func()
        except RegistryError as exc:
            self._unreachable = str(exc)
            return fallback

    @property
    def unreachable(self) -> str | None:
        """Why a dry run could not read the registry (None: every read it made answered)."""
        return self._unreachable

    @property
    def workdir(self) -> Path:
        """A folder for the run's build outputs (OCI archives), removed by `close` (`baseimages-run-PID-*`:
        the next run removes it if this one is killed)."""
        if self.planning:
            return PLANNING_WORKDIR
        with self._workdir_lock:
            if self._workdir is None:
                self._workdir = owned_tempdir("run")
            return Path(self._workdir.name)

    def close(self) -> None:
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    @property
    def engine(self) -> Engine:
        if self.planning:
            raise InternalError("dry run", RuntimeError("a dry run never uses the engine"))
        return self._engine()

    def line_sink(self, name: str) -> LineSink | None:
        sink = self._on_build_line
        return None if sink is None else (lambda line: sink(name, line))

    def resolve_digest(self, reference: str) -> str:
        """The digest REFERENCE resolves to, asked once per run so that every image of the run agrees."""
        ref = parse_reference(reference)
        if ref.digest:
            return ref.digest
        if reference not in self._resolved and self.planning:
            found = self.read_or(lambda: self.registry.digest(ref), None) if self._resolving else None
            if found is None:
                return placeholder(reference)
            self._resolved[reference] = found
        if reference not in self._resolved:
            digest = self.registry.digest(ref)
            if digest is None:
                raise RegistryError(f"cannot resolve base image {reference}: {ref} not found")
            self._resolved[reference] = digest
        return self._resolved[reference]

    def resolve_external(self, reference: str) -> str:
        """REFERENCE (e.g. python:3.11-slim) pinned to its current digest (through dockerd's mirrors first)."""
        if parse_reference(reference).digest:
            return reference
        return f"{reference}@{self.resolve_digest(reference)}"

    def check_local(self, image: Pinned) -> None:
        """The local tag a build or test uses must still name the digest this run recorded for it."""
        found = self.engine.local_digest(image.ref)
        if found != image.digest:
            raise BuildError(
                image.ref, f"the local image now names {found or 'nothing'}, not {image.digest} (another run?)"
            )

    @functools.cached_property
    def revision(self) -> str:
        return git_output(self.settings.root, "rev-parse", "HEAD")

    @functools.cached_property
    def source(self) -> str:
        """The images' source label: the setting, else the git remote's web URL, else none."""
        remote = git_output(self.settings.root, "config", "--get", "remote.origin.url")
        return self.settings.source or repository_url(remote)


class Warming:
    """A child's cache warm-up (`WarmCache`) while its parent still builds: OFFERED waits for the parent's
    output of a platform (None once the parent's candidate exists); the child's own build of a platform
    waits until that platform's warm-up is `over`. A warm-up may take a `jobs` permit (TAKE: only a free
    one, never waiting); once the image's own stages begin (`close`), the permit is the image's."""

    def __init__(self, platforms: tuple[str, ...], offered: Callable[[str], Pinned | None], take: Callable[[], bool]):
        self.offered = offered
        self._take = take
        self._over = {platform: threading.Event() for platform in platforms}
        self._lock = threading.Lock()
        self._permit = self._closed = False

    def take_permit(self) -> bool:
        """Whether the warm-up holds a permit: taken now if one is free (never once closed)."""
        with self._lock:
            if not self._permit and not self._closed:
                self._permit = self._take()
            return self._permit

    def close(self) -> bool:
        """No permit is taken from now on; True (once) when the warm-up holds one, which the caller now owns."""
        with self._lock:
            first, self._closed = not self._closed, True
            return first and self._permit

    def over(self, platform: str) -> None:
        self._over[platform].set()

    def finish(self) -> None:
        for event in self._over.values():
            event.set()

    def wait(self, platform: str) -> None:
        event = self._over.get(platform)
        if event is not None:
            event.wait()


@dataclass(frozen=True)
class Settled:
    """A stage found the image already published (DIGEST): the rest of its stages do not run; only MOVES,
    the tags of its promotion that do not name DIGEST yet, move to it (once its parent is done)."""

    digest: str
    reason: str
    moves: tuple[str, ...] = ()


@dataclass
class ImageContext:
    """One image in one run: what its stages read (the plan, the tools, the parent) and fill in (the
    candidate they built, the index the registry holds, the result)."""

    image: PlannedImage
    plan: Plan
    push: bool
    tools: Tools
    result: ImageResult
    decision: Decision | None = None
    parent: Pinned | None = None  # what it builds FROM: set by the scheduler (a catalog parent) or resolved
    built: Pinned | None = None  # its candidate, once built
    archive: Path | None = None  # the candidate as buildx wrote it: an OCI archive (what the upload sends)
    index: ImageIndex | None = None  # the candidate's index in the registry, once uploaded
    immutable: str | None = None  # the immutable tag it will get when it promotes (once identified)
    settled: Settled | None = None
    changelog: Changelog | None = None  # what changed since the build its promotion replaces (once read)
    offer: Callable[[str, Pinned], None] | None = None  # a parent's: a platform built while others build
    warming: Warming | None = None  # a child's cache warm-up while its parent builds (WarmCache)
    # platform -> the contract's checks, until they join the smoke tests' (SmokeTest.joined)
    contract_checks: dict[str, list[CheckResult]] = field(default_factory=dict)
    note: Note = field(default=lambda detail, platform: None)
    retried: RetrySink = field(default=lambda notice: None)  # told of each retry `with_retries` makes

    @property
    def name(self) -> str:
        return self.image.name

    def with_retries(self, func: Callable[[], T]) -> T:
        """FUNC, retried per the registry's policy while it fails transiently; each retry is told to
        `retried` as a RetryNotice on this image."""
        return call_with_retries(self.name, func, self.tools.registry.retry, self.retried, image=self.name)


class Gate(Enum):
    """What a stage waits for before it starts."""

    PARENT_DONE = "parent done"  # the parent promoted (or, in a build, passed); blocked when it failed


class Stage:
    """One step an image goes through. Subclasses set the class attributes and override `actions`,
    `run` (which executes what `actions` returns) and `assume` (and `applies` / `detail` where needed)."""

    key: str = ""  # the report's phase name (seconds, timeline)
    phase: Phase = Phase.BUILDING  # the event it is announced with
    heavy: bool = True  # holds one of the `jobs` permits while it runs
    gate: Gate | None = None
    publishes_candidate: bool = False  # children may build FROM ctx.built once it ran (see `publishes`)
    per_platform: bool = False  # announced per platform (by its notes), not once for the whole image
    beside: bool = False  # runs while the next ones do, awaited before the next light one (then `joined`)
    early: bool = False  # runs while the image waits for its parent's candidate (beside the parent's build)

    def applies(self, ctx: ImageContext) -> bool:
        return True

    def publishes(self, ctx: ImageContext) -> bool:
        """Whether children may build FROM ctx.built once this stage ran."""
        return self.publishes_candidate

    def detail(self, ctx: ImageContext) -> str:
        """What the progress line says as the stage starts."""
        return ""

    def run(self, ctx: ImageContext) -> None:
        raise NotImplementedError

    def actions(self, ctx: ImageContext) -> list[Action]:
        """What `run` does on CTX as it is now, in order: the records its run executes and a dry run
        renders (a dry run's context holds placeholders for what only a run knows)."""
        return []

    def joined(self, ctx: ImageContext) -> None:
        """A `beside` stage, once awaited (what its run set on its view copied back to CTX): what it adds to
        the image's result then, when the stages it ran beside are done."""

    def assume(self, ctx: ImageContext) -> None:
        """A dry run: fill in CTX as `run` would, with placeholders, for the stages after this one."""
