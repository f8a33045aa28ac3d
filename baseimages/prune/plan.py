"""Planning a prune: read each repository (its tags, the manifest each points at, the manifests each index
lists, the referrers where the registry has the API), judge every tag by the retention rules, then work
out what must stay.

The one safety rule: a manifest that any kept tag still reaches is never deleted. A kept tag reaches its
manifest, everything that manifest lists (platform manifests, attestation manifests, nested indexes), the
artifacts that belong to any of them (tags `sha256-<hex>.sig|.att|.sbom|...` of the cosign scheme, and
referrers), and so on down. A removed tag whose manifest is still reached is taken off that manifest
(`untag`); any other removed tag's manifest is deleted by digest, with everything below it that no kept
tag reaches. That is how untagged platform manifests go without ever breaking a kept multi-arch index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..catalog.fingerprint import CREATED_KEY
from ..core.errors import RegistryError
from ..core.reference import Reference
from ..registry.client import INDEX_TYPES, Manifest, RegistryClient
from ..registry.listing import entry_children
from .model import Change, ChangeKind, Kept, RepositoryPlan
from .retention import PRUNED_KEY, RetentionPolicy, TagKind, TagState, Verdict, classify, judge

Child = tuple[str, str, "str | None"]  # digest, media type, platform (None: attestations and artifacts)


@dataclass(frozen=True)
class Node:
    """A manifest of the repository: its digest, its type, what it lists and its annotations."""

    digest: str
    media_type: str
    children: tuple[Child, ...]
    annotations: dict[str, str]

    @property
    def what(self) -> str:
        return "index" if self.media_type in INDEX_TYPES else "manifest"


@dataclass
class RepositoryState:
    """What one repository holds: its tags and the manifests they reach."""

    repository: Reference
    tags: list[TagState]
    nodes: dict[str, Node]  # digest -> the manifest, for every tagged manifest and nested index
    referrers: dict[str, list[str]]  # digest -> the digests of its referrers (where the API exists)

    def children(self, digest: str) -> list[tuple[str, str]]:
        """(digest, what) of what DIGEST lists, and of its referrers."""
        node = self.nodes.get(digest)
        listed = (
            [(child, _child_what(media_type, platform)) for child, media_type, platform in node.children]
            if node
            else []
        )
        return listed + [(ref, "referrer") for ref in self.referrers.get(digest, [])]

    def known(self) -> set[str]:
        """Every digest the repository's tags are known to reach."""
        return set(self.nodes) | {child for node in self.nodes.values() for child, _, _ in node.children}


def read_repository(
    registry: RegistryClient, repository: Reference, tags: Sequence[str] | None = None
) -> RepositoryState:
    """Read REPOSITORY: each of its TAGS (default: every tag it lists), the manifests they point at, the
    indexes those list, and the referrers of every manifest when the registry has the referrers API."""
    states: list[TagState] = []
    nodes: dict[str, Node] = {}
    for tag in registry.tags(repository) if tags is None else tags:
        manifest = registry.manifest(replace(repository, tag=tag, digest=None))
        if manifest is None:  # removed since the listing
            continue
        node = nodes.setdefault(manifest.digest, _node(manifest))
        states.append(TagState(tag, manifest.digest, _built(node), PRUNED_KEY in node.annotations))
    _read_nested(registry, repository, nodes)
    state = RepositoryState(repository, states, nodes, {})
    state.referrers = _read_referrers(registry, repository, sorted(state.known()))
    return state


def plan_repository(
    state: RepositoryState, policy: RetentionPolicy, now: dt.datetime, in_catalog: bool
) -> RepositoryPlan:
    """The verdict on each tag, and the changes that make them true without touching what a kept tag reaches."""
    verdicts = judge(state.tags, policy, now, in_catalog)
    reached = reach(state, _roots(verdicts), verdicts)
    known = state.known()
    verdicts = [_artifact(v, reached, known) if v.kind is TagKind.ARTIFACT else v for v in verdicts]
    plan = RepositoryPlan(str(state.repository), in_catalog, verdicts)
    doomed: dict[str, list[Verdict]] = {}
    for verdict in verdicts:
        if verdict.keep:
            continue
        if verdict.digest in reached:
            rule = f"{verdict.rule}; still reached by kept tag {reached[verdict.digest]}"
            plan.changes.append(Change(ChangeKind.UNTAG, plan.repository, verdict.digest, "tag", (verdict.tag,), rule))
        else:
            doomed.setdefault(verdict.digest, []).append(verdict)
    deleted = set(doomed)
    for digest, removed in doomed.items():
        what = _top_what(state.nodes.get(digest), removed[0].kind)
        rule = "; ".join(dict.fromkeys(v.rule for v in removed))
        tags = tuple(v.tag for v in removed)
        plan.changes.append(Change(ChangeKind.DELETE, plan.repository, digest, what, tags, rule))
    for digest, removed in doomed.items():
        _below(state, digest, removed[0].tag, reached, deleted, plan)
    return plan


def reach(state: RepositoryState, roots: dict[str, str], verdicts: Iterable[Verdict]) -> dict[str, str]:
    """Every digest the ROOTS (digest -> kept tag) reach, mapped to the kept tag that reaches it: what they
    list, their referrers and the artifact tags that belong to them, all the way down."""
    artifacts: dict[str, list[str]] = {}
    for verdict in verdicts:
        if verdict.subject is not None:
            artifacts.setdefault(verdict.subject, []).append(verdict.digest)
    reached = dict(roots)
    queue = list(reversed(roots))  # depth first from the first root: what it reaches is named after it
    while queue:
        digest = queue.pop()
        for child in [c for c, _ in state.children(digest)] + artifacts.get(digest, []):
            if child not in reached:
                reached[child] = reached[digest]
                queue.append(child)
    return reached


