"""The installed package describes itself: one version (pyproject.toml's) read from the installed metadata, the
same from `baseimages.__version__`, `python -m baseimages --version`, the `baseimages` console script's `main`."""

from __future__ import annotations

import importlib.metadata
import io
import subprocess
import sys
import tomllib
from pathlib import Path

import baseimages
from baseimages.cli.main import main
from baseimages.core.version import UNKNOWN, installed_version

ROOT = Path(__file__).resolve().parents[2]


def test_dunder_version_is_the_installed_distributions_version():
    assert baseimages.__version__ == importlib.metadata.version("baseimages")
    assert baseimages.__version__ != UNKNOWN


def test_the_installed_version_is_the_one_pyproject_declares():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert importlib.metadata.version("baseimages") == declared, "stale metadata: reinstall with `pip install -e .`"


def test_python_m_baseimages_version_prints_the_installed_version():
    done = subprocess.run([sys.executable, "-m", "baseimages", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"baseimages {baseimages.__version__}"
    assert done.stderr == ""


def test_main_version_prints_to_its_out_and_returns_zero():
    out, err = io.StringIO(), io.StringIO()
    assert main(["--version"], out=out, err=err) == 0
    assert out.getvalue() == f"baseimages {baseimages.__version__}\n"
    assert err.getvalue() == ""


def test_the_console_script_baseimages_is_the_clis_main():
    (script,) = [e for e in importlib.metadata.entry_points(group="console_scripts") if e.name == "baseimages"]
    assert script.value == "baseimages.cli.main:main"
    assert script.load() is main


def test_a_distribution_that_is_not_installed_has_the_unknown_version():
    assert installed_version("baseimages-not-installed-anywhere") == UNKNOWN
