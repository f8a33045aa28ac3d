"""The public API of `import baseimages`: typed names, the README's example type-checks, a cheap import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import baseimages

ROOT = Path(__file__).resolve().parents[2]


def _readme_library_example() -> str:
    readme = (ROOT / "README.md").read_text()
    assert readme.count("```python") == 1, "the README has one python example: the library's"
    section = readme[readme.index("## The library") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README's library section has no python example"
    return match.group(1)


def test_readme_library_example_type_checks_under_mypy_strict(tmp_path):
    example = tmp_path / "example.py"
    example.write_text(_readme_library_example())
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(example)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_exported_name_resolves_and_callers_of_factory_find_what_they_need():
    for name in baseimages.__all__:
        assert getattr(baseimages, name) is not None, name
    for needed in ("RefreshPolicy", "Engine", "RegistryClient", "LockedError", "Stage", "default_stages"):
        assert needed in baseimages.__all__


def test_import_loads_no_docker_library():
    probe = "import sys, baseimages; print('python_on_whales' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_import_loads_neither_retention_nor_doctor_which_are_reached_by_their_module_path():
    above = ("baseimages.prune", "baseimages.doctor", "baseimages.cli")
    probe = f"import sys, baseimages; print(sorted(m for m in sys.modules if m.startswith({above!r})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    assert not {"Pruner", "run_doctor", "registry_client", "RunLock"} & set(baseimages.__all__)


def test_the_cli_loads_none_of_the_readers_renderers_and_commands_a_run_that_changes_nothing_never_uses():
    unused = (
        "debian",  # python-debian: package lists in layers and archives
        "packaging",  # PyPI versions
        "baseimages.changelog.compute",
        "baseimages.updates.compute",
        "baseimages.outputs.html",
        "baseimages.outputs.markdown",
        "baseimages.doctor",  # the other commands' code: loaded by the command that runs
        "baseimages.audit",
    )
    probe = f"import sys, baseimages.cli.main; print(sorted(m for m in sys.modules if m.startswith({unused!r})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
