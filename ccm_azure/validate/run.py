"""What `ccm-azure validate` does between reading its options and printing a report.

`validate(request)` loads every path, runs the chosen rules with the run's settings,
applies suppressions and returns a `Validation`: what was checked, what was found and
the exit code the findings call for. `settings()` is shared with `ccm-azure build`, so
both judge files with the same apiVersion table and date.

Files are named in findings the way the user named them: relative to the current
directory when they are inside it, a zip's members as `<zip>/<member>`, templates
nested in a file as `<file>#<JSON path of the template>`.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ccm_azure.errors import ExitCode, UserInputError
from ccm_azure.validate import api_versions, check, files
from ccm_azure.validate.api_versions import ApiVersions
from ccm_azure.validate.findings import Finding, Severity
from ccm_azure.validate.registry import BY_ARM_TTK, RULES, Rule, Settings

if TYPE_CHECKING:
    from ccm_azure.offer import Offer
    from ccm_azure.validate.suppressions import Suppressed, Suppression

LOGGER = logging.getLogger(__name__)

SUPPRESSIONS_FILE = ".ccm-azure-suppressions.toml"
"""Read from the current directory when no --suppressions file is given."""


def settings(
    *,
    as_of: datetime.date | None = None,
    api_versions_file: Path | None = None,
    offer: Offer | None = None,
) -> Settings:
    """The settings of a run: today and the shipped table unless told otherwise."""
    table = (
        ApiVersions.from_file(api_versions_file)
        if api_versions_file is not None
        else api_versions.shipped()
    )
    LOGGER.info("apiVersions from %s", table.source)
    return Settings(
        as_of=as_of or datetime.date.today(), api_versions=table, offer=offer
    )


def parse_date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise UserInputError(
            f"--as-of {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-02-13."
        ) from None


def find_rule(name: str) -> Rule | None:
    """A rule by our id or by its arm-ttk test name, in any case."""
    lowered = name.strip().lower()
    for rule in RULES.values():
        if rule.id.lower() == lowered:
            return rule
    return BY_ARM_TTK.get(lowered)


def select_rules(
    only: Iterable[str], skip: Iterable[str], run_settings: Settings
) -> list[Rule]:
    """The rules a run uses, in registry order."""
    chosen = {_known(name, "--rule").id for name in only}
    skipped = {_known(name, "--skip-rule").id for name in skip}
    return [
        rule
        for rule in RULES.values()
        if (not chosen or rule.id in chosen)
        and rule.id not in skipped
        and (rule.family != "offer" or run_settings.offer is not None)
    ]


def _known(name: str, option: str) -> Rule:
    rule = find_rule(name)
    if rule is None:
        raise UserInputError(
            f"{option} {name!r} names no rule; give a rule id or an arm-ttk test "
            "name from 'ccm-azure validate --list-rules'."
        )
    return rule


@dataclasses.dataclass(frozen=True)
class Request:
    """The options of one run, as the CLI received them."""

    paths: Sequence[Path]
    fail_on: Severity = Severity.ERROR
    as_of: datetime.date | None = None
    api_versions_file: Path | None = None
    main_template: str | None = None
    only: Sequence[str] = ()
    skip: Sequence[str] = ()
    suppressions_file: Path | None = None
    """None: use `.ccm-azure-suppressions.toml` in the current directory if there."""


@dataclasses.dataclass(frozen=True)
class Checked:
    """One document of the run and the rules that ran on it."""

    file: str
    """The document as findings name it."""
    artifact: Path
    """The file on disk that holds it (the zip, for a member of one)."""
    member: str | None
    """The name inside the zip, for a member of one."""
    nested: bool
    load_error: str | None
    rules: tuple[Rule, ...]


@dataclasses.dataclass(frozen=True)
class Validation:
    """What a run checked and found, and the exit code that follows."""

    findings: list[Finding]
    """Findings not suppressed, stale-suppression notes included."""
    suppressed: list[Suppressed]
    rules: list[Rule]
    """The rules that ran, plus the stale-suppression rule when there are entries."""
    checked: list[Checked]
    settings: Settings
    fail_on: Severity
    suppressions_file: Path | None = None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def fails(self, finding: Finding) -> bool:
        return finding.severity.rank >= self.fail_on.rank

    @property
    def exit_code(self) -> ExitCode:
        if any(self.fails(f) for f in self.findings):
            return ExitCode.FINDINGS
        return ExitCode.OK

    @property
    def files(self) -> list[Checked]:
        """The files read, without the templates nested in them."""
        return [c for c in self.checked if not c.nested]

    @functools.cached_property
    def _by_file(self) -> dict[str, Checked]:
        return {c.file: c for c in self.checked}

    def where(self, finding: Finding) -> tuple[Path, str | None]:
        """The file on disk a finding is in, and its name inside a zip if any."""
        checked = self._by_file.get(finding.file)
        if checked is not None:
            return checked.artifact, checked.member
        if self.suppressions_file is not None and finding.file == shown(
            self.suppressions_file
        ):
            return self.suppressions_file, None
        return Path(finding.file.split("#", 1)[0]), None


def shown(path: Path) -> str:
    """A path as reports show it: relative to the current directory when inside it."""
    absolute = Path(os.path.abspath(path))
    cwd = Path.cwd()
    if absolute.is_relative_to(cwd):
        return absolute.relative_to(cwd).as_posix() or "."
    return absolute.as_posix()


@dataclasses.dataclass
class _Target:
    """One package and how its documents are named on disk and in reports."""

    package: files.Package
    prefix: str
    artifact: Path | None
    """The zip that holds every document, or None when they are plain files."""
    folder: Path


def _targets(paths: Sequence[Path], main_template: str | None) -> list[_Target]:
    """Folders and zips are packages of their own; loose files group by folder."""
    targets: list[_Target] = []
    loose: dict[Path, _Target] = {}
    seen: set[Path] = set()
    for path in paths:
        resolved = Path(os.path.abspath(path))
        if resolved in seen:
            continue
        seen.add(resolved)
        package = files.load(path, main_template=main_template)
        if path.is_dir():
            targets.append(_Target(package, _prefix(path), None, resolved))
        elif path.suffix.lower() == ".zip":
            targets.append(_Target(package, shown(path) + "/", resolved, resolved))
        elif resolved.parent in loose:
            loose[resolved.parent].package.documents.extend(package.documents)
        else:
            target = _Target(package, _prefix(path.parent), None, resolved.parent)
            loose[resolved.parent] = target
            targets.append(target)
    return targets


def _prefix(folder: Path) -> str:
    name = shown(folder)
    return "" if name == "." else name + "/"


def validate(request: Request) -> Validation:
    """Run the checks a request asks for over every path it names."""
    run_settings = settings(
        as_of=request.as_of, api_versions_file=request.api_versions_file
    )
    rules = select_rules(request.only, request.skip, run_settings)
    suppressions_file = _suppressions_file(request.suppressions_file)
    entries: list[Suppression] = []
    if suppressions_file is not None:
        # Imported only here: most runs have no suppressions, and start-up counts.
        from ccm_azure.validate import suppressions

        entries = suppressions.load(
            suppressions_file, find_rule, label=shown(suppressions_file)
        )
    if not request.paths:
        raise UserInputError(
            "Give at least one template file, folder or Marketplace zip to validate."
        )
    targets = _targets(request.paths, request.main_template)

    findings: list[Finding] = []
    checked: list[Checked] = []
    for target in targets:
        for finding in check(target.package, run_settings, only=rules):
            findings.append(
                dataclasses.replace(finding, file=target.prefix + finding.file)
            )
        checked.extend(_checked(target, rules))
    LOGGER.info(
        "Ran %d rules on %d documents: %d findings",
        len(rules),
        len(checked),
        len(findings),
    )

    suppressed: list[Suppressed] = []
    if entries:
        applied = suppressions.apply(findings, entries, (r.id for r in rules))
        findings = applied.kept + list(suppressions.stale_notes(applied.unused))
        suppressed = applied.suppressed
        rules = [*rules, suppressions.UNUSED]
    return Validation(
        findings=findings,
        suppressed=suppressed,
        rules=rules,
        checked=checked,
        settings=run_settings,
        fail_on=request.fail_on,
        suppressions_file=suppressions_file,
    )


def _suppressions_file(given: Path | None) -> Path | None:
    if given is not None:
        return given
    default = Path(SUPPRESSIONS_FILE)
    if default.is_file():
        LOGGER.info("Reading suppressions from %s", default)
        return default
    return None


def _checked(target: _Target, rules: list[Rule]) -> list[Checked]:
    package = target.package
    result = []
    for doc in package.documents:
        top = doc
        while top.parent is not None:
            top = top.parent
        if target.artifact is not None:
            artifact, member = target.artifact, top.name
        else:
            artifact, member = target.folder / top.name, None
        result.append(
            Checked(
                file=target.prefix + doc.label,
                artifact=artifact,
                member=member,
                nested=doc.parent is not None,
                load_error=doc.load_error,
                rules=tuple(r for r in rules if r.applies_to(doc, package)),
            )
        )
    return result


def write_report(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UserInputError(
            f"Cannot write the report to {path}: {error.strerror or error}."
        ) from None


def rule_table() -> str:
    """Every rule: id, arm-ttk name, the severity of its errors, and what it checks."""
    rows = [("rule", "arm-ttk test", "severity", "what it checks")]
    for rule in RULES.values():
        severity = rule.severity("error").value
        if rule.family == "offer":
            severity += " (build only)"
        rows.append((rule.id, rule.arm_ttk or "-", severity, rule.summary))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "".join(
        f"{a:{widths[0]}}  {b:{widths[1]}}  {c:{widths[2]}}  {d}\n"
        for a, b, c, d in rows
    )
