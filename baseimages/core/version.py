"""The package's version, read from the installed distribution's metadata: pyproject.toml is the only
place a version is written."""

from __future__ import annotations

DISTRIBUTION = "baseimages"
UNKNOWN = "0+unknown"  # imported from a source tree that was never installed (no metadata to read)


def installed_version(distribution: str = DISTRIBUTION) -> str:
    """The version of DISTRIBUTION as installed (a wheel, or `pip install -e`), else UNKNOWN."""
    from importlib.metadata import PackageNotFoundError, version  # read when asked: it takes longer to import

    try:
        return version(distribution)
    except PackageNotFoundError:
        return UNKNOWN
