"""Small catalogues for engine and output tests: controls mapped with the strengths a test needs."""

from __future__ import annotations

from typing import Any

from tutela.scanner.catalog import Catalog, load_catalog
from tutela.scanner.catalog.checks import ControlSpec, FrameworkControls, Mapping

_REASON = "a mapping made for a test, its reason long enough to be one"


def control(
    control_id: str,
    title: str,
    *,
    direct: tuple[str, ...] = (),
    supporting: tuple[str, ...] = (),
    analogy: tuple[str, ...] = (),
) -> ControlSpec:
    """A control whose checks are mapped directly, as support or by analogy."""
    mappings = tuple(
        Mapping(checks=checks, strength=strength, reason=_REASON)
        for checks, strength in (
            (direct, "direct"),
            (supporting, "supporting"),
            (analogy, "by analogy"),
        )
        if checks
    )
    return ControlSpec(id=control_id, title=title, mappings=mappings)


def framework(
    name: str, prefix: str, *controls: ControlSpec, ai_scoped: bool = False, **extra: Any
) -> FrameworkControls:
    return FrameworkControls(
        framework=name, control_prefix=prefix, ai_scoped=ai_scoped, controls=controls, **extra
    )


def with_controls(*frameworks: FrameworkControls) -> Catalog:
    """The shipped checks and frameworks, with only these controls."""
    return load_catalog().model_copy(update={"controls": frameworks})
