"""The rule registry and the files rules look at.

A rule is a function that takes the files under check and yields `(json_path, message)`
pairs; the registry wraps each pair into a Finding with the rule's id, severity and
arm-ttk name. Rules register themselves with the `rule` decorator in the modules of
`ccm_azure.validate.rules`, one module per family.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ccm_azure.offer import Offer
from ccm_azure.validate.findings import Finding, Severity


@dataclasses.dataclass(frozen=True)
class Document:
    """One parsed JSON file under check."""

    name: str
    data: Any


@dataclasses.dataclass(frozen=True)
class Files:
    """The files a run checks together: a main template and/or its portal form."""

    main_template: Document | None = None
    ui_definition: Document | None = None
    offer: Offer | None = None
    """Set when the files are our own rendered offer; offer-policy rules need it."""


Problem = tuple[str, str]
"""A JSON path and a message saying what is wrong and how to fix it."""
Located = tuple[str, str, str]
"""A problem in another file than the rule's own: file name, JSON path, message."""
Check = Callable[[Files], Iterable[Problem | Located]]


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    family: str  # "template", "ui", "offer"
    severity: Severity
    summary: str
    arm_ttk: str | None
    check: Check

    def target(self, files: Files) -> Document | None:
        """The document a finding of this rule points at."""
        if self.family == "ui":
            return files.ui_definition
        return files.main_template

    def run(self, files: Files) -> Iterator[Finding]:
        document = self.target(files)
        for problem in self.check(files):
            if len(problem) == 3:
                name, path, message = problem
            else:
                name = document.name if document else "-"
                path, message = problem
            yield Finding(
                file=name,
                path=path,
                rule_id=self.id,
                severity=self.severity,
                message=message,
                arm_ttk=self.arm_ttk,
            )


RULES: dict[str, Rule] = {}


def rule(
    id: str,
    *,
    family: str,
    severity: Severity,
    summary: str,
    arm_ttk: str | None = None,
) -> Callable[[Check], Check]:
    """Register the decorated function as a rule."""

    def register(check: Check) -> Check:
        if id in RULES:
            raise ValueError(f"rule {id} is registered twice")
        RULES[id] = Rule(id, family, severity, summary, arm_ttk, check)
        return check

    return register
