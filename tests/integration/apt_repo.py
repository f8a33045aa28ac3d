"""A Debian repository of the tests' own: one tiny `Architecture: all` package, `baseimages-probe`, built with
`dpkg-deb --build` at the version a test asks for, indexed the way Debian's archive is, and served over HTTP
from a thread of the test process.

Layout (suite `probe` unless a test names another, e.g. `probe-security`, which `updates` counts as a security
suite; component `main`; what apt and the `updates` command read):

    pool/main/b/baseimages-probe/baseimages-probe_<version>_all.deb
    dists/<suite>/main/binary-{amd64,arm64}/Packages{,.gz}   the arch-all package listed in each, as Debian does
    dists/<suite>/Release                                    MD5Sum and SHA256 of every index, plain and gzipped

The indexes are written here, not by apt-ftparchive: the package's own control fields, size and hashes are all
an index needs. The repository is unsigned; images use it with `[trusted=yes]` (`sources_line`).

Where builds reach it: RUN steps of `docker buildx build` in the engine's default `docker` builder run on
Docker's bridge network, where 127.0.0.1 is the build container itself and the host is the bridge's gateway
(172.17.0.1 on a default engine; read from `docker network inspect bridge`). The server therefore listens on
the gateway address, which is also an address of the host itself, so one URL serves the builds and the
factory on the host reading the same sources (a proxy, if one is configured, must not be used for it:
NO_PROXY). Publishing the next version is one call: `repo.publish("1.1")`.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import pytest

PACKAGE = "baseimages-probe"
SUITE = "probe"
COMPONENT = "main"
ARCHITECTURES = ("amd64", "arm64")
PAYLOAD = Path("usr/share/baseimages-probe/version")  # the package's one file: its own version


def bridge_gateway() -> str:
    """The host's address on Docker's default bridge network, where build containers find the host."""
    done = subprocess.run(
        ["docker", "network", "inspect", "bridge", "--format", "{{json .IPAM.Config}}"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        pytest.fail(f"cannot read Docker's bridge network (is the engine up? scripts/engine up): {done.stderr}")
    for config in json.loads(done.stdout) or []:
        if ":" not in config.get("Gateway", ":"):  # the IPv4 gateway
            return str(config["Gateway"])
    pytest.fail(f"Docker's bridge network has no IPv4 gateway: {done.stdout}")


def build_deb(version: str, out_dir: Path) -> Path:
    """`baseimages-probe_<version>_all.deb` in OUT_DIR, built by dpkg-deb (it installs one file naming its version)."""
    if shutil.which("dpkg-deb") is None:
        pytest.fail("dpkg-deb is not installed (Debian's dpkg package provides it)")
    tree = out_dir / f"tree-{version}"
    shutil.rmtree(tree, ignore_errors=True)
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / PAYLOAD).parent.mkdir(parents=True)
    (tree / PAYLOAD).write_text(f"{version}\n")
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {PACKAGE}\nVersion: {version}\nArchitecture: all\nSection: misc\nPriority: optional\n"
        "Maintainer: baseimages tests <tests@baseimages.invalid>\n"
        "Description: probe package of the baseimages integration tests\n"
        " Installs one file holding its own version.\n"
    )
    deb = out_dir / f"{PACKAGE}_{version}_all.deb"
    done = subprocess.run(
        ["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(tree), str(deb)], capture_output=True, text=True
    )
    shutil.rmtree(tree)
    if done.returncode != 0:
        pytest.fail(f"dpkg-deb --build failed: {done.stderr}")
    return deb


def package_stanza(deb: Path, filename: str) -> str:
    """The `Packages` entry of DEB: its control fields, then where it lies in the pool, its size and hashes."""
    control = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True, check=True).stdout
    data = deb.read_bytes()
    return (
        control.rstrip("\n")
        + f"\nFilename: {filename}\nSize: {len(data)}\nMD5sum: {hashlib.md5(data).hexdigest()}"
        + f"\nSHA256: {hashlib.sha256(data).hexdigest()}\n"
    )


def release_text(dist: Path, indexes: list[Path], suite: str = SUITE) -> str:
    """SUITE's `Release`: what it holds, and MD5Sum and SHA256 of each index relative to DIST."""
    sums: dict[str, list[str]] = {"MD5Sum": [], "SHA256": []}
    for index in indexes:
        data, name = index.read_bytes(), index.relative_to(dist).as_posix()
        sums["MD5Sum"].append(f" {hashlib.md5(data).hexdigest()} {len(data):>8} {name}")
        sums["SHA256"].append(f" {hashlib.sha256(data).hexdigest()} {len(data):>8} {name}")
    head = (
        f"Origin: baseimages-tests\nLabel: baseimages-tests\nSuite: {suite}\nCodename: {suite}\n"
        f"Date: {formatdate(usegmt=True)}\nArchitectures: {' '.join(ARCHITECTURES)}\nComponents: {COMPONENT}\n"
        "No-Support-for-Architecture-all: Packages\nDescription: the baseimages integration tests' repository\n"
    )
    return head + "".join(f"{field}:\n" + "\n".join(lines) + "\n" for field, lines in sums.items())


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass
class AptRepo:
    """The repository in ROOT, served on HOST, its one suite SUITE; `published` is the version its indexes list
    now."""

    root: Path
    host: str
    suite: str = SUITE
    port: int = 0
    published: str | None = None
    requests: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    @property
    def sources_line(self) -> str:
        """The one-line apt source (sources.list format) for this repository."""
        return f"deb [trusted=yes] {self.url} {self.suite} {COMPONENT}"

    def publish(self, version: str) -> None:
        """Build `baseimages-probe` at VERSION and make it the one version the indexes list (the old .deb stays in
        the pool, unlisted, as in Debian's archive)."""
        pool = self.root / "pool" / COMPONENT / PACKAGE[0] / PACKAGE
        pool.mkdir(parents=True, exist_ok=True)
        deb = build_deb(version, pool)
        stanza = package_stanza(deb, deb.relative_to(self.root).as_posix())
        dist = self.root / "dists" / self.suite
        indexes: list[Path] = []
        for arch in ARCHITECTURES:
            folder = dist / COMPONENT / f"binary-{arch}"
            folder.mkdir(parents=True, exist_ok=True)
            plain = folder / "Packages"
            plain.write_text(stanza)
            packed = folder / "Packages.gz"
            packed.write_bytes(gzip.compress(plain.read_bytes(), mtime=0))
            indexes += [plain, packed]
        release = dist / "Release.tmp"
        release.write_text(release_text(dist, indexes, self.suite))
        release.replace(dist / "Release")  # apt never sees a half-written Release
        self.published = version


@contextmanager
def serve_apt_repo(root: Path, version: str = "1.0", host: str | None = None, suite: str = SUITE) -> Iterator[AptRepo]:
    """An AptRepo in ROOT with VERSION published in SUITE, served from a thread on HOST (the bridge gateway by
    default) on a free port, stopped on exit."""
    repo = AptRepo(root=root, host=host or bridge_gateway(), suite=suite)
    root.mkdir(parents=True, exist_ok=True)
    repo.publish(version)

    class Handler(_QuietHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            repo.requests.append(f"{self.command} {self.path} {code}")

    server = http.server.ThreadingHTTPServer((repo.host, 0), Handler)
    repo.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, name="apt-repo", daemon=True)
    thread.start()
    try:
        yield repo
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def apt_repo(tmp_path: Path) -> Iterator[AptRepo]:
    """A fresh repository with `baseimages-probe` 1.0 published, reachable from builds at `apt_repo.url`."""
    with serve_apt_repo(tmp_path / "apt-repo") as repo:
        yield repo
