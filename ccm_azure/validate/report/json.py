"""The JSON report: the run's settings, a summary and every finding, stable fields.

Fields are documented in the README ("Validating templates"); a change to them bumps
FORMAT_VERSION.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ccm_azure import __version__
from ccm_azure.validate.findings import Finding, Severity

if TYPE_CHECKING:
    from ccm_azure.validate.run import Validation

FORMAT_VERSION = 1


def finding_fields(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule_id,
        "arm_ttk": finding.arm_ttk,
        "severity": finding.severity.value,
        "arm_ttk_level": finding.level,
        "error_id": finding.error_id,
        "file": finding.file,
        "line": finding.line,
        "path": finding.path,
        "message": finding.message,
    }


def document(validation: Validation) -> dict[str, Any]:
    """The report as a JSON-ready dict."""
    table = validation.settings.api_versions
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "ccm-azure", "version": __version__},
        "as_of": validation.settings.as_of.isoformat(),
        "api_versions": table.source if table is not None else None,
        "fail_on": validation.fail_on.value,
        "exit_code": int(validation.exit_code),
        "files": [c.file for c in validation.files],
        "rules": [r.id for r in validation.rules],
        "summary": {
            **{s.value: validation.count(s) for s in Severity},
            "suppressed": len(validation.suppressed),
        },
        "findings": [finding_fields(f) for f in validation.findings],
        "suppressed": [
            {**finding_fields(s.finding), "reason": s.suppression.reason}
            for s in validation.suppressed
        ],
    }


def render(validation: Validation) -> str:
    return json.dumps(document(validation), indent=2, ensure_ascii=False) + "\n"
