"""What a registry lists, and what it deletes: the tags of a repository and the registry's repositories
(both paginated by the `Link` header), the referrers of a manifest (OCI 1.1, where the registry has the
API), and manifest DELETE by digest.

A registry that does not allow deletes (distribution without `storage.delete.enabled`) answers 405
UNSUPPORTED to every DELETE; `check_deletes` asks once with a digest nothing has, so that a run learns
it before it changes anything.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

from ..core.errors import RegistryError
from ..core.reference import Reference
from ..oci.documents import INDEX_TYPES, MANIFEST_TYPES, descriptor, digest_of, field_of, platform_of
from .documents import parse_json
from .http import HttpClient, Response, base_url

MAX_PAGES = 10_000  # a Link chain longer than this is a loop the registry made
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?', re.IGNORECASE)
DELETE_SCOPE = "pull,push,delete"
# A digest no registry holds: deleting it tells whether deletes are allowed (404) or not (405).
_PROBE_DIGEST = digest_of(b"baseimages: may this registry delete manifests?")


def next_page(answer: Response, url: str) -> str | None:
    """The next page's URL from ANSWER's `Link: <...>; rel="next"` header (absolute), None on the last page."""
    match = _NEXT.search(answer.headers.get("link", ""))
    return urllib.parse.urljoin(url, match[1]) if match else None


def _paginated(http: HttpClient, ref: Reference, path: str, key: str, what: str) -> list[str] | None:
    """Every string of KEY over the pages from PATH on; None when the first page is a 404."""
    url: str | None = base_url(ref.domain) + path
    seen: set[str] = set()
    items: list[str] = []
    while url is not None:
        if url in seen or len(seen) >= MAX_PAGES:
            raise RegistryError(f"{ref.domain}: the pages of {what} link back to {url}; not a registry answer")
        seen.add(url)
        answer = http.call("GET", ref, url, expect=(200, 404), headers={"Accept": "application/json"})
        if answer.status == 404:
            if len(seen) == 1:
                return None
            raise RegistryError(f"{ref.domain}: {url} (a next page of {what}) answered 404")
        doc = parse_json(answer, url, what)
        page = field_of(doc, key, list, url, what, required=False) or []  # `"tags": null` when there are none
        if not all(isinstance(item, str) for item in page):
            raise RegistryError(f"{url}: {what} has {key!r} that are not all strings")
        items.extend(page)
        url = next_page(answer, url)
    return items


def list_tags(http: HttpClient, repository: Reference) -> list[str]:
    """The tags of REPOSITORY, every page; [] when the repository does not exist."""
    tags = _paginated(http, repository, f"/v2/{repository.path}/tags/list", "tags", "a tag list")
    return sorted(set(tags or []))


def list_repositories(http: HttpClient, domain: str) -> list[str]:
    """Every repository of the registry at DOMAIN (`/v2/_catalog`, every page). A registry that does not
    list them (404, 401, 403) raises RegistryError with that status."""
    ref = Reference(domain, "_catalog")
    found = _paginated(http, ref, "/v2/_catalog", "repositories", "a repository list")
    if found is None:
        raise RegistryError(f"{domain}: does not list its repositories (GET /v2/_catalog: 404)", status=404)
    return sorted(set(found))


def referrers(http: HttpClient, ref: Reference) -> list[tuple[str, str]] | None:
    """(digest, media type) of each manifest whose `subject` is REF's digest, from the OCI referrers API;
    None when the registry does not have that API (it answers 404)."""
    assert ref.digest is not None
    url = f"/v2/{ref.path}/referrers/{ref.digest}"
    answer = http.call("GET", ref, url, expect=(200, 404), headers={"Accept": INDEX_TYPES[0]})
    if answer.status == 404:
        return None
    where = base_url(ref.domain) + url
    doc = parse_json(answer, where, "a referrers index")
    out = []
    for number, entry in enumerate(field_of(doc, "manifests", list, where, "the referrers index")):
        digest, _ = descriptor(entry, where, f"referrer {number}")
        out.append((digest, str(entry.get("mediaType") or MANIFEST_TYPES[0])))
    return out


def delete_manifest(http: HttpClient, ref: Reference) -> bool:
    """DELETE the manifest REF names by digest (which also drops every tag that points at it); True when
    it was deleted, False when the registry no longer had it. A registry that does not allow deletes
    raises RegistryError (exit code 3)."""
    assert ref.digest is not None, "manifests are deleted by digest only"
    url = f"/v2/{ref.path}/manifests/{ref.digest}"
    answer = http.call("DELETE", ref, url, scope=DELETE_SCOPE, expect=(200, 202, 204, 404, 405))
    if answer.status == 405:
        raise _deletes_refused(ref)
    return answer.status != 404


def check_deletes(http: HttpClient, repository: Reference) -> None:
    """Raise RegistryError unless the registry allows manifest deletes (asked with a digest nothing has)."""
    delete_manifest(http, Reference(repository.domain, repository.path, None, _PROBE_DIGEST))


def _deletes_refused(ref: Reference) -> RegistryError:
    return RegistryError(
        f"{ref.domain}: the registry does not allow deletes (DELETE {base_url(ref.domain)}/v2/{ref.path}/manifests/"
        "... answered 405 UNSUPPORTED); enable them in its configuration (distribution: storage.delete.enabled: "
        "true) or prune without --apply to see what would go",
        status=405,
    )


def entry_children(doc: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(digest, media type, platform or None) of each manifest a checked index lists; entries that are not
    manifests (BuildKit's cache index lists blobs) are left out."""
    out = []
    for entry in doc.get("manifests") or []:
        media_type = str(entry.get("mediaType") or "")
        if media_type and media_type not in INDEX_TYPES + MANIFEST_TYPES:
            continue
        out.append((str(entry["digest"]), media_type or MANIFEST_TYPES[0], platform_of(entry, "an index")))
    return out
