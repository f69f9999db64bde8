"""The report of a validate run, one module per format: text, json, sarif, junit.

Each module has `render(validation) -> str`. Only the module of the format asked
for is imported, so a text run never loads the XML or hashing code of the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccm_azure.validate.registry import Rule
    from ccm_azure.validate.run import Validation

FORMATS = ("text", "json", "sarif", "junit")

_LEARN = "https://learn.microsoft.com/azure/azure-resource-manager/templates/"
_HELP_PAGES = {
    "template": _LEARN + "template-test-cases",
    "ui": _LEARN + "createuidefinition-test-cases",
    "parameters": _LEARN + "test-toolkit",
    "file": _LEARN + "test-toolkit",
}


def render(validation: Validation, output_format: str) -> str:
    """The report in `output_format`, one of FORMATS."""
    if output_format not in FORMATS:
        raise ValueError(f"unknown report format {output_format!r}")
    module = importlib.import_module(f"{__name__}.{output_format}")
    text = module.render(validation)
    assert isinstance(text, str)
    return text


def help_uri(rule: Rule) -> str | None:
    """Microsoft's page describing the arm-ttk test a rule reimplements, if any."""
    if rule.arm_ttk is None:
        return None
    return _HELP_PAGES.get(rule.family)


def partner_center(rule: Rule) -> str:
    """How Partner Center treats the rule's errors, in words."""
    if rule.arm_ttk is None:
        return "a ccm-azure check"
    verdict = "blocks" if rule.blocking else "warns without blocking"
    return f"arm-ttk test {rule.arm_ttk}; Partner Center {verdict}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary(validation: Validation) -> str:
    """One line: what was checked, what was found, and the --fail-on threshold."""
    from ccm_azure.validate.findings import Severity

    counts = ", ".join(
        plural(validation.count(s), s.value)
        for s in (Severity.ERROR, Severity.WARNING, Severity.NOTE)
    )
    suppressed = (
        f" ({len(validation.suppressed)} suppressed)" if validation.suppressed else ""
    )
    verdict = "failed" if validation.exit_code else "passed"
    return (
        f"{plural(len(validation.files), 'file')} checked with "
        f"{plural(len(validation.rules), 'rule')}: {counts}{suppressed}; "
        f"{verdict} (--fail-on {validation.fail_on.value})."
    )
