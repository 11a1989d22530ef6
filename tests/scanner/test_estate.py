"""The resource model's contract with the sources that build it in bulk."""

from __future__ import annotations

import dataclasses

from tutela.scanner.estate import POSITIONAL_FIELDS, Resource


def test_the_fields_sources_pass_by_position_come_first_in_this_order() -> None:
    """arg and terraform build Resource(id, type, name, …) by position: a reordered or inserted
    field would fill the wrong attributes without an error."""
    names = tuple(field.name for field in dataclasses.fields(Resource))
    assert names[: len(POSITIONAL_FIELDS)] == POSITIONAL_FIELDS
    built = Resource(*POSITIONAL_FIELDS)
    assert all(getattr(built, name) == name for name in POSITIONAL_FIELDS)
