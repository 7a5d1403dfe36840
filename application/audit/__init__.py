"""Auditors' tools: read the log, rebuild the views from it, verify every repository."""
