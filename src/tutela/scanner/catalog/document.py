"""The catalogue as a Markdown document a compliance reviewer can read (CHECKS.md).

A test keeps the committed file equal to this rendering, so the document is never stale.
"""

from __future__ import annotations

from tutela.scanner.catalog.checks import SEVERITIES, CheckSpec, finding_control_id
from tutela.scanner.catalog.loader import Catalog


def _controls(catalog: Catalog, check: CheckSpec) -> str:
    shown = []
    for controls in catalog.controls:
        for control in controls.controls:
            if check.id in control.checks or check.id in control.analogy_checks:
                control_id = finding_control_id(controls.control_prefix, control.id)
                analogy = " (by analogy)" if check.id in control.analogy_checks else ""
                shown.append(f"{control_id}{analogy}")
    return ", ".join(shown)


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


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_catalogue(catalog: Catalog) -> str:
    lines = [
        "# Checks",
        "",
        "Generated from the catalogue (`checks/*.yaml`, `controls/*.yaml`) by",
        "`tutela.scanner.catalog.document`; do not edit by hand. How checks decide, the severity",
        "rule and the scoring are in README.md beside this file; the reasons for each control",
        "mapping are in controls/MAPPING.md.",
        "",
        f"{len(catalog.checks)} checks: "
        + ", ".join(f"{sum(1 for c in catalog.checks if c.severity == s)} {s}" for s in SEVERITIES)
        + ".",
        "",
        "| check | severity | what fails | resource types | controls | references |",
        "|---|---|---|---|---|---|",
    ]
    for check in sorted(catalog.checks, key=lambda c: c.id):
        types = "<br>".join(f"`{t}`" for t in check.resource_types)
        lines.append(
            f"| `{check.id}` | {check.severity} | **{_cell(check.title)}**. "
            f"{_cell(check.description)} | {types} | {_controls(catalog, check)} | "
            f"{_cell(_references(check))} |"
        )
    lines.append("")
    lines.append("## Controls per framework")
    lines.append("")
    for controls in catalog.controls:
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
                f"Every finding on these resources is by analogy, whichever list its check is in: "
                f"{'; '.join(reached)}."
            )
            lines.append("")
        lines.append("| control | title | checks |")
        lines.append("|---|---|---|")
        for control in controls.controls:
            checks = ", ".join(f"`{c}`" for c in control.checks)
            if control.analogy_checks:
                analogy = ", ".join(f"`{c}`" for c in control.analogy_checks)
                checks = f"{checks}; by analogy: {analogy}" if checks else f"by analogy: {analogy}"
            shown = finding_control_id(controls.control_prefix, control.id)
            lines.append(f"| `{shown}` | {_cell(control.title)} | {checks} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m tutela.scanner.catalog.document
    from pathlib import Path

    from tutela.scanner.catalog.loader import load_catalog

    target = Path(__file__).with_name("CHECKS.md")
    target.write_text(render_catalogue(load_catalog()), encoding="utf-8")
    print(f"wrote {target}")
