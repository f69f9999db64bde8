"""The rule registry, and what a rule sees when it runs.

A rule is a function registered with the `rule` decorator in a module of
`ccm_azure.validate.rules`. It receives a `Context` (the document under check, the
whole package, the run's settings) and yields problems: a JSON path and a message,
or a `Problem` when it needs more (a warning, an arm-ttk error id, another document).
The registry turns problems into findings with the rule's id, arm-ttk name and the
severity Partner Center would give them.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal

from ccm_azure.validate.files import Document, Kind, Package
from ccm_azure.validate.findings import Finding, Severity

if TYPE_CHECKING:
    from ccm_azure.offer import Offer
    from ccm_azure.validate.api_versions import ApiVersions

Family = Literal["template", "ui", "parameters", "file", "offer"]
Level = Literal["error", "warning"]

FAMILY_KINDS: dict[Family, tuple[Kind, ...]] = {
    "template": ("template",),
    "ui": ("ui",),
    "parameters": ("parameters",),
    "file": ("template", "ui", "parameters", "other"),
    "offer": ("template",),
}


@dataclasses.dataclass(frozen=True)
class Settings:
    """What a run knows beyond the files."""

    as_of: datetime.date = dataclasses.field(default_factory=datetime.date.today)
    api_versions: ApiVersions | None = None
    offer: Offer | None = None
    """Set when the files are our own rendered offer; offer-policy rules need it."""


@dataclasses.dataclass(frozen=True)
class Context:
    document: Document
    package: Package
    settings: Settings

    @property
    def data(self) -> Any:
        return self.document.data

    @property
    def main_template(self) -> Document | None:
        return self.package.main_template

    @property
    def ui_definition(self) -> Document | None:
        return self.package.ui_definition


@dataclasses.dataclass(frozen=True)
class Problem:
    path: str
    message: str
    level: Level = "error"
    error_id: str | None = None
    document: Document | None = None
    """Set when the problem is in another document than the one under check."""


Report = Problem | tuple[str, str]
"""What a rule yields: a Problem, or just a JSON path and a message (an error)."""
Check = Callable[[Context], Iterable[Report]]


@dataclasses.dataclass(frozen=True)
class Rule:
    id: str
    family: Family
    summary: str
    arm_ttk: str | None
    blocking: bool
    """Whether Partner Center refuses an offer with an error from this rule."""
    check: Check
    main_only: bool = False
    """Run on the main template only (rules about the deployment's entry point)."""
    needs_main_template: bool = False
    """Skip a form checked without its main template, as arm-ttk does."""

    def applies_to(self, doc: Document, package: Package) -> bool:
        if doc.kind not in FAMILY_KINDS[self.family]:
            return False
        if self.family != "file" and doc.load_error is not None:
            return False
        if self.main_only and not doc.is_main:
            return False
        return not (self.needs_main_template and package.main_template is None)

    def severity(self, level: Level) -> Severity:
        if level == "error":
            return Severity.ERROR if self.blocking else Severity.WARNING
        return Severity.WARNING if self.blocking else Severity.NOTE

    def run(self, context: Context) -> Iterator[Finding]:
        for item in self.check(context):
            problem = item if isinstance(item, Problem) else Problem(*item)
            doc = problem.document or context.document
            yield Finding(
                file=doc.label,
                path=problem.path,
                rule_id=self.id,
                severity=self.severity(problem.level),
                message=problem.message,
                arm_ttk=self.arm_ttk,
                line=doc.line_of(problem.path),
                level=problem.level,
                error_id=problem.error_id,
            )


RULES: dict[str, Rule] = {}
BY_ARM_TTK: dict[str, Rule] = {}


def rule(
    id: str,
    *,
    family: Family,
    summary: str,
    arm_ttk: str | None = None,
    blocking: bool = True,
    main_only: bool = False,
    needs_main_template: bool = False,
) -> Callable[[Check], Check]:
    """Register the decorated function as a rule."""

    def register(check: Check) -> Check:
        if id in RULES:
            raise ValueError(f"rule {id} is registered twice")
        registered = Rule(
            id,
            family,
            summary,
            arm_ttk,
            blocking,
            check,
            main_only,
            needs_main_template,
        )
        RULES[id] = registered
        if arm_ttk:
            BY_ARM_TTK[arm_ttk.lower()] = registered
        return check

    return register
