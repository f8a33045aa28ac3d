"""baseimages as a service team uses it: from a wheel installed in a venv of its own, in a repository of its own.

The checkout is only where the distributions are built from (`python -m build` on a clean copy of it: the
sdist, then the wheel from the unpacked sdist, so that what the sdist lacks breaks the wheel too) and where the
README's library example is read from. Everything else runs in a new virtualenv outside the checkout (no system
site-packages, no PYTHONPATH, no BASEIMAGES_* variable, the checkout on no path), whose pip fetches the
dependencies through the machine's own index configuration (PIP_* variables, pip.conf, the CA bundle), with the
cwd a temporary project laid out as a team's repository: its pyproject.toml with `[tool.baseimages]`, one small
image under images/<name>/ FROM python:3.11-slim, pushed for two platforms to the suite's registry (the
integration conftest's `test_registry`) in a namespace of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lab_tools import said

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
IMAGE = "greeter"
GREETING = "hello from the greeter team"
PLATFORMS = ["linux/amd64", "linux/arm64"]
CACHES = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv", ".git"}
# What the README and the tests need from an unpacked sdist to build, test and run the factory.
SDIST_NEEDS = ["README.md", "LICENSE", "pyproject.toml", "MANIFEST.in", "baseimages/py.typed", "scripts/test"]
SDIST_TREES = ["baseimages", "tests", "images", "scripts", "monitoring", "benchmarks"]
# Variables that would reach into the checkout or override the team's own settings.
DROPPED = {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE", "VIRTUAL_ENV", "PYTHONSAFEPATH"}
TIMEOUT = 900  # seconds for one command: a first push builds arm64 under QEMU


# --------------------------------------------------------------------------- the README's example


def first_python_block(markdown: str) -> str:
    """The code of the first ```python fenced block of MARKDOWN (a fence may be indented up to 3 spaces)."""
    match = re.search(r"^ {0,3}```python[^\S\n]*\n(.*?)^ {0,3}```[^\S\n]*$", markdown, flags=re.DOTALL | re.MULTILINE)
    if match is None:
        raise ValueError("no ```python block")
    return match.group(1)


_EXAMPLE_DOC = """# A project

Some prose, and a block in another language first:

```bash
python -m baseimages push
```

```python
import baseimages

settings = baseimages.load_settings(".")
catalog = baseimages.load_catalog(settings.catalog_dir, settings.platforms)
plan = baseimages.make_plan(catalog, settings)
report = baseimages.Factory(settings, catalog).run(plan, baseimages.RunOptions(push=True))
for image in report.images:
    print(image.name, image.status.value, image.digest)
```

```python
print("a later block")
```
"""


def test_the_first_python_block_of_a_readme_is_extracted_whole_and_alone() -> None:
    code = first_python_block(_EXAMPLE_DOC)
    assert code.startswith('import baseimages\n\nsettings = baseimages.load_settings(".")\n')
    assert code.endswith("    print(image.name, image.status.value, image.digest)\n")
    assert "```" not in code and "a later block" not in code and "push\n" not in code
    compile(code, "README.md", "exec")
    with pytest.raises(ValueError):
        first_python_block("```bash\necho no python here\n```\n")


# --------------------------------------------------------------------------- building and installing


@dataclass(frozen=True)
class Dists:
    sdist: Path
    wheel: Path

    @property
    def version(self) -> str:
        return self.wheel.name.split("-")[1]


@dataclass(frozen=True)
class Outside:
    """The new venv with the wheel installed, and the team's repository the commands run in."""

    venv: Path
    repo: Path
    registry: str
    namespace: str
    version: str

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def script(self) -> Path:
        return self.venv / "bin" / "baseimages"

    def env(self, **extra: str) -> dict[str, str]:
        """This machine's environment (proxy, index, CA bundle, Docker) with nothing that leads to the checkout."""
        return outside_env(self.venv, **extra)

    def run(self, *argv: str | Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return run([*argv], self.repo, self.env(**extra_env))


def _inside(path: str | Path, folder: Path) -> bool:
    return Path(path).resolve().is_relative_to(folder)


def outside_env(venv: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in DROPPED and not key.startswith("BASEIMAGES_") and (key == "PATH" or str(ROOT) not in value)
    }  # PATH is kept, less its entries in the checkout (scripts/test runs with the checkout's .venv/bin on it)
    path = [
        entry
        for entry in env.get("PATH", "").split(os.pathsep)
        if entry and not _inside(entry, ROOT) and not (Path(entry) / "baseimages").exists()
    ]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *path])
    env["PYTHONNOUSERSITE"] = "1"  # a user site-packages could hold another baseimages
    return {**env, **extra}


