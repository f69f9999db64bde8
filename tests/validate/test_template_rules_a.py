"""Template rules on parameters, secrets, environment and structure, one snippet each.

arm-ttk's own cases (test_conformance.py) pin the upstream expectations; these pin what
they leave open: case, variables in between, nested templates, and the exemptions.
"""

from __future__ import annotations

from typing import Any

import pytest

from ccm_azure.validate import RULES, Document, Finding, Package, Settings, check
from ccm_azure.validate.files import nested_templates

Json = dict[str, Any]
SCHEMA = (
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
)


def run(rule_id: str, data: Json, *, name: str = "mainTemplate.json") -> list[Finding]:
    """The findings of one rule on one template file (and its nested templates)."""
    doc = Document(name, data, "template", is_main=name == "mainTemplate.json")
    package = Package([doc, *nested_templates(doc)])
    return check(package, Settings(), only=[RULES[rule_id]])


def errors(rule_id: str, data: Json, *, name: str = "mainTemplate.json") -> list[str]:
    """The error ids (arm-ttk's) of the errors one rule reports."""
    found = run(rule_id, data, name=name)
    return [f.error_id or "" for f in found if f.level == "error"]


def template(**sections: Any) -> Json:
    return {"$schema": SCHEMA, "contentVersion": "1.0.0.0", **sections}


def vm(**os_profile: Any) -> Json:
    return {
        "type": "Microsoft.Compute/virtualMachines",
        "name": "vm",
        "location": "[parameters('location')]",
        "properties": {"osProfile": os_profile},
    }


def inner_deployment(inner: Json, parameters: Json | None = None) -> Json:
    return {
        "type": "Microsoft.Resources/deployments",
        "name": "nested",
        "properties": {
            "expressionEvaluationOptions": {"scope": "inner"},
            "mode": "Incremental",
            "parameters": parameters or {},
            "template": inner,
        },
    }


# adminUsername / adminPassword


@pytest.mark.parametrize(
    ("variables", "value", "expected"),
    [
        ({}, "[parameters('adminUsername')]", []),
        ({}, "  [parameters('adminUsername')]  ", []),
        ({}, "azureuser", ["AdminUsername.Is.Literal"]),
        ({}, "[[not an expression]", ["AdminUsername.Is.Literal"]),
        (
            {"name": "fixed"},
            "[variables('NAME')]",
            ["AdminUsername.Is.Variable.Literal"],
        ),
        (
            {"a": "[variables('b')]", "b": "fixed"},
            "[variables('a')]",
            ["AdminUsername.Is.Variable.Literal"],
        ),
        (
            {"creds": {"user": "fixed"}},
            "[variables('creds').user]",
            ["AdminUsername.Is.Variable.Literal"],
        ),
        ({"creds": {"user": "[parameters('u')]"}}, "[variables('creds').user]", []),
        ({"name": "[parameters('u')]"}, "[variables('name')]", []),
        ({}, "[concat('admin', uniqueString(resourceGroup().id))]", []),
    ],
)
def test_admin_username(variables: Json, value: str, expected: list[str]) -> None:
    data = template(variables=variables, resources=[vm(adminUsername=value)])
    assert errors("template-admin-username-not-literal", data) == expected


def test_admin_username_in_nested_deployment_parameters() -> None:
    deployment = {
        "type": "Microsoft.Resources/deployments",
        "name": "sql",
        "properties": {
            "parameters": {
                "administratorLogin": {"value": "sa"},
                "adminUsername": {"reference": {"keyVault": {"id": "x"}}},
            }
        },
    }
    data = template(resources=[deployment])
    found = run("template-admin-username-not-literal", data)
    assert [(f.path, f.error_id) for f in found] == [
        (
            "$.resources[0].properties.parameters.administratorLogin.value",
            "AdminUsername.Is.Literal",
        )
    ]


