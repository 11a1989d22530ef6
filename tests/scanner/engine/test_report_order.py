"""What the report writers rely on: the report order, and evidence keys that never mix values."""

from __future__ import annotations

import datetime as dt
import random

from tests.scanner.engine.cases import make_resource
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.assess import _in_report_order, _report_order, assess
from tutela.scanner.engine.evaluate import evidence_key
from tutela.scanner.estate import Estate

CATALOG = load_catalog()


def test_results_are_put_in_report_order_as_sorted_would() -> None:
    estate = Estate(
        [
            make_resource({"type": kind, "name": f"r{n % 7}", "properties": {}})
            for n in range(40)
            for kind in ("microsoft.cognitiveservices/accounts", "microsoft.search/searchservices")
        ]
    )
    failed = assess(estate, CATALOG, CATALOG.framework_ids, as_of=dt.date(2026, 11, 23)).failed
    assert len({r.check.id for r in failed}) > 3
    assert len({r.resource.id for r in failed}) < len(failed)  # equal keys: order must hold
    shuffled = list(failed)
    random.Random(7).shuffle(shuffled)
    for results in (failed, shuffled, []):
        expected = sorted(results, key=_report_order)
        assert [id(r) for r in _in_report_order(results)] == [id(r) for r in expected]


def test_evidence_keys_tell_apart_values_that_compare_equal_but_print_differently() -> None:
    assert evidence_key((("a", "x"),)) == (("a", "x"),)
    assert evidence_key((("a", True),)) != evidence_key((("a", 1),))
    assert evidence_key((("a", 1), ("b", None))) == evidence_key((("a", 1), ("b", None)))
    assert evidence_key((("a", 0.0),)) is None  # -0.0 == 0.0
    assert evidence_key((("a", [1]),)) is None  # not hashable
    assert evidence_key(()) == ()
