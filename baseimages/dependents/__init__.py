"""Who builds FROM the family, and who must rebuild: the references to the family's images in service
repositories (Dockerfiles, bake files, compose files), how each is pinned, whether it is behind what its
tag line promotes now (`check_dependents`), and the in-place rewrite of behind pins (`plan_bump`)."""

from __future__ import annotations

from .bump import BumpPlan, Edit, plan_bump
from .check import check_dependents
from .model import DependentsReport, DescribeChange, Family, Pin, PinKind, Use

__all__ = [
    "BumpPlan",
    "DependentsReport",
    "DescribeChange",
    "Edit",
    "Family",
    "Pin",
    "PinKind",
    "Use",
    "check_dependents",
    "plan_bump",
]
