"""A plan read is freed as soon as its resources are built: it leaves no reference cycles."""

from __future__ import annotations

import gc
from pathlib import Path

import orjson

from tutela.scanner.sources.terraform import resources_from_terraform

FIXTURES = Path(__file__).parent / "fixtures"


def test_reading_a_plan_leaves_no_cyclic_garbage() -> None:
    # With the collector off (as the CLI runs), a plan held in a reference cycle would stay in
    # memory for the whole scan; with it on, its next pass would walk every object of the plan.
    document = orjson.loads((FIXTURES / "tf_plan_modules.json").read_bytes())
    resources_from_terraform(document, "warm-up.json")  # (first use compiles the mapping table)
    gc.collect()
    gc.disable()
    try:
        resources = resources_from_terraform(document, "plan.json")
        assert resources
        assert gc.collect() == 0
    finally:
        gc.enable()
