"""Parameter file rules and the all-files rule, one snippet each.

arm-ttk's own cases (test_conformance.py) pin the upstream expectations; these pin what
they leave open: plain key/value files, case, Key Vault IDs, and files that do not load.
"""

from __future__ import annotations

from typing import Any

import pytest

from ccm_azure.validate import RULES, Finding, Package, Settings, check, files

Json = dict[str, Any]
SCHEMA = (
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
)
VAULT = (
    "/subscriptions/00000000-abcd-ef12-ABCD-EF3456789000/resourceGroups/rg.(1)_x"
    "/providers/Microsoft.KeyVault/vaults/my-vault"
)


def run(
    rule_id: str, data: Json, *, name: str = "main.parameters.json"
) -> list[Finding]:
    doc = files.Document(name, data, files.route(name, data))
    return check(Package([doc]), Settings(), only=[RULES[rule_id]])


def errors(rule_id: str, data: Json) -> list[str]:
    return [f.error_id or f.path for f in run(rule_id, data) if f.level == "error"]


def warnings(rule_id: str, data: Json) -> list[str]:
    return [f.path for f in run(rule_id, data) if f.level == "warning"]


def parameter_file(**fields: Any) -> Json:
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "parameters": {}, **fields}


def test_parameter_rules_run_on_parameter_files_only() -> None:
    assert files.route("x.json", parameter_file()) == "parameters"
    assert files.route("azuredeploy.parameters.json", {"key": "value"}) == "parameters"
    template = {"$schema": SCHEMA.replace("Parameters", "Template"), "resources": []}
    for rule_id in ("parameters-schema", "parameters-values"):
        assert run(rule_id, template, name="mainTemplate.json") == []


@pytest.mark.parametrize(
    ("fields", "expected_errors", "expected_warnings"),
    [
        ({}, [], []),
        ({"contentVersion": "1.0.0.0-beta"}, [], ["$.contentVersion"]),
        ({"contentVersion": 1}, ["ContentVersion.Not.String"], []),
        ({"contentVersion": ""}, ["Parameters.Missing.ContentVersion"], []),
    ],
)
def test_content_version(
    fields: Json, expected_errors: list[str], expected_warnings: list[str]
) -> None:
    data = parameter_file(**fields)
    assert errors("parameters-content-version", data) == expected_errors
    assert warnings("parameters-content-version", data) == expected_warnings


def test_key_value_files_are_left_alone() -> None:
    plain = {"adminUsername": "azureuser", "parameters": 3}
    for rule_id in RULES:
        if rule_id.startswith("parameters-"):
            assert run(rule_id, plain) == [], rule_id


def test_missing_content_version_only_with_a_schema() -> None:
    data = parameter_file()
    del data["contentVersion"]
    assert errors("parameters-content-version", data) == [
        "Parameters.Missing.ContentVersion"
    ]
    assert errors("parameters-schema", data) == []


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({}, []),
        (None, ["Parameters.Missing.Parameters"]),
        ([], ["Parameters.Missing.Parameters"]),
    ],
)
def test_has_parameters(parameters: Any, expected: list[str]) -> None:
    data = parameter_file(parameters=parameters)
    if parameters is None:
        del data["parameters"]
    assert errors("parameters-has-parameters", data) == expected


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (SCHEMA, []),
        (SCHEMA.upper(), []),
        (SCHEMA.replace("2019-04-01", "2015-01-01"), []),
        (SCHEMA.replace("https", "http"), ["Parameters.Bad.Schema"]),
        (None, ["Parameters.Missing.Schema"]),
    ],
)
def test_schema(schema: str | None, expected: list[str]) -> None:
    data = parameter_file()
    if schema is None:
        del data["$schema"]
    else:
        data["$schema"] = schema
    assert errors("parameters-schema", data) == expected


def reference(**fields: Any) -> Json:
    return {"reference": fields}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"value": None}, []),
        ({"Value": 0}, []),
        (reference(keyVault={"id": VAULT}, secretName="db-password"), []),
        ({}, ["Parameters.Parameter.Missing.Value"]),
        ("plain", ["Parameters.Parameter.Missing.Value"]),
        (reference(secretName="x"), ["Parameters.Parameter.Missing.Value"]),
        (
            reference(keyVault={"name": "v"}, secretName="x"),
            ["Parameters.Parameter.Missing.KeyVault.Id"],
        ),
        (
            reference(keyVault={"id": VAULT + "/secrets/x"}, secretName="x"),
            ["Parameters.Parameter.Bad.KeyVault.Id"],
        ),
        (
            reference(keyVault={"id": VAULT.replace("my-vault", "v")}, secretName="x"),
            ["Parameters.Parameter.Bad.KeyVault.Id"],
        ),
        (
            reference(keyVault={"id": VAULT}),
            ["Parameters.Parameter.Missing.SecretName"],
        ),
        (
            reference(keyVault={"id": VAULT}, secretName="a" * 128),
            ["Parameters.Parameter.Bad.SecretName"],
        ),
    ],
)
def test_values(entry: Any, expected: list[str]) -> None:
    data = parameter_file(parameters={"p": entry, "__tooling": {}})
    assert errors("parameters-values", data) == expected


def test_expression_values_only_warn() -> None:
    data = parameter_file(parameters={"p": {"value": " [parameters('x')] "}})
    assert errors("parameters-values", data) == []
    assert warnings("parameters-values", data) == ["$.parameters.p.value"]
    escaped = parameter_file(parameters={"p": {"value": "[[literal]"}})
    assert run("parameters-values", escaped) == []


def test_every_file_must_load() -> None:
    broken = files.document("notes.json", b'{"a": 1 "b": 2}', main_names=())
    lenient = files.document(
        "azuredeploy.json",
        b'\xef\xbb\xbf{// comment\n"resources": [],}',
        main_names=files.MAIN_TEMPLATE_NAMES,
    )
    found = check(
        Package([broken, lenient]), Settings(), only=[RULES["file-valid-json"]]
    )
    assert [(f.file, f.error_id) for f in found] == [("notes.json", "Invalid.JSON")]
    assert found[0].message.startswith("the file is not valid JSON (line 1")
