"""Template.fill_each: many templates filled at once, exactly as one fill each would."""

from __future__ import annotations

import pytest

from tutela.scanner.outputs.encoding import Template

from .test_encoding import AWKWARD

SLOT = Template.SLOT


@pytest.mark.parametrize("indent", [False, True])
def test_filling_many_at_once_is_filling_each(indent: bool) -> None:
    first = Template({"a": SLOT, "b": {"c": f"x {SLOT} %s"}}, depth=2, indent=indent)
    second = Template({"d": [SLOT], "e": SLOT}, depth=2, indent=indent)
    templates = [first, second, first, second]
    texts = [AWKWARD[i % len(AWKWARD)] for i in range(8)]
    expected = [t.fill(*texts[2 * i : 2 * i + 2]) for i, t in enumerate(templates)]
    assert Template.fill_each(templates, texts) == expected
    assert Template.fill_each([first], ["", '","']) == [first.fill("", '","')]


def test_filling_many_needs_the_same_slots_and_one_text_per_slot() -> None:
    two, one = (
        Template({"a": SLOT, "b": SLOT}, depth=1, indent=False),
        Template({"a": SLOT}, depth=1, indent=False),
    )
    assert Template.fill_each([], []) == []
    with pytest.raises(ValueError, match="different numbers of slots"):
        Template.fill_each([two, one], ["a", "b", "c"])
    with pytest.raises(ValueError, match="1 texts for 1 templates of 2 slots"):
        Template.fill_each([two], ["a"])
    none = Template({"a": 1}, depth=1, indent=False)
    assert Template.fill_each([none, none], []) == [b'{"a":1}', b'{"a":1}']
