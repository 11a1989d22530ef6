"""A check's help as outputs link and print it: where its documentation is, and which Azure
Policy, Checkov and Prowler rules it matches (from the catalogue's ``references``).

There is no hosted documentation site: a check's documentation is its row in the generated
catalogue, ``CHECKS.md``, in the project's repository. The row has no anchor of its own, so the
link carries a text fragment (``#:~:text=``) that browsers which support it scroll to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final
from urllib.parse import quote

from tutela.scanner.catalog.checks import CheckSpec, Reference

REPOSITORY: Final = "https://github.com/tutela/tutela"
CATALOGUE: Final = f"{REPOSITORY}/blob/main/src/tutela/scanner/catalog/CHECKS.md"
LABEL: Final = {
    "azure_policy": "Azure Policy",
    "checkov": "Checkov",
    "prowler": "Prowler",
    "microsoft_docs": "Microsoft docs",
    "regulation": "Regulation",
}


def help_uri(check_id: str) -> str:
    """The check's row in CHECKS.md (``-`` is a text fragment's own syntax: percent-encoded)."""
    return f"{CATALOGUE}#:~:text={quote(check_id, safe='').replace('-', '%2D')}"


def references_of(checks: Iterable[CheckSpec]) -> dict[str, tuple[Reference, ...]]:
    """check id → its references."""
    return {check.id: check.references for check in checks}


def shipped_references(check_ids: Iterable[str]) -> dict[str, tuple[Reference, ...]]:
    """check id → its references in the shipped catalogue (none for a check it does not hold,
    such as a house-policy check in a report read back)."""
    from tutela.scanner.catalog import load_catalog

    known = {check.id: check for check in load_catalog().checks}
    return {
        check_id: known[check_id].references if check_id in known else () for check_id in check_ids
    }


def reference_properties(references: Sequence[Reference]) -> list[dict[str, Any]]:
    """The references as data: kind, and whichever of id, title and url each has."""
    return [reference.model_dump(exclude_none=True) for reference in references]


def reference_line(reference: Reference) -> str:
    """``Checkov: CKV_AZURE_236``; ``Azure Policy: <display name> (<definition GUID>)``."""
    named = reference.title or ""
    if reference.id:
        named = f"{named} ({reference.id})" if named else reference.id
    return f"{LABEL[reference.kind]}: {named}"


def help_text(check_id: str, remediation: str, references: Sequence[Reference]) -> str:
    lines = [remediation.strip()]
    if references:
        lines += ["", "References:", *(f"- {reference_line(r)}" for r in references)]
    lines += ["", f"Documentation: {help_uri(check_id)}"]
    return "\n".join(lines)


def help_markdown(check_id: str, remediation: str, references: Sequence[Reference]) -> str:
    lines = [remediation.strip()]
    if references:
        lines += ["", "**References**", ""]
        for reference in references:
            line = reference_line(reference)
            if reference.url:
                line = f"[{line}]({reference.url})"
            lines.append(f"- {line}")
    lines += ["", f"[{check_id} in the check catalogue]({help_uri(check_id)})"]
    return "\n".join(lines)
