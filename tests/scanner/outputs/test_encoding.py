"""The fast paths of JSON by parts: filled templates and streamed lists, as orjson writes them."""

from __future__ import annotations

import pytest

from tutela.scanner.outputs.encoding import BLOCK_ITEMS, Template, in_list
from tutela.scanner.outputs.report import dumps

AWKWARD = ['","', "a\\", '\\"', "", "100%", "%s", "line\nbreak", "é\u2028", '"', ","]


@pytest.mark.parametrize("indent", [True, False])
@pytest.mark.parametrize("text", AWKWARD)
def test_a_filled_template_is_what_orjson_writes(indent: bool, text: str) -> None:
    slot, other = Template.SLOT, AWKWARD[len(text) % len(AWKWARD)]
    fields = {"id": slot, "rate": "50% of 100%", "message": {"text": f"{slot}: {slot}%"}}
    template = Template(fields, depth=0, indent=indent)  # at depth 0: the whole document
    expected = {"id": text, "rate": "50% of 100%", "message": {"text": f"{other}: {text}%"}}
    assert template.fill(text, other, text) == dumps(expected, indent=indent)


def test_a_template_needs_one_text_per_slot() -> None:
    template = Template({"a": Template.SLOT, "b": Template.SLOT}, depth=1, indent=False)
    with pytest.raises(ValueError, match="1 texts for 2 slots"):
        template.fill("only one")
    assert Template({"a": 1}, depth=1, indent=False).fill() == b'{"a":1}'


@pytest.mark.parametrize("indent", [True, False])
@pytest.mark.parametrize("count", [0, 1, 2, 999, 1000, 1001, 2500])
def test_a_streamed_list_is_what_orjson_writes(indent: bool, count: int) -> None:
    items = [{"n": n, "text": AWKWARD[n % len(AWKWARD)]} for n in range(count)]
    template = Template({"n": 0, "text": Template.SLOT}, depth=2, indent=indent)
    filled = [
        template.fill(item["text"]).replace(b'"n":0', b'"n":%d' % item["n"])
        if not indent
        else template.fill(item["text"]).replace(b'"n": 0', b'"n": %d' % item["n"])
        for item in items
    ]
    document = {"head": 1, "items": Template.SLOT, "tail": [2]}
    blocks = in_list(document, lambda a, b: filled[a:b], count, depth=2, indent=indent)
    assert blocks.count == -(-count // BLOCK_ITEMS)  # the list comes in blocks, never whole
    written = b"".join(blocks.chunks())
    assert written == dumps({"head": 1, "items": items, "tail": [2]}, indent=indent)
