"""The text report: one line per finding, then a summary line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccm_azure.validate.report import summary

if TYPE_CHECKING:
    from ccm_azure.validate.run import Validation


def render(validation: Validation) -> str:
    lines = [finding.format() for finding in validation.findings]
    lines.append(summary(validation))
    return "\n".join(lines) + "\n"
