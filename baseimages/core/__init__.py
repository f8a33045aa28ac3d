"""The bottom floor: errors, image references, retries, processes, platforms, the run's events and results, the
run lock. Imports nothing of the package.
"""
