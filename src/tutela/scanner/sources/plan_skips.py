"""What the last reading of each plan skipped: resources of azurerm or azapi types not mapped.

Kept apart from the Terraform source so that a reading of a template or an export, and the
report's notes, ask it without importing that source.
"""

from __future__ import annotations

import threading
from collections import Counter

# Per thread, as the sources' reading notes are: parallel requests read bodies of one name.
_READING = threading.local()


def _skipped() -> dict[str, tuple[Counter[str], dict[str, list[str]]]]:
    """Source → the resources skipped per type: their count and their first addresses."""
    skipped: dict[str, tuple[Counter[str], dict[str, list[str]]]] | None = getattr(
        _READING, "skipped", None
    )
    if skipped is None:
        skipped = _READING.skipped = {}
    return skipped


def record_skipped(source: str, counts: Counter[str], addresses: dict[str, list[str]]) -> None:
    """What a parse of ``source`` as a plan skipped, replacing what an earlier one did."""
    _skipped()[source] = (counts, addresses)


def unsupported_types(source: str) -> dict[str, int]:
    """Resources of azurerm / azapi types not mapped, by type, in this thread's last parse of
    ``source`` as a plan."""
    found = _skipped().get(source)
    return dict(found[0]) if found else {}


def skipped_addresses(source: str) -> dict[str, list[str]]:
    """The first addresses (``terraform_plan.SKIPPED_LISTED``) of each type counted in
    ``unsupported_types(source)``."""
    found = _skipped().get(source)
    return {kind: list(addresses) for kind, addresses in found[1].items()} if found else {}


def forget_skipped(source: str) -> None:
    """Forget what a parse of ``source`` skipped (a new document of that name is read)."""
    _skipped().pop(source, None)
