"""The four report formats, suppressions, and the corpus report script.

SARIF is checked against the official SARIF 2.1.0 JSON schema: a copy of
lib/schemas/sarif-2.1.0-rtm.5.json from the npm package @microsoft/jest-sarif
1.0.0-beta.0 (MIT), kept in tests/validate/data. Where Microsoft's SARIF Multitool
is installed (its path in SARIF_MULTITOOL, e.g. from the npm package
@microsoft/sarif-multitool), the log also goes through its GitHub ingestion rules.
JUnit XML is read back with junitparser.
"""

from __future__ import annotations

import copy
import datetime
import importlib.util
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ccm_azure.validate import report, suppressions
from ccm_azure.validate.findings import Finding, Severity
from ccm_azure.validate.report import json as json_report
from ccm_azure.validate.report import sarif
from ccm_azure.validate.run import Request, Validation, find_rule, validate

REPO = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"

# Three findings of two rules in two files, one with a character XML must escape.
BROKEN_TEMPLATE = {
    "contentVersion": "1.0.0.0",
    "parameters": {"unused <&> name": {"type": "string", "defaultValue": "x"}},
    "resources": [],
}
OLD_SCHEMA_TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2015-01-01/"
    "deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {},
    "resources": [],
}
RULES = ("template-schema", "Parameters-Must-Be-Referenced")


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def findings_run(here: Path) -> Validation:
    write(here / "templates" / "mainTemplate.json", BROKEN_TEMPLATE)
    write(here / "templates" / "nested" / "old.json", OLD_SCHEMA_TEMPLATE)
    return validate(
        Request(paths=[Path("templates")], only=RULES, fail_on=Severity.WARNING)
    )


def test_the_fixture_has_findings_of_each_kind(findings_run: Validation) -> None:
    got = {(f.rule_id, f.severity) for f in findings_run.findings}
    assert ("template-schema", Severity.WARNING) in got
    assert ("template-schema", Severity.NOTE) in got
    assert ("template-parameters-referenced", Severity.WARNING) in got


# --- text ------------------------------------------------------------------------


def test_text_is_one_line_per_finding_then_a_summary(findings_run: Validation) -> None:
    lines = report.render(findings_run, "text").splitlines()
    assert len(lines) == len(findings_run.findings) + 1
    for line, finding in zip(lines, findings_run.findings, strict=False):
        where = f"{finding.file}:{finding.line}" if finding.line else finding.file
        assert line.startswith(
            f"{where}: {finding.severity.value} {finding.rule_id} "
            f"[{finding.arm_ttk}] at {finding.path}: "
        )
    assert lines[-1].startswith("2 files checked with 2 rules: 0 errors, ")
    assert lines[-1].endswith("; failed (--fail-on warning).")


# --- json ------------------------------------------------------------------------


def test_json_has_the_documented_fields(findings_run: Validation) -> None:
    document = json.loads(report.render(findings_run, "json"))
    assert list(document) == [
        "format_version",
        "tool",
        "as_of",
        "api_versions",
        "fail_on",
        "exit_code",
        "files",
        "rules",
        "summary",
        "findings",
        "suppressed",
    ]
    assert document["format_version"] == json_report.FORMAT_VERSION == 1
    assert document["exit_code"] == 1
    assert document["files"] == [
        "templates/mainTemplate.json",
        "templates/nested/old.json",
    ]
    assert document["rules"] == ["template-parameters-referenced", "template-schema"]
    for entry in document["findings"]:
        assert list(entry) == [
            "rule",
            "arm_ttk",
            "severity",
            "arm_ttk_level",
            "error_id",
            "file",
            "line",
            "path",
            "message",
        ]
        assert entry["severity"] in ("error", "warning", "note")
        assert entry["arm_ttk_level"] in ("error", "warning")
    summary = document["summary"]
    assert summary["warning"] + summary["note"] == len(document["findings"])


def test_json_is_the_same_from_run_to_run(here: Path) -> None:
    write(here / "mainTemplate.json", BROKEN_TEMPLATE)
    request = Request(paths=[Path("mainTemplate.json")])
    first = report.render(validate(request), "json")
    assert report.render(validate(request), "json") == first


