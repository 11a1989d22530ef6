"""What every kind of Terraform remediation output shares: file sections, the comments that
name a change's check and controls, the list of manual fixes, fix params as variables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from tutela.scanner.catalog.checks import CheckSpec, Fix
from tutela.scanner.outputs.iac import hcl
from tutela.scanner.outputs.iac.hcl import Attr, Block, Comment
from tutela.scanner.outputs.iac.items import RemediationItem

MARK = "## file: "  # starts a file's section; a comment written from report text starts "# "


def section(path: str, blocks: Sequence[Block | Comment]) -> str:
    return f"{MARK}{path}\n{hcl.render(blocks)}"


def describe(check: CheckSpec, item: RemediationItem) -> list[Comment]:
    """The comments that name a change's check, resource and the controls it remediates."""
    lines = [
        Comment(f"{check.id}: {check.title}"),
        Comment(f"Resource: {item.resource_name or item.resource} ({item.resource})"),
        Comment(f"Remediates: {', '.join(item.controls)}"),
    ]
    if check.fix is not None and check.fix.note:
        lines.append(Comment(f"Note: {check.fix.note}"))
    return lines


def not_configured(
    items: Sequence[RemediationItem], checks: dict[str, CheckSpec]
) -> list[Block | Comment]:
    """Manual fixes with their reason and portal steps; checks the catalogue has no fix for."""
    out: list[Block | Comment] = []
    unscripted: dict[str, None] = {}
    for item in items:
        check = checks.get(item.check_id)
        if check is None or check.fix is None:
            unscripted.setdefault(item.check_id)
        elif check.fix.manual:
            out += [*describe(check, item), Comment(f"Manual: {check.fix.manual}")]
            out.append(Comment(f"Portal: {check.portal_steps}"))
    if unscripted:
        out.append(Comment("Not scriptable yet (no fix in the catalogue); see the report:"))
        out += [Comment(f"  {check_id}") for check_id in unscripted]
    return out


def configured(item: RemediationItem, checks: dict[str, CheckSpec]) -> tuple[CheckSpec, Fix] | None:
    check = checks.get(item.check_id)
    if check is None or check.fix is None or check.fix.manual:
        return None
    return check, check.fix


def variable_name(param: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", param.lower())


def variables(params: dict[str, str], prefix: str = "") -> list[Block]:
    """Fix params as variables: described, no default (Terraform asks for each)."""
    return [
        Block("variable", (prefix + variable_name(name),), [Attr("description", about)])
        for name, about in params.items()
    ]


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``extra`` deep-merged into ``base`` (a new dict)."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
