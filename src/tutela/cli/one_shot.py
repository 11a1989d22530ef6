"""The console script's process ends right after its command: what a scan keeps alive until then.

Set by the console script (``main.run``): the objects of a large scan are kept here and the
process exits without freeing them one by one (as mypy does); a scan of 100,000 resources would
otherwise spend seconds in teardown. A module of its own, so ``tutela --help`` need not import
the scan to set it.
"""

from __future__ import annotations

active = False
kept_alive: list[object] = []
