"""Checks: smoke tests in one container per platform and contract builds of a service FROM the candidate."""