def test_admin_username_literal_variable_named_so() -> None:
    data = template(variables={"adminUsername": "root"}, resources=[])
    assert errors("template-admin-username-not-literal", data) == [
        "AdminUsername.Var.Is.Literal"
    ]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("adminPassword", "P@ssw0rd!", ["AdminPassword.Is.Literal"]),
        ("ADMINPASSWORD", "P@ssw0rd!", ["AdminPassword.Is.Literal"]),
        ("administratorLoginPassword", "x", ["AdminPassword.Is.Literal"]),
        ("adminPassword", "[parameters('adminPassword')]", []),
        ("adminUsername", "azureuser", []),
    ],
)
def test_admin_password(key: str, value: str, expected: list[str]) -> None:
    data = template(resources=[vm(**{key: value})])
    assert errors("template-admin-password-not-literal", data) == expected


# Password-params-must-be-secure


@pytest.mark.parametrize(
    ("name", "kind", "flagged"),
    [
        ("adminPassword", "string", True),
        ("adminPassword", "SecureString", False),
        ("adminPassword", "secureObject", False),
        ("usePassword", "bool", False),
        ("storageAccountKey", "string", True),
        ("clientSecret", "object", True),
        ("passwordUrl", "string", True),
        ("secretName", "string", False),
        ("keyVaultSecretUri", "string", False),
        ("secretVersion", "string", False),
        ("secretPermissions", "array", False),
        ("userName", "string", False),
        ("adminPassword", None, True),
    ],
)
def test_password_parameters(name: str, kind: str | None, flagged: bool) -> None:
    definition = {"type": kind} if kind else {}
    data = template(parameters={name: definition}, resources=[])
    found = errors("template-password-parameters-secure", data)
    assert found == (["Password.Param.Not.Secure"] if flagged else [])


# CommandToExecute-Must-Use-ProtectedSettings-For-Secrets


def extension(kind: str, settings_key: str, command: str) -> Json:
    return {
        "type": "Microsoft.Compute/virtualMachines/extensions",
        "name": "vm/setup",
        "properties": {
            "publisher": "Microsoft.Azure.Extensions",
            "type": kind,
            settings_key: {"commandToExecute": command},
        },
    }


SECRET_PARAMETERS = {
    "token": {"type": "secureString"},
    "name": {"type": "string"},
}


@pytest.mark.parametrize(
    ("kind", "settings_key", "command", "expected"),
    [
        ("CustomScript", "settings", "[concat('run ', parameters('TOKEN'))]", "P"),
        ("CustomScript", "settings", "[concat('run ', variables('cmd'))]", "P"),
        ("CustomScriptExtension", "settings", "[listKeys('a', '2019-06-01')]", "L"),
        ("customscript", "protectedSettings", "[parameters('token')]", ""),
        ("CustomScript", "settings", "[concat('run ', parameters('name'))]", ""),
        ("CustomScript", "settings", "echo parameters('token')", ""),
        ("DSC", "settings", "[parameters('token')]", ""),
    ],
)
def test_command_to_execute(
    kind: str, settings_key: str, command: str, expected: str
) -> None:
    data = template(
        parameters=SECRET_PARAMETERS,
        variables={"cmd": "[format('x {0}', parameters('token'))]"},
        resources=[extension(kind, settings_key, command)],
    )
    ids = {
        "P": ["CommandToExecute.Unprotected.Parameter"],
        "L": ["CommandToExecute.Unprotected.List"],
        "": [],
    }
    assert errors("template-command-secrets-protected", data) == ids[expected]


# Outputs-Must-Not-Contain-Secrets


@pytest.mark.parametrize(
    ("name", "output", "expected"),
    [
        ("token", {"type": "string", "value": "[variables('wrapped')]"}, "P"),
        (
            "tokens",
            {"type": "array", "copy": {"count": 2, "input": "[parameters('Token')]"}},
            "P",
        ),
        ("keys", {"type": "object", "value": "[listSecrets('a', '2020-01-01')]"}, "L"),
        ("id", {"type": "string", "value": "[reference('a').id]"}, ""),
        ("name", {"type": "string", "value": "[parameters('name')]"}, ""),
        ("adminPasswordHint", {"type": "string", "value": "none"}, "N"),
        ("listing", {"type": "string", "value": "[variables('plain')]"}, ""),
    ],
)
def test_outputs(name: str, output: Json, expected: str) -> None:
    data = template(
        parameters=SECRET_PARAMETERS,
        variables={"wrapped": "[parameters('token')]", "plain": "list"},
        resources=[],
        outputs={name: output},
    )
    ids = {
        "P": ["Output.Contains.SecureParameter"],
        "L": ["Output.Contains.Secret"],
        "N": ["Output.Contains.Secret.Name"],
        "": [],
    }
    assert errors("template-outputs-no-secrets", data) == ids[expected]


