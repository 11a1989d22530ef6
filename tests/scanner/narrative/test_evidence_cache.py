"""The deterministic narrator reuses what it made of equal evidence, not of equal values."""

from __future__ import annotations

from tests.scanner.engine.cases import make_resource
from tutela.scanner.catalog import load_catalog
from tutela.scanner.engine.evaluate import CheckResult
from tutela.scanner.narrative.deterministic import DeterministicNarrator, describe_evidence

CATALOG = load_catalog()


def test_openings_read_each_results_own_evidence() -> None:
    narrator = DeterministicNarrator(CATALOG)
    check = CATALOG.checks[0]
    resource = make_resource({"type": "microsoft.cognitiveservices/accounts", "name": "oai"})
    for evidence in (
        (("properties.x", True),),
        (("properties.x", 1),),
        (("properties.x", 1.0),),
        (("properties.x", -0.0),),
        (("properties.x", 0.0),),
        (("properties.x", "<absent>"),),
        (("properties.x", ["a"]),),
        (("properties.x", True),),
        (),
    ):
        opening = narrator.opening(CheckResult(check, resource, "fail", evidence))
        assert opening.endswith(f"{describe_evidence(evidence) or 'no value'}. ")
