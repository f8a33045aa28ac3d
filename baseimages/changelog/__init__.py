"""What changed between two images, per platform, read from the registry alone: Debian packages, Python
distributions, the files, the image config and the compressed size (`changelog(registry, ref_a, ref_b)`)."""

from .compute import changelog
from .model import (
    SCHEMA,
    Changelog,
    ConfigChange,
    FileChanges,
    ImageVersion,
    PackageChange,
    PlatformChangelog,
    PythonChange,
    State,
)
from .render import markdown, text_lines

__all__ = [
    "SCHEMA",
    "Changelog",
    "ConfigChange",
    "FileChanges",
    "ImageVersion",
    "PackageChange",
    "PlatformChangelog",
    "PythonChange",
    "State",
    "changelog",
    "markdown",
    "text_lines",
]