# Parameters-Must-Be-Referenced


def test_parameter_used_in_another_default_or_outer_nested_template() -> None:
    outer_scope = {
        "type": "Microsoft.Resources/deployments",
        "name": "outer",
        "properties": {
            "template": {"resources": [{"name": "[parameters('b')]"}]},
        },
    }
    data = template(
        parameters={
            "a": {"type": "string"},
            "b": {"type": "string"},
            "c": {"type": "string", "defaultValue": "[parameters('a')]"},
            "__internal": {"type": "string"},
        },
        resources=[outer_scope],
        outputs={"c": {"type": "string", "value": "[parameters('c')]"}},
    )
    assert run("template-parameters-referenced", data) == []


def test_parameter_used_only_inside_inner_scope_template() -> None:
    inner = template(
        parameters={"a": {"type": "string"}},
        resources=[{"name": "[parameters('a')]"}],
    )
    data = template(
        parameters={"a": {"type": "string"}}, resources=[inner_deployment(inner)]
    )
    found = run("template-parameters-referenced", data)
    assert [(f.file, f.path, f.severity.value) for f in found] == [
        ("mainTemplate.json", "$.parameters.a", "warning")
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("prefix-parameters('a')", "Parameters.Must.Be.Referenced.In.Expression"),
        ("@parameters('a')", "Parameters.Must.Be.Referenced"),
        ("[[parameters('a')]", "Parameters.Must.Be.Referenced.In.Expression"),
    ],
)
def test_parameter_only_in_plain_text(value: str, expected: str) -> None:
    data = template(parameters={"a": {"type": "string"}}, variables={"v": value})
    assert errors("template-parameters-referenced", data) == [expected]


# Min-And-Max-Value-Are-Numbers


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [
        ({"minValue": 1, "maxValue": 5}, []),
        ({"MINVALUE": 1, "MaxValue": 5}, []),
        ({}, []),
        ({"minValue": 1.5, "maxValue": 5}, ["Parameter.Min.Not.Int"]),
        ({"minValue": 1, "maxValue": True}, ["Parameter.Max.Not.Int"]),
        ({"minValue": "1", "maxValue": "x"}, ["Parameter.Max.Not.Int"]),
        ({"minValue": 0}, ["Parameter.Missing.Max"]),
        ({"maxValue": 0}, ["Parameter.Missing.Min"]),
    ],
)
def test_min_and_max(bounds: Json, expected: list[str]) -> None:
    data = template(parameters={"count": {"type": "int", **bounds}})
    assert errors("template-min-max-integers", data) == expected


# artifacts-parameter


def artifacts(location_default: Any = None, token_default: Any = None) -> Json:
    location: Json = {"type": "string"}
    token: Json = {"type": "secureString"}
    if location_default is not None:
        location["defaultValue"] = location_default
    if token_default is not None:
        token["defaultValue"] = token_default
    return {"_artifactsLocation": location, "_artifactsLocationSasToken": token}


@pytest.mark.parametrize(
    ("location_default", "token_default", "expected"),
    [
        ("[deployment().properties.templateLink.uri]", "", []),
        ("[ Deployment().Properties.TemplateLink.URI ]", "", []),
        (
            "https://raw.githubusercontent.com/Azure/azure-quickstart-templates/"
            "master/quickstarts/x/",
            "",
            [],
        ),
        (
            "[uri(deployment().properties.templateLink.uri, '.')]",
            "",
            ["ArtifactsLocation.Parameter.DefaultValue.Incorrect"],
        ),
        (
            "[deployment().properties.templateLink.uri]",
            "sv=2020&sig=x",
            ["ArtifactsLocation.Parameter.sasToken.DefaultValue.Incorrect"],
        ),
    ],
)
def test_artifacts_in_main_template(
    location_default: str, token_default: str, expected: list[str]
) -> None:
    data = template(parameters=artifacts(location_default, token_default))
    assert errors("template-artifacts-parameters", data) == expected


