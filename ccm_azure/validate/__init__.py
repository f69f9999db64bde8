"""Checks of templates and portal forms, the way Marketplace certification does them.

`check(package, settings)` runs every registered rule on every document it applies
to and returns the findings, sorted by file and JSON path.
"""

from __future__ import annotations

from collections.abc import Collection

from ccm_azure.validate import rules  # noqa: F401 - registers the rules
from ccm_azure.validate.files import Document, Package
from ccm_azure.validate.findings import Finding, Severity
from ccm_azure.validate.registry import RULES, Context, Rule, Settings

__all__ = [
    "RULES",
    "Document",
    "Finding",
    "Package",
    "Rule",
    "Settings",
    "Severity",
    "check",
]


def check(
    package: Package,
    settings: Settings | None = None,
    *,
    only: Collection[Rule] | None = None,
) -> list[Finding]:
    """Run `only` these rules (default: all that apply) over `package`."""
    settings = settings or Settings()
    selected = list(only) if only is not None else list(RULES.values())
    findings: list[Finding] = []
    for rule in selected:
        if rule.family == "offer" and settings.offer is None:
            continue
        for document in package.documents:
            if rule.applies_to(document, package):
                findings.extend(rule.run(Context(document, package, settings)))
    return sorted(findings)
