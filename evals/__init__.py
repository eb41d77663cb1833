"""Scripted conversation evaluations, metrics and reports (arrives with the evaluations issue)."""