def test_artifacts_in_other_templates_take_no_defaults() -> None:
    plain = template(parameters=artifacts(token_default=""))
    assert errors("template-artifacts-parameters", plain, name="nested.json") == []

    inner = template(parameters=artifacts("[deployment().properties.templateLink.uri]"))
    main = template(
        parameters=artifacts("[deployment().properties.templateLink.uri]", ""),
        resources=[inner_deployment(inner)],
    )
    found = run("template-artifacts-parameters", main)
    assert [(f.file, f.error_id) for f in found] == [
        (
            "mainTemplate.json#$.resources[0].properties.template",
            "ArtifactsLocation.Parameter.DefaultValue.NotEmpty",
        )
    ]


def test_artifacts_absent_is_fine() -> None:
    data = template(parameters={"_artifactsLocationSasToken": {"type": "string"}})
    assert run("template-artifacts-parameters", data) == []


# Parameter-Types-Should-Be-Consistent


@pytest.mark.parametrize(
    ("outer_type", "passed", "inner_type", "flagged"),
    [
        ("int", {"value": "[parameters('p')]"}, "string", True),
        ("int", "[parameters('P')]", "string", True),
        ("String", {"value": "[parameters('p')]"}, "string", False),
        ("int", {"value": "[string(parameters('p'))]"}, "string", False),
        ("object", {"value": "[parameters('p').name]"}, "string", False),
        ("int", {"value": 3}, "string", False),
    ],
)
def test_nested_parameter_types(
    outer_type: str, passed: Any, inner_type: str, flagged: bool
) -> None:
    inner = template(parameters={"q": {"type": inner_type}}, resources=[])
    data = template(
        parameters={"p": {"type": outer_type}},
        resources=[inner_deployment(inner, {"q": passed})],
    )
    found = run("template-nested-parameter-types", data)
    assert [f.path for f in found] == (
        ["$.resources[0].properties.parameters.q"] if flagged else []
    )


# Location-Should-Not-Be-Hardcoded


@pytest.mark.parametrize(
    ("default", "flagged"),
    [
        ("[resourceGroup().location]", False),
        ("[ ResourceGroup( ).Location ]", False),
        ("[deployment().location]", False),
        ("Global", False),
        ("", False),
        ("westeurope", True),
        ("[parameters('region')]", True),
    ],
)
def test_location_default_in_main_template(default: str, flagged: bool) -> None:
    data = template(
        parameters={"location": {"type": "string", "defaultValue": default}}
    )
    found = errors("template-location-not-hardcoded", data)
    assert found == (["Location.Parameter.Hardcoded"] if flagged else [])


@pytest.mark.parametrize(
    ("default", "flagged"),
    [
        ("[resourceGroup().location]", False),
        ("[toLower(deployment().location)]", False),
        ("", True),
        ("global", True),
        ("[parameters('region')]", True),
    ],
)
def test_location_default_in_other_templates(default: str, flagged: bool) -> None:
    data = template(
        parameters={"location": {"type": "string", "defaultValue": default}}
    )
    found = errors("template-location-not-hardcoded", data, name="nested.json")
    assert found == (["Location.Parameter.DefaultValuePresent"] if flagged else [])


def test_location_parameter_type() -> None:
    data = template(parameters={"Location": {"type": "int"}})
    assert errors("template-location-not-hardcoded", data) == [
        "Location.Parameter.TypeMisMatch"
    ]


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"location": "[parameters('location')]"}, []),
        ({"location": "GLOBAL"}, []),
        ({"location": "westeurope"}, ["Location.Hardcoded"]),
        (
            {"location": "[parameters('location')]", "resources": [{"location": "x"}]},
            ["Location.Hardcoded"],
        ),
        (
            {"location": "[resourceGroup().location]"},
            ["Location.Parameter.Should.Be.Used"],
        ),
        (
            {
                "type": "microsoft.resources/DEPLOYMENTS",
                "location": "[deployment().location]",
            },
            [],
        ),
    ],
)
def test_location_of_resources(resource: Json, expected: list[str]) -> None:
    data = template(
        parameters={"location": {"type": "string"}},
        variables={"shapes": {"resources": [{"location": "not a resource"}]}},
        resources=[{"type": "Microsoft.Network/publicIPAddresses", **resource}],
    )
    assert (
        errors("template-location-not-hardcoded", data, name="nested.json") == expected
    )


