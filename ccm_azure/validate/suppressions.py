"""Suppressions: findings a user has judged to be false positives, with the reason.

A suppressions file is TOML with one `[[suppress]]` table per entry:

    [[suppress]]
    rule = "IDs-Should-Be-Derived-From-ResourceIDs"   # our rule id or the arm-ttk name
    path = "nested/*.json"                            # glob on the file (optional)
    json_path = "$.resources[2].properties"           # JSON path prefix (optional)
    reason = "workerSizeId is a size number, not a resource id."

A finding is suppressed when its rule, file and JSON path all match one entry. An
entry that matched nothing while its rule ran is stale: it becomes a note, so that
suppressions do not outlive the problem they were written for.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from ccm_azure.errors import UserInputError
from ccm_azure.validate.findings import Finding, Severity
from ccm_azure.validate.registry import Context, Report, Rule

TABLE = "suppress"
_KEYS = {"rule", "path", "json_path", "reason"}
_TABLE_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*" + TABLE + r"[ \t]*\]\]", re.MULTILINE)


def _never(context: Context) -> Iterable[Report]:
    return ()


UNUSED = Rule(
    id="suppression-unused",
    family="file",
    summary="A suppression that matched no finding is probably stale and can go.",
    arm_ttk=None,
    blocking=False,
    check=_never,
)
"""The pseudo-rule of stale-suppression notes; never registered, never run on files."""


@dataclasses.dataclass(frozen=True)
class Suppression:
    rule: Rule
    reason: str
    path: str = "*"
    json_path: str | None = None
    file: str = ""
    """The suppressions file, as reported."""
    index: int = 0
    """Position among the file's entries, from 0."""
    line: int | None = None

    def matches(self, finding: Finding) -> bool:
        return (
            finding.rule_id == self.rule.id
            and self._matches_file(finding.file)
            and self._matches_json_path(finding.path)
        )

    def _matches_file(self, label: str) -> bool:
        file = label.split("#", 1)[0]
        candidates = {label, file}
        if "/" not in self.path:
            candidates.add(PurePosixPath(file).name)
        return any(fnmatch.fnmatchcase(c, self.path) for c in candidates)

    def _matches_json_path(self, path: str) -> bool:
        if self.json_path is None:
            return True
        prefix, lowered = self.json_path.lower(), path.lower()
        return lowered == prefix or lowered.startswith((prefix + ".", prefix + "["))

    def describe(self) -> str:
        where = self.path + (f" at {self.json_path}" if self.json_path else "")
        return f"{self.rule.id} in {where}"


def load(
    path: Path, find_rule: Callable[[str], Rule | None], *, label: str | None = None
) -> list[Suppression]:
    """Read a suppressions file; every mistake in it is a UserInputError."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise UserInputError(
            f"Cannot read the suppressions file {path}: {error.strerror or error}."
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UserInputError(
            f"The suppressions file {path} is not valid TOML ({error}); "
            "see the README for its format."
        ) from None
    unknown = sorted(set(data) - {TABLE})
    if unknown:
        raise UserInputError(
            f"The suppressions file {path} has unknown key(s) {', '.join(unknown)}; "
            f"write each entry as a [[{TABLE}]] table."
        )
    entries = data.get(TABLE, [])
    if not isinstance(entries, list):
        raise UserInputError(
            f"In {path}, '{TABLE}' must be a list of tables; write [[{TABLE}]]."
        )
    lines = [text.count("\n", 0, m.start()) + 1 for m in _TABLE_HEADER.finditer(text)]
    shown = label or path.as_posix()
    return [
        _entry(
            path,
            i,
            entry,
            find_rule,
            shown,
            lines[i] if len(lines) == len(entries) else None,
        )
        for i, entry in enumerate(entries)
    ]


def _entry(
    path: Path,
    index: int,
    entry: Any,
    find_rule: Callable[[str], Rule | None],
    label: str,
    line: int | None,
) -> Suppression:
    where = f"{path}, entry {index + 1}" + (f" (line {line})" if line else "")
    if not isinstance(entry, Mapping):
        raise UserInputError(f"{where} must be a table of rule, path and reason.")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise UserInputError(
            f"{where} has unknown key(s) {', '.join(unknown)}; "
            "use rule, path, json_path and reason."
        )
    rule_name = _required(entry, "rule", where)
    reason = _required(entry, "reason", where)
    file_glob = _optional(entry, "path", where) or "*"
    json_path = _optional(entry, "json_path", where)
    if json_path is not None and not json_path.startswith("$"):
        raise UserInputError(
            f"{where}: json_path {json_path!r} must start with '$', as findings "
            "show it (e.g. $.resources[0].properties)."
        )
    rule = find_rule(rule_name)
    if rule is None:
        raise UserInputError(
            f"{where} names the unknown rule {rule_name!r}; give a rule id or an "
            "arm-ttk test name from 'ccm-azure validate --list-rules'."
        )
    return Suppression(rule, reason, file_glob, json_path or None, label, index, line)


def _optional(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise UserInputError(f"{where}: {key} must be a string.")
    return value.strip()


def _required(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = _optional(entry, key, where)
    if value is None:
        raise UserInputError(
            f"{where} has no {key}; every suppression needs a rule and a reason."
        )
    if not value:
        raise UserInputError(f"{where}: {key} must be a non-empty string.")
    return value


@dataclasses.dataclass(frozen=True)
class Suppressed:
    finding: Finding
    suppression: Suppression


@dataclasses.dataclass(frozen=True)
class Applied:
    kept: list[Finding]
    suppressed: list[Suppressed]
    unused: list[Suppression]


def apply(
    findings: Iterable[Finding],
    suppressions: list[Suppression],
    ran: Iterable[str],
) -> Applied:
    """Split findings into kept and suppressed; list the entries that matched none.

    Only entries whose rule is in `ran` can be stale: a run restricted with --rule
    or --skip-rule says nothing about the others.
    """
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    used: set[int] = set()
    for finding in findings:
        matching = [s for s in suppressions if s.matches(finding)]
        used.update(s.index for s in matching)
        if matching:
            suppressed.append(Suppressed(finding, matching[0]))
        else:
            kept.append(finding)
    ran_ids = set(ran)
    unused = [s for s in suppressions if s.index not in used and s.rule.id in ran_ids]
    return Applied(kept, suppressed, unused)


def stale_notes(unused: Iterable[Suppression]) -> Iterator[Finding]:
    """One note per suppression that matched nothing."""
    for entry in unused:
        yield Finding(
            file=entry.file,
            path=f"$.{TABLE}[{entry.index}]",
            rule_id=UNUSED.id,
            severity=Severity.NOTE,
            message=(
                f"The suppression of {entry.describe()} matched no finding; "
                "remove it if the problem is fixed, or correct its rule, path "
                "or json_path."
            ),
            line=entry.line,
            level="warning",
        )
