"""The catalog: image.yaml files, their checks, the family graph, tags, input fingerprints, labels, the plan and
change detection.
"""
