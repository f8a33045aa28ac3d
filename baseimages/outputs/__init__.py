"""Outputs for people and machines: reports (JSON, Markdown, HTML), timeline, live view and metrics, all
observers of the run.
"""