def test_location_read_in_outputs() -> None:
    data = template(
        outputs={"where": {"type": "string", "value": "[resourceGroup().location]"}}
    )
    found = run("template-location-not-hardcoded", data)
    assert [f.path for f in found] == ["$.outputs.where.value"]


# DeploymentTemplate-Must-Not-Contain-Hardcoded-Uri


@pytest.mark.parametrize(
    ("variables", "path", "fix"),
    [
        (
            {"u": "https://myaccount.blob.core.windows.net/c"},
            "$.variables.u",
            "environment().suffixes.storage",
        ),
        ({"u": "https://LOGIN.microsoftonline.com/"}, "$.variables.u", "loginEndpoint"),
        (
            {"u": "[concat('https://', 'api.loganalytics.io')]"},
            "$.variables.u",
            "as a parameter",
        ),
        ({"management.azure.com": "key"}, "$.variables", "resourceManager"),
    ],
)
def test_hardcoded_hosts(variables: Json, path: str, fix: str) -> None:
    found = run("template-no-hardcoded-hosts", template(variables=variables))
    assert [f.path for f in found] == [path]
    assert fix in found[0].message


@pytest.mark.parametrize(
    "text",
    [
        "http://schema.management.azure.com/schemas/x.json#",
        "https://devopsgallerystorage.blob.core.windows.net/p.nupkg",
        "[environment().resourceManager]",
    ],
)
def test_hosts_that_are_fine(text: str) -> None:
    assert run("template-no-hardcoded-hosts", template(variables={"u": text})) == []


def test_hardcoded_hosts_allowed_in_parameters_only() -> None:
    data = template(
        parameters={"endpoint": {"type": "string", "defaultValue": "vault.azure.net"}},
        resources=[
            {
                "type": "Microsoft.Resources/deployments",
                "properties": {
                    "parameters": {"endpoint": {"value": "vault.azure.net"}}
                },
            }
        ],
    )
    found = run("template-no-hardcoded-hosts", data)
    assert [f.path for f in found] == [
        "$.resources[0].properties.parameters.endpoint.value"
    ]


# DeploymentTemplate-Schema-Is-Correct


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        (SCHEMA, []),
        (SCHEMA.upper(), []),
        (
            "https://schema.management.azure.com/schemas/2015-01-01/"
            "deploymentTemplate.json#",
            [("warning", "Template.Deprecated.Schema")],
        ),
        (None, [("error", "Template.Missing.Schema")]),
        (SCHEMA.rstrip("#"), [("error", "Template.Bad.Schema")]),
        (["x"], [("error", "Template.Bad.Schema")]),
    ],
)
def test_schema(schema: Any, expected: list[tuple[str, str]]) -> None:
    data: Json = {"resources": []}
    if schema is not None:
        data["$schema"] = schema
    found = run("template-schema", data)
    assert [(f.level, f.error_id) for f in found] == expected
    assert all(f.severity.value != "error" for f in found)  # Marketplace warns only


# DependsOn-Best-Practices


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("[if(parameters('x'), 'a', 'b')]", ["Resource.DependsOn.Conditional"]),
        ("[ IF (true(), 'a', 'b')]", ["Resource.DependsOn.Conditional"]),
        (
            "[concat('Microsoft.Network/x/', 'y')]",
            ["Resource.DependsOn.StartsWithConcat"],
        ),
        ("[concat('vm', copyIndex())]", []),
        ("[resourceId('Microsoft.Network/x', concat('y', 'z'))]", []),
        ("storageAccount", []),
    ],
)
def test_depends_on(entry: str, expected: list[str]) -> None:
    child = {"type": "child", "dependsOn": [entry]}
    data = template(resources=[{"type": "parent", "resources": [child]}])
    assert errors("template-depends-on-plain", data) == expected