def run(argv: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def _source_copy(dest: Path) -> Path:
    """The checkout's files without what a build or a run left in it (egg-info, build/, caches, venvs): a stale
    egg-info's SOURCES.txt would put files in the sdist that the package configuration no longer finds."""
    left_behind = {"build", "dist", ".venv", ".git"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = Path(folder).resolve() == ROOT
        return {
            name
            for name in names
            if name in CACHES or name.endswith(".egg-info") or name.endswith(".pyc") or (top and name in left_behind)
        }

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return dest


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Dists:
    """The sdist built from (a clean copy of) the checkout and the wheel built from that sdist (`python -m build`)."""
    source = _source_copy(tmp_path_factory.mktemp("source") / "baseimages")
    outdir = tmp_path_factory.mktemp("dist")
    done = run([sys.executable, "-m", "build", "--outdir", outdir, source], outdir, dict(os.environ))
    assert done.returncode == 0, said(done)
    (sdist,) = outdir.glob("baseimages-*.tar.gz")
    (wheel,) = outdir.glob("baseimages-*.whl")
    return Dists(sdist, wheel)


def _team_repository(repo: Path, registry: str, namespace: str) -> Path:
    """A service team's own repository: its settings and one image of its own, committed to its own git."""
    image = repo / "images" / IMAGE
    image.mkdir(parents=True)
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "greeter-images"\nversion = "0.0.1"\n\n'
        f'[tool.baseimages]\nregistry = "{registry}"\nnamespace = "{namespace}"\n'
        'platforms = ["linux/amd64", "linux/arm64"]\n'
    )
    (image / "greeting.txt").write_text(f"{GREETING}\n")
    (image / "Dockerfile").write_text(
        "ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\nCOPY greeting.txt /usr/share/greeter/greeting.txt\n"
    )
    (image / "image.yaml").write_text(
        f"name: {IMAGE}\nversion: 1.2.0\ndescription: the greeter team's runtime\nparent: python:3.11-slim\n"
        "smoke:\n  commands:\n    - name: the greeting is in place\n"
        "      command: [cat, /usr/share/greeter/greeting.txt]\n"
        f"      stdout: '^{GREETING}$'\n"
    )
    git = ["git", "-C", str(repo), "-c", "user.name=greeter team", "-c", "user.email=team@example.invalid"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "our base image"]):
        subprocess.run([*git, *args], check=True, capture_output=True, timeout=60)
    return repo


@pytest.fixture(scope="module")
def outside(
    engine: object, test_registry: str, dists: Dists, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Outside]:
    """A new venv (no system site-packages) with the wheel installed by its own pip, and the team's repository."""
    venv = tmp_path_factory.mktemp("venv") / "team-venv"
    repo = tmp_path_factory.mktemp("team") / "greeter-images"
    assert not _inside(venv, ROOT) and not _inside(repo, ROOT)
    done = run([sys.executable, "-m", "venv", venv], venv.parent, outside_env(venv))
    assert done.returncode == 0, said(done)
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    install = [venv / "bin" / "python", "-m", "pip", "install", "--no-input", dists.wheel]
    done = run(install, venv.parent, outside_env(venv))
    assert done.returncode == 0, said(done)
    namespace = f"outside-{uuid.uuid4().hex[:8]}"
    outside = Outside(venv, _team_repository(repo, test_registry, namespace), test_registry, namespace, dists.version)
    yield outside
    _remove_local_images(f"{test_registry}/{namespace}")


