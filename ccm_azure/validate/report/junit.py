"""The JUnit XML report, the shape CI test reporters read.

One testsuite per file; one testcase per rule and document it ran on (a template
nested in a file is a document of its own). A testcase fails when the rule found
something at or above --fail-on there: one `failure` element, whose text lists each
such finding on its own line. Findings below the threshold and suppressed ones are
listed in the testcase's `system-out`, so they are visible without failing it.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from ccm_azure.validate.report import plural

if TYPE_CHECKING:
    from ccm_azure.validate.findings import Finding
    from ccm_azure.validate.registry import Rule
    from ccm_azure.validate.run import Validation

Case = tuple[str, str]
"""A testcase: the document (as findings name it) and a rule id."""


class _Cases:
    """Testcases grouped by suite, in the order they were first seen."""

    def __init__(self) -> None:
        self.suites: dict[str, dict[Case, list[str]]] = {}
        self.failures: dict[Case, list[Finding]] = {}

    def case(self, file: str, rule_id: str) -> list[str]:
        suite = self.suites.setdefault(file.split("#", 1)[0], {})
        return suite.setdefault((file, rule_id), [])


def _collect(validation: Validation) -> _Cases:
    cases = _Cases()
    for checked in validation.checked:
        for rule in checked.rules:
            cases.case(checked.file, rule.id)
    for finding in validation.findings:
        out = cases.case(finding.file, finding.rule_id)
        if validation.fails(finding):
            cases.failures.setdefault((finding.file, finding.rule_id), []).append(
                finding
            )
        else:
            out.append(finding.format())
    for entry in validation.suppressed:
        finding = entry.finding
        cases.case(finding.file, finding.rule_id).append(
            f"suppressed ({entry.suppression.reason}): {finding.format()}"
        )
    return cases


def _name(rule_id: str, rules: dict[str, Rule]) -> str:
    rule = rules.get(rule_id)
    return f"{rule_id} [{rule.arm_ttk}]" if rule and rule.arm_ttk else rule_id


def _failure(findings: list[Finding]) -> ET.Element:
    first = findings[0]
    message = first.message
    if len(findings) > 1:
        message += f" (and {plural(len(findings) - 1, 'more finding')})"
    worst = max((f.severity for f in findings), key=lambda s: s.rank)
    element = ET.Element("failure", message=message, type=worst.value)
    element.text = "\n".join(f.format() for f in findings)
    return element


def tree(validation: Validation) -> ET.Element:
    """The report as an XML element tree."""
    cases = _collect(validation)
    rules = {rule.id: rule for rule in validation.rules}
    root = ET.Element("testsuites", name="ccm-azure validate")
    total_tests = total_failures = 0
    for suite_name, suite_cases in cases.suites.items():
        suite = ET.SubElement(root, "testsuite", name=suite_name)
        failures = 0
        for (file, rule_id), out in suite_cases.items():
            case = ET.SubElement(
                suite, "testcase", classname=file, name=_name(rule_id, rules)
            )
            failing = cases.failures.get((file, rule_id))
            if failing:
                failures += 1
                case.append(_failure(failing))
            if out:
                ET.SubElement(case, "system-out").text = "\n".join(out)
        suite.set("tests", str(len(suite_cases)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total_tests += len(suite_cases)
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    root.set("skipped", "0")
    return root


def render(validation: Validation) -> str:
    root = tree(validation)
    ET.indent(root)
    buffer = io.BytesIO()
    ET.ElementTree(root).write(buffer, encoding="UTF-8", xml_declaration=True)
    return buffer.getvalue().decode("utf-8") + "\n"
