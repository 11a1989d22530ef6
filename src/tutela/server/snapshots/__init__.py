"""Subscription snapshots: uploaded Resource Graph exports that stand in for a live estate."""