def _remove_local_images(prefix: str) -> None:
    """Remove the refs this module's pushes left in the shared engine's image store (names only it uses)."""
    listed = subprocess.run(
        ["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}} {{.Repository}}@{{.Digest}}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    refs = {ref for ref in listed.stdout.split() if ref.startswith(prefix) and not ref.endswith(("<none>",))}
    for ref in sorted(refs):
        subprocess.run(["docker", "image", "rm", ref], capture_output=True, timeout=120)


def registry_tags(registry: str, repository: str) -> list[str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # the registry is on this machine
    with opener.open(f"http://{registry}/v2/{repository}/tags/list", timeout=30) as resp:
        return list(json.loads(resp.read())["tags"] or [])


# --------------------------------------------------------------------------- the distributions


def test_sdist_and_wheel_pass_twine_check_strict(dists: Dists) -> None:
    twine = [sys.executable, "-m", "twine", "check", "--strict", dists.sdist, dists.wheel]
    done = run([*twine], dists.wheel.parent, {**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, said(done)
    assert done.stdout.count("PASSED") == 2, said(done)


def test_the_sdist_carries_what_the_readme_and_tests_need_and_no_cache(dists: Dists) -> None:
    with tarfile.open(dists.sdist) as sdist:
        names = {name.partition("/")[2] for name in sdist.getnames()}
    for needed in SDIST_NEEDS:
        assert needed in names, needed
    shipped = [
        path.relative_to(ROOT).as_posix()
        for tree in SDIST_TREES
        for path in (ROOT / tree).rglob("*")
        if path.is_file() and not CACHES & set(path.relative_to(ROOT).parts) and path.suffix != ".pyc"
    ]
    assert [path for path in shipped if path not in names] == []
    assert "images/contract.Dockerfile" in names and "tests/integration/conftest.py" in names
    cached = [name for name in names if CACHES & set(name.split("/")) or name.endswith(".pyc")]
    assert cached == []


def test_the_wheel_ships_the_license_and_the_typing_marker(dists: Dists) -> None:
    with zipfile.ZipFile(dists.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(f"baseimages-{dists.version}.dist-info/METADATA").decode()
    assert "baseimages/py.typed" in names
    assert f"baseimages-{dists.version}.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata and "Requires-Python: >=3.11" in metadata
    assert "Description-Content-Type: text/markdown" in metadata


# --------------------------------------------------------------------------- used from outside


_WALK = """
import importlib, json, pkgutil, baseimages
names = ["baseimages"] + [m.name for m in pkgutil.walk_packages(baseimages.__path__, "baseimages.")]
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = repr(exc)
print(json.dumps({"file": baseimages.__file__, "version": baseimages.__version__, "modules": names, "failed": failed}))
"""


def _checkout_modules() -> list[str]:
    modules = []
    for path in (ROOT / "baseimages").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(modules)


def test_the_installed_wheel_imports_every_module_of_the_package(outside: Outside) -> None:
    done = outside.run(outside.python, "-c", _WALK)
    assert done.returncode == 0, said(done)
    found = json.loads(done.stdout)
    assert _inside(found["file"], outside.venv), f"imported from {found['file']}, not from the new venv"
    assert found["version"] == outside.version
    assert found["failed"] == {}
    assert sorted(found["modules"]) == _checkout_modules()
    assert (Path(found["file"]).parent / "py.typed").is_file()


def test_the_console_script_lists_and_plans_the_teams_catalog(outside: Outside) -> None:
    version = outside.run(outside.script, "--version")
    assert (version.returncode, version.stdout) == (0, f"baseimages {outside.version}\n"), said(version)
    as_module = outside.run(outside.python, "-m", "baseimages", "--version")
    assert as_module.stdout == version.stdout, said(as_module)

    listed = outside.run(outside.script, "list")
    assert listed.returncode == 0, said(listed)
    assert listed.stdout.split() == [IMAGE, "1.2.0", "FROM", "python:3.11-slim", ",".join(PLATFORMS)]

    plan = outside.run(outside.script, "plan", "--json")
    assert plan.returncode == 0, said(plan)
    (image,) = json.loads(plan.stdout)["images"]
    assert (image["name"], image["action"], image["platforms"]) == (IMAGE, "build", PLATFORMS)
    assert {"1.2.0", "1.2", "1", "latest"} <= set(image["tags"])
    text = outside.run(outside.script, "plan")
    assert text.returncode == 0 and IMAGE in text.stdout, said(text)


def test_the_console_script_pushes_the_teams_image_to_its_own_namespace(outside: Outside) -> None:
    done = outside.run(outside.script, "push")
    assert done.returncode == 0, said(done)
    tags = registry_tags(outside.registry, f"{outside.namespace}/{IMAGE}")
    assert {"latest", "1.2.0", "1.2", "1"} <= set(tags), tags


def test_the_readme_library_example_pushes_the_catalog_of_the_directory_it_runs_in(
    outside: Outside, tmp_path: Path
) -> None:
    example = tmp_path / "readme_example.py"
    example.write_text(first_python_block(README.read_text()))
    namespace = f"{outside.namespace}-lib"  # a namespace of the example's own: it has a build to do
    done = outside.run(outside.python, example, BASEIMAGES_NAMESPACE=namespace)
    assert done.returncode == 0, said(done)
    tags = registry_tags(outside.registry, f"{namespace}/{IMAGE}")
    assert {"latest", "1.2.0"} <= set(tags), tags
    assert re.search(rf"^{IMAGE} promoted sha256:[0-9a-f]{{64}}$", done.stdout, flags=re.MULTILINE), said(done)
    _remove_local_images(f"{outside.registry}/{namespace}")