def cache_repositories(registry: RegistryClient, domain: str, namespace: str, catalog: Iterable[str]) -> list[str]:
    """Paths of the repositories under NAMESPACE whose image is not in the CATALOG (names). RegistryError
    when the registry does not list its repositories."""
    prefix = f"{namespace}/" if namespace else ""
    names = set(catalog)
    out = []
    for path in registry.repositories(domain):
        name = path[len(prefix) :] if path.startswith(prefix) else ""
        if name and "/" not in name and name not in names:
            out.append(path)
    return out


def cache_tags(registry: RegistryClient, repository: Reference) -> list[str] | None:
    """Every tag of REPOSITORY when some of them are cache refs (the rest protect what they share), else None."""
    tags = registry.tags(repository)
    return tags if any(classify(tag) is TagKind.CACHE for tag in tags) else None


def unlisted_note(exc: RegistryError) -> str:
    return f"cache refs of images no longer in the catalog were not looked for: {exc}"


def _below(
    state: RepositoryState, top: str, tag: str, reached: dict[str, str], deleted: set[str], plan: RepositoryPlan
) -> None:
    """Delete what the deleted manifest TOP lists (and its referrers), all the way down, except what a kept
    tag still reaches: that is noted as kept."""
    noted = {k.digest for k in plan.kept}
    stack = [top]
    while stack:
        for child, what in state.children(stack.pop()):
            if child in deleted:
                continue
            if child in reached:
                if child not in noted:
                    noted.add(child)
                    plan.kept.append(Kept(child, what, tag, reached[child]))
                continue
            deleted.add(child)
            plan.changes.append(Change(ChangeKind.DELETE, plan.repository, child, what, (), f"part of removed {tag}"))
            stack.append(child)


_NAMED_BY = (TagKind.ROLLING, TagKind.DATED, TagKind.MONTHLY, TagKind.CANDIDATE, TagKind.CACHE, TagKind.OTHER)


def _roots(verdicts: Sequence[Verdict]) -> dict[str, str]:
    """digest -> the kept tag a plan names as what keeps it: a rolling tag before a dated one before a
    monthly one (and the longest, `latest` first, among rolling tags). Artifacts follow, they keep nothing."""
    kept = [v for v in verdicts if v.keep and v.kind is not TagKind.ARTIFACT]
    roots: dict[str, str] = {}
    for verdict in sorted(kept, key=lambda v: (_NAMED_BY.index(v.kind), v.tag != "latest", -len(v.tag), v.tag)):
        roots.setdefault(verdict.digest, verdict.tag)
    return roots


def _artifact(verdict: Verdict, reached: dict[str, str], known: set[str]) -> Verdict:
    """An artifact tag follows the manifest it belongs to: kept with it, removed with it; kept when that
    manifest is not one the repository's tags reach (prune never guesses)."""
    subject = verdict.subject
    if subject in reached:
        return replace(verdict, keep=True, rule=f"artifact of {subject[:19]}, reached by kept tag {reached[subject]}")
    if subject in known:
        return replace(verdict, keep=False, rule=f"artifact of {subject[:19]}, which goes")
    return replace(verdict, keep=True, rule=f"artifact of {subject}, not among this repository's tagged manifests")


def _node(manifest: Manifest) -> Node:
    children = tuple(entry_children(manifest.doc)) if manifest.is_index else ()
    notes = manifest.doc.get("annotations") or {}
    return Node(manifest.digest, manifest.media_type, children, {str(k): str(v) for k, v in notes.items()})


def _read_nested(registry: RegistryClient, repository: Reference, nodes: dict[str, Node]) -> None:
    """Read every index an index lists (a nested index has children of its own)."""
    pending = [c for n in nodes.values() for c, media_type, _ in n.children if media_type in INDEX_TYPES]
    while pending:
        digest = pending.pop()
        if digest in nodes:
            continue
        manifest = registry.manifest(replace(repository, tag=None, digest=digest))
        if manifest is not None:
            nodes[digest] = _node(manifest)
            pending += [c for c, media_type, _ in nodes[digest].children if media_type in INDEX_TYPES]


def _read_referrers(registry: RegistryClient, repository: Reference, digests: Sequence[str]) -> dict[str, list[str]]:
    """digest -> its referrers' digests; {} when the registry has no referrers API (its first answer says)."""
    out: dict[str, list[str]] = {}
    for digest in digests:
        found = registry.referrers(replace(repository, tag=None, digest=digest))
        if found is None:
            return {}
        if found:
            out[digest] = [ref for ref, _ in found]
    return out


def _built(node: Node) -> dt.datetime | None:
    """The build time the factory records on an index (org.opencontainers.image.created)."""
    try:
        value = dt.datetime.fromisoformat(node.annotations.get(CREATED_KEY, "").replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _top_what(node: Node | None, kind: TagKind) -> str:
    if kind in (TagKind.ARTIFACT, TagKind.CACHE):
        return "artifact" if kind is TagKind.ARTIFACT else "cache ref"
    return node.what if node else "manifest"


def _child_what(media_type: str, platform: str | None) -> str:
    if media_type in INDEX_TYPES:
        return "nested index"
    return f"{platform} manifest" if platform else "manifest without a platform (attestation)"
