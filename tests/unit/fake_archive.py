"""An in-process web server of fixed files for unit tests (127.0.0.1 only): a Debian archive (Release and
Packages indexes, built here) and a Python simple index (PEP 691 JSON pages).

    with FakeWeb() as web:
        web.suite("debian", "bookworm", {"main": {"amd64": {"openssl": "3.0.16-1"}}})
        web.project("rich", ["13.9.4", "14.0.0rc1"])
        web.url("/debian")                                   # http://127.0.0.1:PORT/debian
"""

from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def packages_index(packages: dict[str, str | list[str]], arch: str = "amd64") -> bytes:
    """A Packages index of PACKAGES (name -> version, or several versions)."""
    paragraphs = []
    for name, versions in packages.items():
        for version in [versions] if isinstance(versions, str) else versions:
            paragraphs.append(
                f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\nMaintainer: x <x@example.org>\n"
                f"Filename: pool/main/{name[0]}/{name}/{name}_{version}_{arch}.deb\nSize: 100\n"
                f"Description: the {name} package\n long text\n"
            )
    return "\n".join(paragraphs).encode()


def compressed(data: bytes, ext: str) -> bytes:
    return lzma.compress(data) if ext == ".xz" else gzip.compress(data, mtime=0) if ext == ".gz" else data


def release_file(suite: str, files: dict[str, bytes], extra: str = "") -> bytes:
    """A Release listing FILES (path -> bytes) with their SHA256 and size."""
    components = sorted({path.split("/")[0] for path in files if "/" in path})
    lines = [f"Origin: Test\nSuite: {suite}\nCodename: {suite.split('-')[0]}\nComponents: {' '.join(components)}",
             "Architectures: amd64 arm64", extra.rstrip("\n"), "SHA256:"]  # fmt: skip
    lines += [f" {hashlib.sha256(data).hexdigest()} {len(data):>8} {path}" for path, data in sorted(files.items())]
    return ("\n".join(line for line in lines if line) + "\n").encode()


def clearsigned(text: bytes) -> bytes:
    """TEXT as an InRelease: OpenPGP clear-signed armour around it (the signature is not a real one)."""
    return (
        b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
        + text
        + b"-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCgAdFiEE\n=abcd\n-----END PGP SIGNATURE-----\n"
    )


@dataclass
class FakeWeb:
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # path -> (body, content type)
    requests: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)  # the Authorization header of each request ("": none)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FakeWeb:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.web = self  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
        self._server = server
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def address(self) -> str:
        assert self._server is not None
        return f"127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str = "") -> str:
        return f"http://{self.address}{path}"

    def put(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.files[path] = (body, content_type)

    def suite(
        self,
        archive: str,
        suite: str,
        components: dict[str, dict[str, dict[str, str | list[str]]]],
        ext: str = ".xz",
        signed: bool = True,
        extra: str = "",
    ) -> None:
        """Publish SUITE of the archive at /ARCHIVE: per component and architecture its packages, as
        Packages{EXT}; its Release as InRelease (SIGNED) or Release."""
        listed: dict[str, bytes] = {}
        for component, arches in components.items():
            for arch, packages in arches.items():
                data = compressed(packages_index(packages, arch), ext)
                listed[f"{component}/binary-{arch}/Packages{ext}"] = data
        base = f"/{archive}/dists/{suite}"
        for path, data in listed.items():
            self.put(f"{base}/{path}", data)
        release = release_file(suite, listed, extra)
        self.files.pop(f"{base}/InRelease", None)
        self.files.pop(f"{base}/Release", None)
        self.put(f"{base}/InRelease" if signed else f"{base}/Release", clearsigned(release) if signed else release)

    def project(self, name: str, versions: list[str], yanked: tuple[str, ...] = ()) -> None:
        """A PEP 691 project page for NAME with a wheel per version (YANKED ones marked)."""
        files: list[dict[str, Any]] = [
            {
                "filename": f"{name.replace('-', '_')}-{v}-py3-none-any.whl",
                "url": f"x/{v}.whl",
                "hashes": {},
                "yanked": v in yanked,
            }  # fmt: skip
            for v in versions
        ]
        page = {"meta": {"api-version": "1.0"}, "name": name, "files": files}
        self.put(f"/simple/{name}/", json.dumps(page).encode(), JSON_TYPE)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        web: FakeWeb = self.server.web  # type: ignore[attr-defined]
        web.requests.append(self.path)
        web.authorizations.append(self.headers.get("Authorization", ""))
        found = web.files.get(self.path)
        if found is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body, content_type = found
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass
