"""The catalogue as Markdown documents a compliance reviewer can read without the YAML.

CHECKS.md lists every check with the controls it evidences and how strongly; controls/MAPPING.md
lists every mapping with its strength and the reason it holds. A test keeps the committed files
equal to these renderings, so neither document is ever stale.
"""

from __future__ import annotations

from collections import Counter

from tutela.scanner.catalog.checks import (
    SEVERITIES,
    STRENGTHS,
    CheckSpec,
    ControlSpec,
    FrameworkControls,
    finding_control_id,
)
from tutela.scanner.catalog.defaults import assumed_defaults
from tutela.scanner.catalog.loader import Catalog


def _shown_id(controls: FrameworkControls, control: ControlSpec) -> str:
    """The control as findings show it, marked when its numbering could not be confirmed."""
    shown = f"`{finding_control_id(controls.control_prefix, control.id)}`"
    return f"{shown} (numbering unconfirmed)" if control.numbering == "unconfirmed" else shown


def _controls(catalog: Catalog, check: CheckSpec) -> str:
    shown = []
    for controls in catalog.controls:
        for control in controls.controls:
            strength = control.strength_of(check.id)
            if strength is not None:
                control_id = finding_control_id(controls.control_prefix, control.id)
                mark = "" if strength == "direct" else f" ({strength})"
                shown.append(f"{control_id}{mark}")
    return ", ".join(shown)


def _fix(check: CheckSpec) -> str:
    """The check's declared fix in a few words: what it sets or adds, or that it is manual."""
    fix = check.fix
    if fix is None:
        return "—"
    if fix.manual:
        return f"manual: {fix.manual}"
    parts = [f"sets `{change.path}`" for change in fix.set]
    parts += [f"adds `{added.type}`" for added in fix.add]
    return "; ".join(parts)


def _references(check: CheckSpec) -> str:
    parts = []
    for ref in check.references:
        label = {
            "azure_policy": "Azure Policy",
            "checkov": "Checkov",
            "prowler": "Prowler",
            "microsoft_docs": "Microsoft docs",
            "regulation": "Regulation",
        }[ref.kind]
        text = " ".join(p for p in (ref.title, f"`{ref.id}`" if ref.id else None) if p)
        parts.append(f"{label}: {text}")
    return "; ".join(parts) or "—"


def _defaults(check: CheckSpec) -> str:
    """What an absent property counts as, per field (and per API version where it changed)."""
    shown = [default.describe() for default in assumed_defaults(check)]
    return "<br>".join(_cell(line) for line in shown) or "—"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_catalogue(catalog: Catalog) -> str:
    lines = [
        "# Checks",
        "",
        "Generated from the catalogue (`checks/*.yaml`, `controls/*.yaml`) by",
        "`tutela.scanner.catalog.document`; do not edit by hand. How checks decide, the severity",
        "rule and the scoring are in README.md beside this file; each mapping's strength and the",
        "reason it holds are in controls/MAPPING.md. A control shown with a strength in brackets",
        "is evidenced only in part (supporting) or by analogy; without one, directly. The",
        "service defaults are what a check takes an absent property to be (the service's",
        "documented default; `from API <version>` where it changed between API versions and the",
        "source gives the resource's version, as a template does); a field not listed there is",
        "unknown when absent.",
        "",
        f"{len(catalog.checks)} checks: "
        + ", ".join(f"{sum(1 for c in catalog.checks if c.severity == s)} {s}" for s in SEVERITIES)
        + ".",
        "",
        "| check | severity | what fails | resource types | service defaults | controls | fix "
        "| references |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for check in sorted(catalog.checks, key=lambda c: c.id):
        types = "<br>".join(f"`{t}`" for t in check.resource_types)
        lines.append(
            f"| `{check.id}` | {check.severity} | **{_cell(check.title)}**. "
            f"{_cell(check.description)} | {types} | {_defaults(check)} | "
            f"{_controls(catalog, check)} | "
            f"{_cell(_fix(check))} | {_cell(_references(check))} |"
        )
    lines.append("")
    lines.append("## Controls per framework")
    lines.append("")
    for controls in _in_framework_order(catalog):
        framework = catalog.framework(controls.framework)
        lines.append(f"### {framework.name} (`{framework.id}`)")
        lines.append("")
        lines.append(f"{framework.publisher}, {framework.version}, {framework.published}.")
        lines.append("")
        reached = [f"`{t}`" for t in controls.analogy_resource_types] + [
            f"`{t}` of kind {', '.join(kinds)}"
            for t, kinds in controls.analogy_resource_kinds.items()
        ]
        if reached:
            lines.append(
                f"Every finding on these resources is by analogy, whatever its mapping's strength: "
                f"{'; '.join(reached)}."
            )
            lines.append("")
        lines.append("| control | title | direct | supporting | by analogy |")
        lines.append("|---|---|---|---|---|")
        for control in controls.controls:
            by_strength = {
                strength: ", ".join(
                    f"`{check}`"
                    for mapping in control.mappings
                    if mapping.strength == strength
                    for check in mapping.checks
                )
                or "—"
                for strength in STRENGTHS
            }
            lines.append(
                f"| {_shown_id(controls, control)} | {_cell(control.title)} | "
                + " | ".join(by_strength[s] for s in STRENGTHS)
                + " |"
            )
        lines.extend(_numbering_notes(controls))
        lines.append("")
    return "\n".join(lines)


def _in_framework_order(catalog: Catalog) -> list[FrameworkControls]:
    """The frameworks' controls in the order frameworks.yaml lists the frameworks."""
    found = (catalog.controls_of(framework) for framework in catalog.framework_ids)
    return [controls for controls in found if controls is not None]


def _numbering_notes(controls: FrameworkControls) -> list[str]:
    notes = [
        f"- `{finding_control_id(controls.control_prefix, c.id)}`: {_cell(c.numbering_note or '')}"
        for c in controls.controls
        if c.numbering == "unconfirmed"
    ]
    if not notes:
        return []
    return ["", "Numbering that could not be confirmed against the framework's own text:", *notes]


def _scope_line(controls: FrameworkControls) -> str:
    if controls.ai_scoped:
        return (
            "AI framework: storage accounts, key vaults, registries, clusters and "
            "subscription-wide settings count only when they belong to an AI workload "
            "(README.md, AI scope)."
        )
    return "Operational framework: every resource scanned counts, AI workload or not."


def render_mapping(catalog: Catalog) -> str:
    """controls/MAPPING.md: every mapping, its strength and why it holds, framework by framework."""
    lines = [
        "# Controls and their checks: the mappings and why they hold",
        "",
        "Generated from `controls/*.yaml` by `tutela.scanner.catalog.document`; do not edit by",
        "hand. Each row is one mapping: the control (as findings show it), the checks whose",
        "failure is evidence against it, how strongly, and the reason, citing the control's text.",
        "",
        "- **direct**: the check is evidence an examiner would accept for the control.",
        "- **supporting**: the check contributes to the control but does not by itself evidence",
        "  it; scores count it at half weight (README.md, Scores).",
        "- **by analogy**: the control's text does not reach the resource; kept for SR 26-2, whose",
        "  scope leaves out generative AI. Scores count it at half weight.",
        "",
        "| framework | controls | direct | supporting | by analogy |",
        "|---|---:|---:|---:|---:|",
    ]
    for controls in _in_framework_order(catalog):
        counted = Counter(
            mapping.strength
            for control in controls.controls
            for mapping in control.mappings
            for _ in mapping.checks
        )
        lines.append(
            f"| `{controls.framework}` | {len(controls.controls)} | "
            + " | ".join(str(counted[s]) for s in STRENGTHS)
            + " |"
        )
    lines.append("")
    lines.append("Counts are (control, check) pairs.")
    for controls in _in_framework_order(catalog):
        framework = catalog.framework(controls.framework)
        lines += [
            "",
            f"## {framework.name} (`{framework.id}`)",
            "",
            f"{framework.publisher}, {framework.version}, {framework.published}. "
            + _scope_line(controls),
            "",
            "| control | title | checks | strength | reason |",
            "|---|---|---|---|---|",
        ]
        for control in controls.controls:
            for mapping in control.mappings:
                checks = ", ".join(f"`{c}`" for c in mapping.checks)
                lines.append(
                    f"| {_shown_id(controls, control)} | {_cell(control.title)} | {checks} | "
                    f"{mapping.strength} | {_cell(mapping.reason)} |"
                )
        lines.extend(_numbering_notes(controls))
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m tutela.scanner.catalog.document
    from pathlib import Path

    from tutela.scanner.catalog.loader import load_catalog

    here = Path(__file__).parent
    catalog = load_catalog()
    for target, text in (
        (here / "CHECKS.md", render_catalogue(catalog)),
        (here / "controls" / "MAPPING.md", render_mapping(catalog)),
    ):
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
