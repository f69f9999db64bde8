"""Checks of templates and portal forms, the way Marketplace certification does them.

`check(files)` runs every registered rule that applies and returns the findings,
sorted by file and JSON path.
"""

from __future__ import annotations

from collections.abc import Collection

from ccm_azure.validate import rules  # noqa: F401 - registers the rules
from ccm_azure.validate.findings import Finding, Severity
from ccm_azure.validate.registry import RULES, Document, Files, Rule

__all__ = ["RULES", "Document", "Files", "Finding", "Rule", "Severity", "check"]


def check(files: Files, *, families: Collection[str] | None = None) -> list[Finding]:
    """Run the rules of `families` (all when None) over `files`."""
    findings: list[Finding] = []
    for rule in RULES.values():
        if families is not None and rule.family not in families:
            continue
        if rule.family == "offer" and files.offer is None:
            continue
        findings.extend(rule.run(files))
    return sorted(findings)
