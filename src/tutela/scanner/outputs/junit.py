"""JUnit XML from a report document, for CI systems that render test results.

One test suite per framework: a failed test case per failing check on a resource that counts for
the framework (naming the controls it counts for, each not mapped directly with its mapping, and
the AI workload a general-purpose resource belongs to), a skipped one per result the scan could
not decide, a skipped one per accepted risk (its acceptance as the message), and one passing case
that counts the checks that passed. What reading the inputs left out (the report's ``notes``)
is each suite's ``system-err``, a line per note: every framework's results are short of it;
what the scan never looked at (``not_evaluated``) is each suite's ``system-out``. A failure on a
resource a template deploys under a condition not decided offline ends its message with
"(conditional)".
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from tutela.scanner.not_evaluated import one_line, unnoted
from tutela.scanner.outputs.failing import FailingCheck, failing_checks

# What XML 1.0 cannot hold at all, even escaped: control characters and lone surrogates.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _shown(text: str) -> str:
    """``text`` with what XML cannot hold written as ``\\xNN`` or ``\\uNNNN`` (names hold any)."""
    return _NOT_XML.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _xml_safe(root: ET.Element) -> None:
    for element in root.iter():
        if element.text:
            element.text = _shown(element.text)
        for name, value in element.attrib.items():
            element.attrib[name] = _shown(value)


def _evidence(items: tuple[tuple[str, Any], ...]) -> str:
    return "\n".join(f"{path} = {value!r}" for path, value in items)


def _accepted(acceptance: Mapping[str, Any]) -> str:
    ticket = f"; ticket {acceptance['ticket']}" if acceptance.get("ticket") else ""
    return (
        f"accepted risk until {acceptance['expires']}: {acceptance['reason']} "
        f"(approved by {acceptance['approver']}{ticket})"
    )


def junit_xml(report: Mapping[str, Any], failing: list[FailingCheck] | None = None) -> bytes:
    rows = failing if failing is not None else failing_checks(report)
    unseen = unnoted(report.get("not_evaluated") or ())
    suites = ET.Element("testsuites", name="Tutela compliance scan")
    total_tests = total_failures = total_skipped = 0
    for framework in report.get("frameworks", []):
        scores = report.get("framework_scores", {}).get(framework, {})
        suite = ET.SubElement(suites, "testsuite", name=framework)
        tests = failures = skipped = 0
        for row in rows:
            if framework not in row.frameworks:
                continue
            tests += 1
            failures += 1
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{framework}.{row.check_id}",
                name=f"{row.check_id} {row.resource_name}",
            )
            conditional = " (conditional)" if row.conditional else ""
            failure = ET.SubElement(
                case,
                "failure",
                message=f"[{row.severity}] {row.title}{conditional}",
                type=row.severity,
            )
            workload = f"AI workload: {row.ai_workload}\n" if row.ai_workload else ""
            failure.text = (
                f"{row.resource}\nControls: {', '.join(row.controls_shown())}\n{workload}"
                f"{_evidence(row.evidence)}\nRemediation: {row.remediation}"
            )
        for unknown in report.get("unknown", []):
            if framework in unknown.get("frameworks", ()):
                tests += 1
                skipped += 1
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=f"{framework}.unknown",
                    name=f"{unknown['check_id']} {unknown['resource']}",
                )
                ET.SubElement(case, "skipped", message="could not be decided from this source")
        for accepted in report.get("accepted", []):
            if framework in accepted.get("frameworks", ()):
                tests += 1
                skipped += 1
                case = ET.SubElement(
                    suite,
                    "testcase",
                    classname=f"{framework}.{accepted['check_id']}",
                    name=f"{accepted['check_id']} {accepted['resource_name']}",
                )
                skip = ET.SubElement(case, "skipped", message=_accepted(accepted["acceptance"]))
                skip.text = accepted["resource_id"]
        passed = int(scores.get("checks_passed", 0))
        if passed:
            tests += 1
            ET.SubElement(
                suite, "testcase", classname=f"{framework}.passed", name=f"{passed} checks passed"
            )
        if unseen:  # (system-out comes before system-err)
            lines = (one_line(entry) for entry in unseen)
            ET.SubElement(suite, "system-out").text = "Not evaluated:\n" + "\n".join(lines)
        if report.get("notes"):
            ET.SubElement(suite, "system-err").text = "\n".join(report["notes"])
        suite.set("tests", str(tests))
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
        suite.set("errors", "0")
        total_tests, total_failures = total_tests + tests, total_failures + failures
        total_skipped += skipped
    suites.set("tests", str(total_tests))
    suites.set("failures", str(total_failures))
    suites.set("skipped", str(total_skipped))
    suites.set("errors", "0")
    _xml_safe(suites)
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data
