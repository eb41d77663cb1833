"""Evaluations: scripted conversations, their runner, scores and reports, and the others."""