# Deployment-Resources-Must-Not-Be-Debug


@pytest.mark.parametrize(
    ("resource_type", "setting", "flagged"),
    [
        ("Microsoft.Resources/deployments", {"detailLevel": "none"}, False),
        ("Microsoft.Resources/deployments", {}, False),
        ("microsoft.resources/deployments", {"detailLevel": "requestContent"}, True),
        ("Microsoft.Resources/deployments", {"detailLevel": "[parameters('d')]"}, True),
        ("Microsoft.Web/sites", {"detailLevel": "requestContent"}, False),
    ],
)
def test_deployment_debug(resource_type: str, setting: Json, flagged: bool) -> None:
    resource = {"type": resource_type, "properties": {"debugSetting": setting}}
    data = template(resources=[{"type": "parent", "resources": [resource]}])
    found = errors("template-deployment-not-debug", data)
    assert found == (["Deployment.Resource.Has.DebugSetting"] if flagged else [])


# Dynamic-Variable-References-Should-Not-Use-Concat


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [
        (
            "[variables(concat('image', parameters('os'))).sku]",
            "variables('image')[parameters('os')]",
        ),
        ("[variables(concat('a', 'b'))]", "variables('choices')[parameters('choice')]"),
        ("[variables('image')[parameters('os')]]", None),
        ("[variables(format('image{0}', parameters('os')))]", None),
    ],
)
def test_dynamic_variable_references(value: str, suggestion: str | None) -> None:
    data = template(variables={"v": value})
    found = run("template-no-dynamic-variable-concat", data)
    if suggestion is None:
        assert found == []
    else:
        assert len(found) == 1 and suggestion in found[0].message


# ManagedIdentityExtension-must-not-be-used


def test_managed_identity_extension_only_in_resources() -> None:
    data = template(
        variables={"note": "ManagedIdentityExtensionForLinux is retired"},
        resources=[
            {"type": "x", "properties": {"type": "managedidentityextensionforlinux"}}
        ],
    )
    found = run("template-no-managed-identity-extension", data)
    assert [(f.path, f.severity.value) for f in found] == [
        ("$.resources[0].properties.type", "warning")
    ]


# Every rule of these modules


BROKEN = template(
    parameters={
        "location": {"type": "string", "defaultValue": "westus"},
        "adminPassword": {"type": "string"},
        "unused": {"type": "int", "minValue": 1},
        **artifacts(),
    },
    variables={"pick": "[variables(concat('a', parameters('adminPassword')))]"},
    resources=[
        vm(adminUsername="root", adminPassword="x"),
        extension("CustomScript", "settings", "[listKeys('a', '2019-06-01')]"),
        {
            "type": "Microsoft.Resources/deployments",
            "location": "westus",
            "dependsOn": ["[if(true(), 'a', 'b')]"],
            "properties": {
                "debugSetting": {"detailLevel": "requestContent"},
                "template": {"variables": {"u": "https://management.azure.com"}},
            },
        },
        {"type": "x", "name": "ManagedIdentityExtensionForWindows"},
    ],
    outputs={"password": {"type": "string", "value": "[parameters('adminPassword')]"}},
)
MODULES = ("template_secrets", "template_parameters", "template_environment")


@pytest.mark.parametrize(
    "rule_id",
    sorted(
        r.id
        for r in RULES.values()
        if r.check.__module__.rsplit(".", 1)[-1] in (*MODULES, "template_structure")
    ),
)
def test_messages_are_one_sentence_with_a_fix(rule_id: str) -> None:
    data = dict(BROKEN, **({"$schema": "x"} if rule_id == "template-schema" else {}))
    if rule_id == "template-nested-parameter-types":
        inner = template(parameters={"q": {"type": "string"}})
        data = template(
            parameters={"p": {"type": "int"}},
            resources=[inner_deployment(inner, {"q": {"value": "[parameters('p')]"}})],
        )
    found = run(rule_id, data)
    assert found, f"{rule_id} found nothing in a template broken for it"
    for finding in found:
        assert finding.arm_ttk
        assert finding.message.endswith(".")
        assert "\n" not in finding.message
        assert finding.line is None or finding.line > 0