# --- sarif -----------------------------------------------------------------------


def sarif_validator() -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"{SARIF_SCHEMA} is missing")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def test_sarif_is_valid_against_the_official_schema(findings_run: Validation) -> None:
    validator = sarif_validator()
    log = json.loads(report.render(findings_run, "sarif"))
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)
    ]
    assert errors == []
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken)), "the schema check checks nothing"


def test_sarif_has_what_github_code_scanning_reads(findings_run: Validation) -> None:
    log = json.loads(report.render(findings_run, "sarif"))
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ccm-azure"
    assert driver["version"]
    assert driver["informationUri"].startswith("https://")
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert rule_ids == ["template-parameters-referenced", "template-schema"]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"]
        assert rule["helpUri"].startswith("https://learn.microsoft.com/")
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    assert len(run["results"]) == len(findings_run.findings)
    for result, finding in zip(run["results"], findings_run.findings, strict=True):
        assert rule_ids[result["ruleIndex"]] == result["ruleId"] == finding.rule_id
        assert result["level"] == finding.severity.value
        assert finding.message in result["message"]["text"]
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == finding.file
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert physical["region"]["startLine"] == finding.line
        assert len(result["partialFingerprints"][sarif.FINGERPRINT]) == 32
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base == Path.cwd().as_uri() + "/"


def test_sarif_uris_are_relative_to_the_repository_root(
    here: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (here / ".git").mkdir()
    write(here / "deploy" / "mainTemplate.json", BROKEN_TEMPLATE)
    monkeypatch.chdir(here / "deploy")
    validation = validate(Request(paths=[Path("mainTemplate.json")], only=RULES))
    log = json.loads(report.render(validation, "sarif"))
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"deploy/mainTemplate.json"}
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (
        here.as_uri() + "/"
    )


def test_sarif_fingerprints_survive_moved_lines(here: Path) -> None:
    template = here / "mainTemplate.json"
    write(template, BROKEN_TEMPLATE)
    request = Request(paths=[template], only=RULES)

    def results() -> list[dict[str, Any]]:
        log = json.loads(report.render(validate(request), "sarif"))
        found: list[dict[str, Any]] = log["runs"][0]["results"]
        return found

    before = results()
    template.write_text("\n\n\n" + template.read_text(encoding="utf-8"))
    after = results()
    assert [r["partialFingerprints"] for r in after] == [
        r["partialFingerprints"] for r in before
    ]
    lines = [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after
    ]
    assert lines == [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] + 3 for r in before
    ]
    assert len({json.dumps(r["partialFingerprints"]) for r in after}) == len(after)


def test_sarif_of_a_zip_member_points_at_the_zip(here: Path) -> None:
    import zipfile

    with zipfile.ZipFile(here / "offer.zip", "w") as archive:
        archive.writestr("mainTemplate.json", json.dumps(OLD_SCHEMA_TEMPLATE))
    validation = validate(Request(paths=[Path("offer.zip")], only=["template-schema"]))
    (result,) = json.loads(report.render(validation, "sarif"))["runs"][0]["results"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "offer.zip"
    assert physical["region"]["startLine"] == 1
    assert result["message"]["text"].startswith("mainTemplate.json (inside the zip): ")


def test_sarif_leaves_suppressed_findings_out(here: Path) -> None:
    write(here / "mainTemplate.json", OLD_SCHEMA_TEMPLATE)
    write(
        here / "s.toml",
        '[[suppress]]\nrule = "template-schema"\nreason = "old on purpose"\n',
    )
    validation = validate(
        Request(
            paths=[Path("mainTemplate.json")],
            only=["template-schema"],
            suppressions_file=Path("s.toml"),
        )
    )
    assert len(validation.suppressed) == 1
    log = json.loads(report.render(validation, "sarif"))
    assert log["runs"][0]["results"] == []
    assert [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]] == [
        "template-schema",
        "suppression-unused",
    ]


