"""Saved compliance reports: encrypted bodies, clear listing columns, history and diffs."""
