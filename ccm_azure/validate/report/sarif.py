"""The SARIF 2.1.0 report, in the subset GitHub code scanning reads.

Every rule that ran is declared, so code scanning can tell "ran and found nothing"
(and close an alert) from "not run". File URIs are relative to the repository root
(the nearest folder above the current one holding `.git`, else the current folder).
Each result carries a fingerprint of rule, file and JSON path, which stays the same
when lines move. A member of a zip is reported on the zip, at line 1, with the
member's name in the message, since code scanning cannot look inside archives.
Suppressed findings are left out: code scanning would show them as open alerts.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ccm_azure import __version__
from ccm_azure.validate.findings import Finding, Severity
from ccm_azure.validate.report import help_uri, partner_center

if TYPE_CHECKING:
    from ccm_azure.validate.registry import Rule
    from ccm_azure.validate.run import Validation

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
    "sarif-schema-2.1.0.json"
)
FALLBACK_URI = "https://pypi.org/project/ccm-azure/"
FINGERPRINT = "ccmAzureFinding/v1"
ROOT = "%SRCROOT%"


def information_uri() -> str:
    """The project's home page, from the installed package's metadata."""
    from importlib import metadata

    try:
        urls = metadata.metadata("ccm-azure").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    for entry in urls:
        url = str(entry).partition(",")[2].strip()
        if url.startswith("https://"):
            return url
    return FALLBACK_URI


def source_root(start: Path | None = None) -> Path:
    """The repository root above `start` (default: the current folder), else it."""
    here = Path(os.path.abspath(start or Path.cwd()))
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def _level(severity: Severity) -> str:
    return severity.value  # SARIF's levels are named as our severities


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    descriptor: dict[str, Any] = {"id": rule.id}
    if rule.arm_ttk:
        descriptor["name"] = rule.arm_ttk
    descriptor["shortDescription"] = {"text": rule.summary}
    descriptor["fullDescription"] = {
        "text": f"{rule.summary} ({partner_center(rule)}.)"
    }
    uri = help_uri(rule)
    if uri:
        descriptor["helpUri"] = uri
    descriptor["help"] = {"text": f"{rule.summary} ({partner_center(rule)}.)"}
    descriptor["defaultConfiguration"] = {"level": _level(rule.severity("error"))}
    tags: list[str] = [rule.family]
    if rule.arm_ttk:
        tags.append("arm-ttk")
    properties: dict[str, Any] = {"tags": tags, "blocking": rule.blocking}
    if rule.arm_ttk:
        properties["armTtk"] = rule.arm_ttk
    descriptor["properties"] = properties
    return descriptor


def _artifact_location(path: Path, root: Path) -> dict[str, str]:
    absolute = Path(os.path.abspath(path))
    if absolute.is_relative_to(root):
        relative = absolute.relative_to(root).as_posix()
        return {"uri": quote(relative), "uriBaseId": ROOT}
    return {"uri": absolute.as_uri()}


def _folder_uri(folder: Path) -> str:
    uri = folder.as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _fingerprint(finding: Finding, uri: str, occurrence: int) -> str:
    inner = finding.file.partition("#")[2]
    key = "\0".join([finding.rule_id, uri, inner, finding.path, str(occurrence)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def result(
    finding: Finding,
    validation: Validation,
    rule_index: dict[str, int],
    root: Path,
    occurrences: Counter[tuple[str, str, str]],
) -> dict[str, Any]:
    artifact, member = validation.where(finding)
    location = _artifact_location(artifact, root)
    key = (finding.rule_id, finding.file, finding.path)
    occurrences[key] += 1
    message = finding.message
    inner = finding.file.partition("#")[2]
    if inner:
        message = f"In the nested template at {inner}: {message}"
    if member:
        message = f"{member} (inside the zip): {message}"
    region_line = finding.line if finding.line and not member else 1
    properties: dict[str, Any] = {"jsonPath": finding.path, "file": finding.file}
    if finding.arm_ttk:
        properties["armTtk"] = finding.arm_ttk
        properties["armTtkLevel"] = finding.level
    if finding.error_id:
        properties["errorId"] = finding.error_id
    entry: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": _level(finding.severity),
        "message": {"text": message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": {"startLine": region_line},
                },
                "logicalLocations": [{"fullyQualifiedName": finding.path}],
            }
        ],
        "partialFingerprints": {
            FINGERPRINT: _fingerprint(finding, location["uri"], occurrences[key])
        },
        "properties": properties,
    }
    if finding.rule_id in rule_index:
        entry["ruleIndex"] = rule_index[finding.rule_id]
    return entry


def document(validation: Validation, root: Path | None = None) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dict."""
    root = root or source_root()
    rule_index = {rule.id: i for i, rule in enumerate(validation.rules)}
    occurrences: Counter[tuple[str, str, str]] = Counter()
    results = [
        result(f, validation, rule_index, root, occurrences)
        for f in validation.findings
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ccm-azure",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": information_uri(),
                        "rules": [rule_descriptor(r) for r in validation.rules],
                    }
                },
                "originalUriBaseIds": {ROOT: {"uri": _folder_uri(root)}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render(validation: Validation) -> str:
    return json.dumps(document(validation), indent=2, ensure_ascii=False) + "\n"