def test_sarif_passes_the_sarif_multitool_github_rules(
    findings_run: Validation, here: Path
) -> None:
    tool = os.environ.get("SARIF_MULTITOOL")
    if not tool or not Path(tool).is_file():
        pytest.skip("set SARIF_MULTITOOL to the Sarif.Multitool binary to run this")
    log = here / "report.sarif"
    log.write_text(report.render(findings_run, "sarif"), encoding="utf-8")
    out = here / "validation.sarif"
    subprocess.run(
        [tool, "validate", "--rule-kind", "Gh;Sarif", "-o", str(out), str(log)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    problems = json.loads(out.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert [(p["ruleId"], p["message"]) for p in problems] == []


# --- junit -----------------------------------------------------------------------


def test_junit_reads_back_with_junitparser(findings_run: Validation) -> None:
    junitparser = pytest.importorskip("junitparser")
    xml = junitparser.JUnitXml.fromstring(report.render(findings_run, "junit"))
    suites = {suite.name: suite for suite in xml}
    assert list(suites) == [
        "templates/mainTemplate.json",
        "templates/nested/old.json",
    ]
    main = suites["templates/mainTemplate.json"]
    cases = {case.name: case for case in main}
    assert set(cases) == {
        "template-parameters-referenced [Parameters-Must-Be-Referenced]",
        "template-schema [DeploymentTemplate-Schema-Is-Correct]",
    }
    assert main.tests == 2
    assert main.failures == 2  # both warnings fail at --fail-on warning
    failing = cases["template-parameters-referenced [Parameters-Must-Be-Referenced]"]
    (failure,) = failing.result
    assert isinstance(failure, junitparser.Failure)
    assert "unused <&> name" in (failure.message or "")
    assert failure.type == "warning"
    old = suites["templates/nested/old.json"]
    assert old.failures == 0  # a note does not fail at --fail-on warning
    (schema_case,) = [c for c in old if c.name.startswith("template-schema")]
    assert schema_case.is_passed
    assert "note template-schema" in (schema_case.system_out or "")
    assert xml.tests == 4
    assert xml.failures == 2


def test_junit_is_made_by_an_xml_library(findings_run: Validation) -> None:
    text = report.render(findings_run, "junit")
    assert text.startswith("<?xml version='1.0' encoding='UTF-8'?>\n<testsuites")
    root = ET.fromstring(text.encode("utf-8"))  # noqa: S314 - our own output
    names = [case.get("name") for case in root.iter("testcase")]
    assert len(names) == len(
        set(
            zip(names, [c.get("classname") for c in root.iter("testcase")], strict=True)
        )
    )
    assert root.get("failures") == str(len(list(root.iter("failure"))))


def test_junit_is_well_formed_without_findings(here: Path) -> None:
    write(here / "mainTemplate.json", OLD_SCHEMA_TEMPLATE)
    validation = validate(
        Request(
            paths=[Path("mainTemplate.json")], only=["template-parameters-referenced"]
        )
    )
    text = report.render(validation, "junit")
    root = ET.fromstring(text.encode("utf-8"))  # noqa: S314 - our own output
    assert root.get("tests") == "1"
    assert root.get("failures") == "0"


# --- suppressions ----------------------------------------------------------------


def finding(
    file: str, path: str = "$.resources[1]", rule: str = "template-schema"
) -> Finding:
    return Finding(
        file=file, path=path, rule_id=rule, severity=Severity.WARNING, message="m."
    )


def suppression(**fields: Any) -> suppressions.Suppression:
    rule = find_rule(fields.pop("rule", "template-schema"))
    assert rule is not None
    return suppressions.Suppression(rule=rule, reason="r", **fields)


@pytest.mark.parametrize(
    ("entry", "file", "path", "matches"),
    [
        ({}, "a/b/mainTemplate.json", "$.x", True),
        ({"path": "mainTemplate.json"}, "a/b/mainTemplate.json", "$.x", True),
        ({"path": "b/mainTemplate.json"}, "a/b/mainTemplate.json", "$.x", False),
        ({"path": "a/*/mainTemplate.json"}, "a/b/mainTemplate.json", "$.x", True),
        ({"path": "a/*.json"}, "a/b/c/mainTemplate.json", "$.x", True),
        ({"path": "*.zip/*"}, "dist/offer.zip/mainTemplate.json", "$.x", True),
        (
            {"path": "main*.json"},
            "t.json#$.resources[0].properties.template",
            "$",
            False,
        ),
        ({"path": "t.json"}, "t.json#$.resources[0].properties.template", "$", True),
        ({"json_path": "$.resources[1]"}, "t.json", "$.resources[1]", True),
        ({"json_path": "$.resources[1]"}, "t.json", "$.resources[1].name", True),
        ({"json_path": "$.resources[1]"}, "t.json", "$.resources[1][0]", True),
        ({"json_path": "$.resources[1]"}, "t.json", "$.resources[10]", False),
        ({"json_path": "$.Resources[1]"}, "t.json", "$.resources[1]", True),
        ({"json_path": "$.resources[1].name"}, "t.json", "$.resources[1]", False),
    ],
)
def test_suppression_matching(
    entry: dict[str, Any], file: str, path: str, matches: bool
) -> None:
    assert suppression(**entry).matches(finding(file, path)) is matches


def test_a_suppression_names_a_rule_by_id_or_arm_ttk_name(tmp_path: Path) -> None:
    file = write(
        tmp_path / "s.toml",
        '[[suppress]]\nrule = "deploymenttemplate-schema-is-correct"\nreason = "a"\n'
        '[[suppress]]\nrule = "Template-Schema"\nreason = "b"\n'
        'json_path = "$.x"\npath = "*.json"\n',
    )
    loaded = suppressions.load(file, find_rule)
    assert [s.rule.id for s in loaded] == ["template-schema", "template-schema"]
    assert [s.line for s in loaded] == [1, 4]
    assert loaded[1].json_path == "$.x"
    assert not loaded[0].matches(
        finding("t.json", rule="template-parameters-referenced")
    )


def test_every_matching_suppression_counts_as_used() -> None:
    first = suppression(index=0)
    second = suppression(index=1, path="t.json")
    applied = suppressions.apply(
        [finding("t.json")], [first, second], ["template-schema"]
    )
    assert applied.kept == []
    assert applied.suppressed[0].suppression is first
    assert applied.unused == []


# --- the corpus report -----------------------------------------------------------


def load_script(name: str) -> ModuleType:
    path = REPO / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_corpus_report_reads_every_pair_without_a_crash(shared_dir: Path) -> None:
    corpus = shared_dir / "corpus" / "pairs"
    if not corpus.is_dir():
        pytest.skip(f"{corpus} is not present")
    script = load_script("corpus_report")
    pairs = script.survey(corpus, datetime.date(2026, 2, 13))
    folders = sorted(p.name for p in corpus.iterdir() if p.is_dir())
    assert [p.name for p in pairs] == folders
    assert [p.name for p in pairs if p.crash or p.could_not_run] == []
    for pair in pairs:
        assert pair.files, pair.name
        assert sorted(pair.read) == sorted(pair.files), pair.name
    text = script.markdown(pairs, corpus)
    assert text.startswith("# ccm-azure validate over the template corpus\n")
    assert f"- {len(folders)} pairs; " in text
    assert "## Findings by rule" in text
    assert "None: every pair was read and checked." in text


def test_the_corpus_report_survives_a_broken_pair(tmp_path: Path) -> None:
    script = load_script("corpus_report")
    write(tmp_path / "good" / "mainTemplate.json", OLD_SCHEMA_TEMPLATE)
    write(tmp_path / "broken" / "mainTemplate.json", '{"resources": [')
    write(
        tmp_path / "listed" / "source.json",
        {"files": {"azuredeploy.json": "x", "gone.json": "y"}, "main_template": "x"},
    )
    write(tmp_path / "listed" / "azuredeploy.json", OLD_SCHEMA_TEMPLATE)
    pairs = {p.name: p for p in script.survey(tmp_path)}
    assert pairs["good"].read == ["mainTemplate.json"]
    assert pairs["broken"].load_errors
    assert pairs["listed"].could_not_run is not None  # gone.json does not exist
    text = script.markdown(list(pairs.values()), tmp_path)
    assert "broken/mainTemplate.json" in text
    assert "`listed`: could not run:" in text
