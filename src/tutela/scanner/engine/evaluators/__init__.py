"""Python evaluators, for the few checks the condition language cannot say.

An evaluator takes the context (resource, estate, evidence list), the check's ``params`` and the
scan's date, and returns True (pass), False (fail) or None (unknown). It is pure: no I/O and no
clock other than ``as_of``. A check names its evaluator with ``evaluator: <name>``; every module
of this package is imported here, so registering one is writing it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from tutela.scanner.engine.conditions import Context, Tri

Evaluator = Callable[[Context, dict[str, Any], dt.date], Tri]

EVALUATORS: dict[str, Evaluator] = {}


def evaluator(name: str) -> Callable[[Evaluator], Evaluator]:
    def register(func: Evaluator) -> Evaluator:
        if name in EVALUATORS:
            raise ValueError(f"evaluator {name!r} registered twice")
        EVALUATORS[name] = func
        return func

    return register


for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
