"""`ccm-azure validate` through the real entry point: paths, options and exit codes.

Most tests run `ccm_azure.cli.main` in process under click's output isolation, so what
they see on stdout, stderr and in the exit code is what a user sees. A few run a new
process, where what matters is the process itself (imports, the console entry).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import logging
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ccm_azure import cli
from ccm_azure.package import build_zip
from ccm_azure.render import RenderedOffer
from ccm_azure.validate.registry import BY_ARM_TTK

NO_SCHEMA = {"contentVersion": "1.0.0.0", "parameters": {}, "resources": []}
OLD_SCHEMA = {
    "$schema": "https://schema.management.azure.com/schemas/2015-01-01/"
    "deploymentTemplate.json#",
    **NO_SCHEMA,
}
UI_SCHEMA = (
    "https://schema.management.azure.com/schemas/0.1.2-preview/"
    "CreateUIDefinition.MultiVm.json#"
)


@dataclasses.dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    def one_line_error(self) -> str:
        assert self.code == 2, self.stdout + self.stderr
        assert self.stdout == ""
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("ccm-azure: error: ")
        return lines[0]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory, so no suppressions file is picked up by chance."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    # The CLI configures logging for the process; give pytest its own back.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def validate(*args: str | Path) -> Outcome:
    with CliRunner().isolation() as (stdout, stderr, _):
        try:
            code = cli.main(["validate", *map(str, args)])
        except SystemExit as exit:
            code = exit.code
        return Outcome(
            int(code or 0), stdout.getvalue().decode(), stderr.getvalue().decode()
        )


def write(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def offer_folder(rendered: RenderedOffer, folder: Path) -> Path:
    for name, data in rendered.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def summary(outcome: Outcome) -> str:
    return outcome.stdout.strip().splitlines()[-1]


# --- what it reads ---------------------------------------------------------------


def test_the_rendered_offer_folder_is_clean(
    here: Path, rendered: RenderedOffer
) -> None:
    outcome = validate(offer_folder(rendered, here / "dist"))
    assert outcome.code == 0, outcome.stdout
    assert outcome.stdout.startswith("2 files checked with ")
    assert "0 errors, 0 warnings" in summary(outcome)


def test_the_marketplace_zip_is_clean(here: Path, rendered: RenderedOffer) -> None:
    package = here / "offer.zip"
    package.write_bytes(build_zip(rendered))
    outcome = validate(package, "-o", "json")
    assert outcome.code == 0, outcome.stdout
    report = json.loads(outcome.stdout)
    assert report["files"] == [
        "offer.zip/createUiDefinition.json",
        "offer.zip/mainTemplate.json",
    ]
    assert report["findings"] == []


def test_one_file_with_a_finding_fails_with_the_documented_line(here: Path) -> None:
    write(here / "t" / "azuredeploy.json", NO_SCHEMA)
    outcome = validate(
        "t/azuredeploy.json",
        "--rule",
        "DeploymentTemplate-Schema-Is-Correct",
        "--fail-on",
        "warning",
    )
    assert outcome.code == 1
    first = outcome.stdout.splitlines()[0]
    assert first.startswith(
        "t/azuredeploy.json:1: warning template-schema "
        "[DeploymentTemplate-Schema-Is-Correct] at $"
    )
    assert first.endswith(".")
    assert summary(outcome) == (
        "1 file checked with 1 rule: 0 errors, 1 warning, 0 notes; "
        "failed (--fail-on warning)."
    )


@pytest.mark.parametrize(
    ("template", "fail_on", "code"),
    [
        (NO_SCHEMA, "error", 0),  # a non-blocking test's error is a warning
        (NO_SCHEMA, "warning", 1),
        (OLD_SCHEMA, "warning", 0),  # ... and its warning a note
        (OLD_SCHEMA, "note", 1),
    ],
)
def test_fail_on_sets_the_threshold(
    here: Path, template: dict[str, Any], fail_on: str, code: int
) -> None:
    write(here / "mainTemplate.json", template)
    outcome = validate(
        "mainTemplate.json", "--rule", "template-schema", "--fail-on", fail_on
    )
    assert outcome.code == code, outcome.stdout


def test_a_file_that_is_not_json_is_a_finding_not_a_failure_to_run(
    here: Path,
) -> None:
    if "jsonfiles-should-be-valid" not in BY_ARM_TTK:
        pytest.skip("the JSONFiles-Should-Be-Valid rule is not registered yet")
    write(here / "pkg" / "mainTemplate.json", NO_SCHEMA)
    write(here / "pkg" / "broken.json", '{"resources": [')
    outcome = validate("pkg", "--rule", "JSONFiles-Should-Be-Valid")
    assert outcome.code == 1, outcome.stdout + outcome.stderr
    assert "pkg/broken.json" in outcome.stdout
    assert "[JSONFiles-Should-Be-Valid]" in outcome.stdout


def test_several_paths_in_one_run(here: Path, rendered: RenderedOffer) -> None:
    offer_folder(rendered, here / "dist")
    write(here / "other" / "azuredeploy.json", OLD_SCHEMA)
    outcome = validate("dist", "other/azuredeploy.json", "-o", "json")
    report = json.loads(outcome.stdout)
    assert report["files"] == [
        "dist/createUiDefinition.json",
        "dist/mainTemplate.json",
        "other/azuredeploy.json",
    ]


def test_loose_files_of_one_folder_are_checked_together(here: Path) -> None:
    write(here / "mainTemplate.json", {**OLD_SCHEMA, "parameters": {}})
    write(
        here / "createUiDefinition.json",
        {
            "$schema": UI_SCHEMA,
            "handler": "Microsoft.Azure.CreateUIDef",
            "version": "0.1.2-preview",
            "parameters": {"basics": [], "steps": [], "outputs": {"nope": "[1]"}},
        },
    )
    rule = "Outputs-Must-Be-Present-In-Template-Parameters"
    together = validate("mainTemplate.json", "createUiDefinition.json", "--rule", rule)
    assert together.code == 1, together.stdout
    assert "outputs.nope" in together.stdout
    alone = validate("createUiDefinition.json", "--rule", rule)
    assert alone.code == 0, alone.stdout  # no main template: the rule does not run


def test_main_template_names_a_custom_main_template(here: Path) -> None:
    write(here / "pkg" / "custom.json", {**OLD_SCHEMA, "parameters": {}})
    write(
        here / "pkg" / "createUiDefinition.json",
        {
            "$schema": UI_SCHEMA,
            "handler": "Microsoft.Azure.CreateUIDef",
            "version": "0.1.2-preview",
            "parameters": {"basics": [], "steps": [], "outputs": {"nope": "[1]"}},
        },
    )
    rule = "ui-outputs-are-parameters"
    assert validate("pkg", "--rule", rule).code == 0
    named = validate("pkg", "--rule", rule, "--main-template", "CUSTOM.json")
    assert named.code == 1, named.stdout
    assert "pkg/createUiDefinition.json" in named.stdout


# --- rule selection --------------------------------------------------------------


def test_rules_are_chosen_by_id_or_arm_ttk_name_in_any_case(here: Path) -> None:
    write(here / "mainTemplate.json", NO_SCHEMA)
    by_id = validate("mainTemplate.json", "--rule", "TEMPLATE-SCHEMA", "-o", "json")
    by_name = validate(
        "mainTemplate.json",
        "--rule",
        "deploymenttemplate-schema-is-correct",
        "-o",
        "json",
    )
    assert json.loads(by_id.stdout)["rules"] == ["template-schema"]
    assert json.loads(by_name.stdout)["rules"] == ["template-schema"]
    skipped = validate(
        "mainTemplate.json",
        "--skip-rule",
        "DeploymentTemplate-Schema-Is-Correct",
        "-o",
        "json",
    )
    report = json.loads(skipped.stdout)
    assert "template-schema" not in report["rules"]
    assert report["rules"]
    assert all(f["rule"] != "template-schema" for f in report["findings"])


def test_offer_rules_do_not_run_on_other_templates(here: Path) -> None:
    write(here / "mainTemplate.json", NO_SCHEMA)
    report = json.loads(validate("mainTemplate.json", "-o", "json").stdout)
    assert not [r for r in report["rules"] if r.startswith("offer-")]


def test_list_rules(here: Path) -> None:
    outcome = validate("--list-rules")
    assert outcome.code == 0
    lines = outcome.stdout.splitlines()
    assert lines[0].split()[:2] == ["rule", "arm-ttk"]
    assert any(
        line.split()[:3]
        == ["template-schema", "DeploymentTemplate-Schema-Is-Correct", "warning"]
        for line in lines
    )


# --- output ----------------------------------------------------------------------


def test_output_file_gets_the_report_and_stdout_the_summary(here: Path) -> None:
    write(here / "mainTemplate.json", NO_SCHEMA)
    outcome = validate(
        "mainTemplate.json",
        "-o",
        "sarif",
        "--output-file",
        "out.sarif",
        "--rule",
        "template-schema",
    )
    assert outcome.code == 0
    assert outcome.stdout.splitlines() == [
        "1 file checked with 1 rule: 0 errors, 1 warning, 0 notes; "
        "passed (--fail-on error)."
    ]
    log = json.loads((here / "out.sarif").read_text())
    assert log["runs"][0]["results"][0]["ruleId"] == "template-schema"


def test_as_of_and_api_versions_reach_the_report(here: Path) -> None:
    write(here / "mainTemplate.json", NO_SCHEMA)
    write(here / "table.json", {"Microsoft.Compute/virtualMachines": ["2024-07-01"]})
    outcome = validate(
        "mainTemplate.json",
        "--as-of",
        "2026-02-13",
        "--api-versions",
        "table.json",
        "-o",
        "json",
    )
    report = json.loads(outcome.stdout)
    assert report["as_of"] == "2026-02-13"
    assert report["api_versions"] == "table.json"


def test_the_shipped_api_version_table_is_the_default(here: Path) -> None:
    write(here / "mainTemplate.json", NO_SCHEMA)
    report = json.loads(validate("mainTemplate.json", "-o", "json").stdout)
    assert report["api_versions"] in ("the table shipped with ccm-azure", None)


# --- could not run: exit code 2, one line on stderr -------------------------------


def test_a_missing_path(here: Path) -> None:
    line = validate("nowhere").one_line_error()
    assert "nowhere does not exist" in line


def test_no_path(here: Path) -> None:
    assert "at least one" in validate().one_line_error()


def test_a_broken_zip(here: Path) -> None:
    (here / "offer.zip").write_bytes(b"PK\x03\x04 not really a zip")
    assert "not a readable zip" in validate("offer.zip").one_line_error()


def test_a_folder_without_json(here: Path) -> None:
    (here / "empty").mkdir()
    assert "holds no .json" in validate("empty").one_line_error()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-o", "xml"], "'xml' is not one of"),
        (["--fail-on", "fatal"], "'fatal' is not one of"),
        (["--as-of", "13/02/2026"], "YYYY-MM-DD"),
        (["--api-versions", "missing.json"], "Cannot read the apiVersion table"),
        (["--api-versions", "bad.json"], "is not JSON"),
        (["--rule", "no-such-rule"], "names no rule"),
        (["--skip-rule", "No-Such-Test"], "names no rule"),
        (["--suppressions", "missing.toml"], "Cannot read the suppressions file"),
        (["--output-file", "no/such/folder/report.txt"], "Cannot write the report"),
    ],
)
def test_bad_options(here: Path, args: list[str], expected: str) -> None:
    write(here / "mainTemplate.json", NO_SCHEMA)
    write(here / "bad.json", "{not json")
    line = validate("mainTemplate.json", *args).one_line_error()
    assert expected in line


# --- suppressions ----------------------------------------------------------------


def test_the_default_suppressions_file_suppresses_and_reports_stale_entries(
    here: Path,
) -> None:
    write(here / "templates" / "mainTemplate.json", NO_SCHEMA)
    write(
        here / ".ccm-azure-suppressions.toml",
        "[[suppress]]\n"
        'rule = "DeploymentTemplate-Schema-Is-Correct"\n'
        'path = "templates/*.json"\n'
        'reason = "generated by a tool that adds the schema later"\n'
        "\n"
        "[[suppress]]\n"
        'rule = "template-schema"\n'
        'path = "elsewhere.json"\n'
        'reason = "was needed once"\n',
    )
    outcome = validate("templates", "--rule", "template-schema", "--fail-on", "warning")
    assert outcome.code == 0, outcome.stdout
    assert outcome.stdout.splitlines() == [
        ".ccm-azure-suppressions.toml:6: note suppression-unused at $.suppress[1]: "
        "The suppression of template-schema in elsewhere.json matched no finding; "
        "remove it if the problem is fixed, or correct its rule, path or json_path.",
        "1 file checked with 2 rules: 0 errors, 0 warnings, 1 note (1 suppressed); "
        "passed (--fail-on warning).",
    ]
    strict = validate("templates", "--rule", "template-schema", "--fail-on", "note")
    assert strict.code == 1
    report = json.loads(
        validate("templates", "--rule", "template-schema", "-o", "json").stdout
    )
    assert report["suppressed"][0]["reason"] == (
        "generated by a tool that adds the schema later"
    )
    assert report["suppressed"][0]["file"] == "templates/mainTemplate.json"


def test_stale_entries_of_rules_that_did_not_run_are_not_reported(here: Path) -> None:
    write(here / "mainTemplate.json", NO_SCHEMA)
    write(
        here / "s.toml",
        '[[suppress]]\nrule = "ui-handler"\nreason = "not ours"\n',
    )
    outcome = validate(
        "mainTemplate.json",
        "--suppressions",
        "s.toml",
        "--rule",
        "template-schema",
        "--fail-on",
        "note",
    )
    assert "suppression-unused" not in outcome.stdout
    assert outcome.code == 1  # the template-schema warning is still there


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[suppress]]\nrule = "template-schema"\n', "has no reason"),
        ('[[suppress]]\nrule = "template-schema"\nreason = "  "\n', "non-empty"),
        ('[[suppress]]\nrule = "nope"\nreason = "x"\n', "unknown rule 'nope'"),
        (
            '[[suppress]]\nrule = "template-schema"\nreason = "x"\nfile = "a"\n',
            "unknown key(s) file",
        ),
        ('[[suppres]]\nrule = "template-schema"\n', "unknown key(s) suppres"),
        ("[[suppress]\n", "not valid TOML"),
        (
            '[[suppress]]\nrule = "template-schema"\nreason = "x"\njson_path = "a.b"\n',
            "must start with '$'",
        ),
    ],
)
def test_a_bad_suppressions_file(here: Path, text: str, expected: str) -> None:
    write(here / "mainTemplate.json", NO_SCHEMA)
    write(here / ".ccm-azure-suppressions.toml", text)
    assert expected in validate("mainTemplate.json").one_line_error()


# --- the process -----------------------------------------------------------------


def test_validate_never_imports_jinja_rich_or_the_azure_sdk(
    tmp_path: Path, rendered: RenderedOffer
) -> None:
    folder = offer_folder(rendered, tmp_path)
    probe = (
        "import sys\n"
        "from ccm_azure.cli import main\n"
        f"code = main(['validate', {str(folder)!r}, '-o', 'sarif'])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'jinja2', 'rich', 'azure'})\n"
        "print('HEAVY', heavy, code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.stdout.splitlines()[-1] == "HEAVY [] 0", result.stderr


def test_the_console_command_exits_with_the_findings_code(tmp_path: Path) -> None:
    write(tmp_path / "mainTemplate.json", NO_SCHEMA)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ccm_azure",
            "validate",
            "mainTemplate.json",
            "--rule",
            "template-schema",
            "--fail-on",
            "warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert "warning template-schema" in result.stdout


def test_help_lists_validate() -> None:
    with CliRunner().isolation() as (stdout, _, _):
        with contextlib.suppress(SystemExit):
            cli.main(["--help"])
        text = stdout.getvalue().decode()
    assert "validate" in text


def test_a_zip_member_is_named_inside_the_zip(here: Path) -> None:
    with zipfile.ZipFile(here / "p.zip", "w") as archive:
        archive.writestr("mainTemplate.json", json.dumps(NO_SCHEMA))
    outcome = validate("p.zip", "--rule", "template-schema")
    assert outcome.stdout.startswith(
        "p.zip/mainTemplate.json:1: warning template-schema"
    )


def test_the_cli_offers_every_report_format() -> None:
    from ccm_azure.validate import report

    assert cli._FORMATS == report.FORMATS


def test_build_and_validate_judge_the_offer_alike(
    here: Path, offer: Any, rendered: RenderedOffer
) -> None:
    """Both use the shipped apiVersion table and today; an old apiVersion shows."""
    from ccm_azure.build import check_rendered
    from ccm_azure.render import MAIN_TEMPLATE, canonical_json

    main = copy.deepcopy(rendered.main_template)
    main["resources"][0]["apiVersion"] = "2015-06-15"
    aged = dataclasses.replace(
        rendered,
        main_template=main,
        files={**rendered.files, MAIN_TEMPLATE: canonical_json(main)},
    )
    built = {
        (f.rule_id, f.path)
        for f in check_rendered(offer, aged)
        if not f.rule_id.startswith("offer-")
    }
    offer_folder(aged, here / "dist")
    report = json.loads(validate("dist", "-o", "json").stdout)
    validated = {
        (f["rule"], f["path"])
        for f in report["findings"]
        if f["file"] == "dist/mainTemplate.json"
    }
    assert ("template-api-versions-recent", "$.resources[0].apiVersion") in built
    assert built == validated
