"""What changed between two images, per platform, read from the registry alone: Debian packages, Python
distributions, the files, the image config and the compressed size (`changelog(registry, ref_a, ref_b)`); what
one image has installed and its apt sources (`installed(registry, ref, manifests)`)."""

from .compute import Installed, changelog, installed
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
    "Installed",
    "PackageChange",
    "PlatformChangelog",
    "PythonChange",
    "State",
    "changelog",
    "installed",
    "markdown",
    "text_lines",
]
