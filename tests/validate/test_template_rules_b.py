"""Template rules on apiVersions, resource IDs, secure parameters, blanks, variables,
URIs and virtual machines: behaviour arm-ttk's own cases do not pin down.

Each rule gets good and bad snippets; the apiVersion table gets its own tests, and
refreshing it from Azure is replayed from a hand-written cassette.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from ccm_azure.offer import Offer
from ccm_azure.render import RenderedOffer
from ccm_azure.validate import RULES, Document, Finding, Package, Settings, check
from ccm_azure.validate.api_versions import (
    ApiVersions,
    Verdict,
    acceptable,
    is_preview,
    judge,
    refresh_from_azure,
    shipped,
    version_date,
)
from ccm_azure.validate.files import nested_templates
from ccm_azure.validate.template import Template, every_resource

Json = dict[str, Any]

SCHEMA = (
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"
)
AS_OF = datetime.date(2026, 2, 13)
TABLE = ApiVersions.from_mapping(
    {
        "Microsoft.Network/publicIPAddresses": [
            "2025-03-01",
            "2024-05-01",
            "2015-06-15",
            "2015-05-01-preview",
        ],
        "Microsoft.Web/connections": ["2018-07-01-preview", "2016-06-01"],
        "Microsoft.DBforMySQL/servers": ["2017-12-01-preview", "2017-12-01"],
        "Microsoft.ServiceBus/namespaces": ["2021-11-01", "2017-04-01"],
    },
    "the test table",
)
IP_ID = "resourceId('Microsoft.Network/publicIPAddresses', 'ip')"
SUBNET_ID = "resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')"
VNET = "'Microsoft.Network/virtualNetworks'"
CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "validate"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def template(
    resources: list[Any] | None = None,
    *,
    parameters: Json | None = None,
    variables: Json | None = None,
    outputs: Json | None = None,
    **extra: Any,
) -> Json:
    data: Json = {"$schema": SCHEMA, "contentVersion": "1.0.0.0"}
    if parameters is not None:
        data["parameters"] = parameters
    if variables is not None:
        data["variables"] = variables
    data["resources"] = resources if resources is not None else []
    if outputs is not None:
        data["outputs"] = outputs
    data.update(extra)
    return data


def run(
    rule_id: str,
    data: Json,
    *,
    table: ApiVersions | None = TABLE,
    as_of: datetime.date = AS_OF,
) -> list[Finding]:
    """The findings of one rule on `data` as the main template, inner templates
    split off as files.load does."""
    main = Document("mainTemplate.json", data, "template", is_main=True)
    package = Package([main, *nested_templates(main)])
    settings = Settings(as_of=as_of, api_versions=table)
    return check(package, settings, only=[RULES[rule_id]])


def errors(rule_id: str, data: Json, **kwargs: Any) -> list[Finding]:
    return [f for f in run(rule_id, data, **kwargs) if f.level == "error"]


def ip(api_version: object = "2025-03-01", **fields: Any) -> Json:
    return {
        "type": "Microsoft.Network/publicIPAddresses",
        "apiVersion": api_version,
        "name": "ip",
        "location": "[parameters('location')]",
        **fields,
    }


def deployment(inner: Json, *, scope: str | None = None, **properties: Any) -> Json:
    props: Json = {"mode": "Incremental", "template": inner, **properties}
    if scope is not None:
        props["expressionEvaluationOptions"] = {"scope": scope}
    return {
        "type": "Microsoft.Resources/deployments",
        "apiVersion": "2025-04-01",
        "name": "nested",
        "properties": props,
    }


def vm(properties: Json, **fields: Any) -> Json:
    return {
        "type": "Microsoft.Compute/virtualMachines",
        "apiVersion": "2026-03-01",
        "name": "vm",
        "location": "[parameters('location')]",
        "properties": properties,
        **fields,
    }


def image(**fields: str) -> Json:
    reference = {
        "publisher": "Canonical",
        "offer": "ubuntu-24_04-lts",
        "sku": "server",
        "version": "latest",
    }
    return {"storageProfile": {"imageReference": {**reference, **fields}}}


def test_every_rule_of_this_module_names_its_arm_ttk_test() -> None:
    expected = {
        "template-api-versions-recent": "apiVersions-Should-Be-Recent",
        "template-reference-api-versions-recent": (
            "apiVersions-Should-Be-Recent-In-Reference-Functions"
        ),
        "template-no-providers-api-versions": "providers_apiVersions-Is-Not-Permitted",
        "template-ids-from-resource-id": "IDs-Should-Be-Derived-From-ResourceIDs",
        "template-resource-id-arguments": "ResourceIds-should-not-contain",
        "template-resource-id-unambiguous": "Resources-Should-Not-Be-Ambiguous",
        "template-resource-location-expression": "Resources-Should-Have-Location",
        "template-nested-deployment-secrets": "Secure-Params-In-Nested-Deployments",
        "template-secure-string-no-default": (
            "Secure-String-Parameters-Cannot-Have-Default"
        ),
        "template-no-blanks": "Template-Should-Not-Contain-Blanks",
        "template-uri-function": "URIs-Should-Be-Properly-Constructed",
        "template-variables-referenced": "Variables-Must-Be-Referenced",
        "template-vm-image-not-preview": "Virtual-Machines-Should-Not-Be-Preview",
        "template-vm-image-latest": "VM-Images-Should-Use-Latest-Version",
        "template-vm-size-parameter": "VM-Size-Should-Be-A-Parameter",
    }
    assert {rule_id: RULES[rule_id].arm_ttk for rule_id in expected} == expected
    blocking = {
        "template-resource-location-expression",
        "template-nested-deployment-secrets",
        "template-secure-string-no-default",
        "template-vm-image-not-preview",
        "template-vm-size-parameter",
    }
    assert {r for r in expected if RULES[r].blocking} == blocking


# The apiVersion table


@pytest.mark.parametrize(
    ("version", "known", "verdicts"),
    [
        ("2024-05-01", ["2024-05-01", "2015-06-15"], []),
        ("2015-06-15", ["2024-05-01", "2015-06-15"], [Verdict.OUT_OF_DATE]),
        ("2016-06-01", ["2018-07-01-preview", "2016-06-01"], []),
        (
            "2015-05-01-preview",
            ["2015-06-15", "2015-05-01-preview"],
            [Verdict.PREVIEW_SUPERSEDED, Verdict.OUT_OF_DATE],
        ),
        (
            "2017-12-01-preview",
            ["2017-12-01-preview", "2017-12-01"],
            [Verdict.PREVIEW_HAS_STABLE],
        ),
        ("2018-07-01-PREVIEW", ["2018-07-01-preview", "2016-06-01"], []),
        ("2025-01-01", ["2024-05-01"], [Verdict.NOT_LISTED]),
        (
            "2019-01-01-preview",
            ["2021-01-01-preview", "2019-01-01-preview"],
            [Verdict.OUT_OF_DATE],
        ),
        ("latest", ["2024-05-01"], []),
    ],
)
def test_judge(version: str, known: list[str], verdicts: list[Verdict]) -> None:
    assert judge(version, known, AS_OF) == verdicts


def test_version_parts() -> None:
    assert version_date("2024-05-01") == datetime.date(2024, 5, 1)
    assert version_date("2024-05-01-preview") == datetime.date(2024, 5, 1)
    assert version_date("2024-13-01") is None
    assert version_date("[variables('v')]") is None
    assert is_preview("2024-05-01-beta") and not is_preview("2024-05-01")
    assert acceptable(["2015-06-15", "2025-03-01", "2024-05-01"], AS_OF) == [
        "2025-03-01",
        "2024-05-01",
    ]


def test_lookup_falls_back_to_the_parent_type() -> None:
    assert TABLE.lookup("microsoft.servicebus/NAMESPACES/queues") == (
        "microsoft.servicebus/NAMESPACES",
        ("2021-11-01", "2017-04-01"),
    )
    assert TABLE.lookup("Microsoft.Unknown/things") is None


def test_to_json_round_trips() -> None:
    text = TABLE.to_json("made by a test")
    data = json.loads(text)
    assert data["$comment"] == "made by a test"
    assert ApiVersions.from_mapping(data, "again").table == TABLE.table


def test_shipped_table_covers_the_rendered_offer(rendered: RenderedOffer) -> None:
    table = shipped()
    assert table.source == "the table shipped with ccm-azure"
    offer_template = Template(rendered.main_template)
    for resource in every_resource(offer_template):
        found = table.versions(resource.full_type)
        assert found, f"{resource.full_type} is not in the shipped table"
        assert resource.data["apiVersion"] in found, resource.full_type
        assert list(found) == sorted(found, reverse=True)


def test_shipped_table_names_its_sources() -> None:
    from importlib import resources

    text = resources.files("ccm_azure.validate").joinpath("api_versions.json")
    comment = " ".join(json.loads(text.read_text())["$comment"])
    for source in ("arm-ttk", "azure-rest-api-specs", "azure-mgmt-compute", "schema"):
        assert source in comment


class FakeCredential:
    """Hands out a fake token without any HTTP."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("fake-token", 4_102_444_800)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("fake-token", 4_102_444_800)


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def vcr_config() -> Json:
    return {
        "filter_headers": ["authorization", "x-ms-client-request-id", "user-agent"],
        "match_on": ("method", "scheme", "host", "port", "path", "query"),
        "allow_playback_repeats": False,
    }


@pytest.mark.vcr(record_mode="none")
@pytest.mark.default_cassette("refresh_api_versions.yaml")
def test_refresh_from_azure_lists_every_provider_type() -> None:
    table = refresh_from_azure(FakeCredential(), SUBSCRIPTION)
    assert table.versions("Microsoft.Compute/virtualMachines") == (
        "2026-04-01",
        "2026-03-01",
        "2025-11-01",
        "2024-11-01-preview",
        "2015-06-15",
    )
    assert table.versions("Microsoft.Network/networkInterfaces") == (
        "2025-07-01",
        "2025-05-01",
    )
    assert set(table.table) == {
        "microsoft.compute/virtualmachines",
        "microsoft.compute/virtualmachines/extensions",
        "microsoft.network/networkinterfaces",
        "microsoft.network/operations",
    }
    assert SUBSCRIPTION in table.source
    again = ApiVersions.from_mapping(json.loads(table.to_json()), "file")
    assert again.table == table.table


# apiVersions-Should-Be-Recent


@pytest.mark.parametrize(
    ("resource", "error_id"),
    [
        (ip("2015-06-15"), "ApiVersion.OutOfDate"),
        (ip("2015-05-01-preview"), "ApiVersion.Preview.Not.Recent"),
        (ip(20240501), "ApiVersion.Not.String"),
        (ip("[variables('v')]"), "ApiVersion.Not.Date"),
        (
            {**ip("2015-06-15"), "type": "microsoft.network/PUBLICIPADDRESSES"},
            "ApiVersion.OutOfDate",
        ),
        (
            {
                "type": "Microsoft.ServiceBus/namespaces",
                "apiVersion": "2021-11-01",
                "name": "bus",
                "resources": [
                    {"type": "queues", "apiVersion": "2017-04-01", "name": "q"}
                ],
            },
            "ApiVersion.OutOfDate",
        ),
    ],
    ids=["old", "old preview", "number", "expression", "type case", "child"],
)
def test_api_versions_recent_catches(resource: Json, error_id: str) -> None:
    found = errors("template-api-versions-recent", template([resource]))
    assert [f.error_id for f in found] == [error_id]
    assert found[0].severity.value == "warning"  # Partner Center only warns


@pytest.mark.parametrize(
    "resource",
    [
        ip("2025-03-01"),
        ip("2024-05-01"),  # not the newest, but under two years old
        {"type": "Microsoft.Web/connections", "apiVersion": "2016-06-01"},
        {"type": "Microsoft.Unknown/things", "apiVersion": "2010-01-01"},
        ip("2015-06-15", metadata=["Disable-apiVersions-Should-Be-Recent"]),
        {"type": "Microsoft.Network/publicIPAddresses", "name": "no apiVersion"},
    ],
    ids=["newest", "recent", "newest stable", "unknown type", "opted out", "none"],
)
def test_api_versions_recent_accepts(resource: Json) -> None:
    assert run("template-api-versions-recent", template([resource])) == []


def test_api_version_missing_from_the_table_only_warns() -> None:
    found = run("template-api-versions-recent", template([ip("2025-01-01")]))
    assert [(f.level, f.error_id) for f in found] == [
        ("warning", "ApiVersion.Not.Valid")
    ]
    assert "the test table" in found[0].message


def test_api_versions_in_outer_scope_nested_templates_are_checked() -> None:
    data = template([deployment(template([ip("2015-06-15")]))])
    found = errors("template-api-versions-recent", data)
    assert [f.path for f in found] == [
        "$.resources[0].properties.template.resources[0].apiVersion"
    ]


def test_api_versions_use_the_shipped_table_without_one() -> None:
    old_vm = vm({}, apiVersion="2015-06-15")
    found = errors("template-api-versions-recent", template([old_vm]), table=None)
    assert [f.error_id for f in found] == ["ApiVersion.OutOfDate"]
    assert "2026-04-01" in found[0].message


def test_api_version_age_counts_from_the_date_given() -> None:
    data = template([ip("2024-05-01")])
    assert errors("template-api-versions-recent", data) == []
    later = datetime.date(2026, 6, 2)
    assert errors("template-api-versions-recent", data, as_of=later) != []


# apiVersions-Should-Be-Recent-In-Reference-Functions


@pytest.mark.parametrize(
    ("expression", "variables"),
    [
        (
            "[reference(variables('ipId'), '2015-06-15').ipAddress]",
            {"ipId": "[resourceId('Microsoft.Network/publicIPAddresses', 'ip')]"},
        ),
        (
            f"[reference({IP_ID}, variables('v'))]",
            {"v": "2015-06-15"},
        ),
        (
            "[reference('/subscriptions/x/resourceGroups/g/providers/"
            "Microsoft.Network/publicIPAddresses/ip', '2015-06-15')]",
            {},
        ),
        (
            "[listKeys(extensionResourceId(parameters('scope'), "
            "'Microsoft.Network/publicIPAddresses', 'ip'), '2015-06-15')]",
            {},
        ),
    ],
    ids=["id in variable", "version in variable", "literal id", "extension id"],
)
def test_reference_api_versions_catches(expression: str, variables: Json) -> None:
    data = template(
        variables=variables, outputs={"o": {"type": "string", "value": expression}}
    )
    found = errors("template-reference-api-versions-recent", data)
    assert [f.error_id for f in found] == ["ApiReference.Version.OutOfDate"]


@pytest.mark.parametrize(
    "expression",
    [
        "[reference(parameters('ipId'), '2015-06-15')]",
        f"[[reference({IP_ID}, '2015-06-15')]",
        f"[reference({IP_ID}, '2025-03-01')]",
        f"[reference({IP_ID})]",
    ],
    ids=["unknown type", "escaped", "newest", "no apiVersion"],
)
def test_reference_api_versions_accepts(expression: str) -> None:
    data = template(outputs={"o": {"type": "string", "value": expression}})
    assert run("template-reference-api-versions-recent", data) == []


# providers_apiVersions-Is-Not-Permitted


def test_providers_api_versions_found_anywhere_in_an_expression() -> None:
    data = template(
        [ip("[Providers('Microsoft.Network', 'publicIPAddresses').APIVERSIONS[0]]")],
        outputs={
            "v": {
                "type": "string",
                "value": (
                    "[concat('v', providers('Microsoft.Web', 'sites').apiVersions[1])]"
                ),
            }
        },
    )
    found = errors("template-no-providers-api-versions", data)
    assert [f.path for f in found] == [
        "$.outputs.v.value",
        "$.resources[0].apiVersion",
    ]
    assert {f.error_id for f in found} == {"ApiVersion.Using.Providers"}


def test_providers_without_api_versions_is_fine() -> None:
    data = template(
        outputs={
            "v": {"type": "object", "value": "[providers('Microsoft.Web', 'sites')]"},
            "w": {"type": "string", "value": "providers(x).apiVersions in prose"},
        }
    )
    assert run("template-no-providers-api-versions", data) == []


# IDs-Should-Be-Derived-From-ResourceIDs


def subnet_id(value: Any) -> Json:
    return {
        "type": "Microsoft.Network/networkInterfaces",
        "apiVersion": "2025-07-01",
        "name": "nic",
        "properties": {"subnet": {"id": value}},
    }


@pytest.mark.parametrize(
    ("value", "variables", "error_id"),
    [
        ("[variables('subnet')]", {"subnet": "/subscriptions/x/subnets/s"}, None),
        (
            "[variables('a')]",
            {"a": "[variables('b')]", "b": "[concat('/x', 'y')]"},
            None,
        ),
        (
            f"[if(parameters('new'), {SUBNET_ID}, '/subscriptions/x')]",
            {},
            None,
        ),
        ("[format('{0}/subnets/s', parameters('vnetId'))]", {}, None),
        ("   ", {}, "ResourceId.Is.Missing"),
    ],
    ids=["literal variable", "variable chain", "if branch", "format", "blank"],
)
def test_ids_catches(value: str, variables: Json, error_id: str | None) -> None:
    data = template([subnet_id(value)], variables=variables)
    found = errors("template-ids-from-resource-id", data)
    assert [f.path for f in found] == ["$.resources[0].properties.subnet.id"]
    assert found[0].error_id == (
        error_id or "ResourceId.Should.Contain.Proper.Expression"
    )


@pytest.mark.parametrize(
    ("value", "variables"),
    [
        (
            "[variables('subnet')]",
            {"subnet": f"[{SUBNET_ID}]"},
        ),
        (
            "[variables('net').subnetId]",
            {"net": {"subnetId": "[parameters('subnetId')]"}},
        ),
        (
            f"[if(parameters('new'), {SUBNET_ID}, null())]",
            {},
        ),
        (
            "[managementGroupResourceId('Microsoft.Authorization/policyDefinitions', "
            "'p')]",
            {},
        ),
        (f"[[{SUBNET_ID}]", {}),
        ("[reference(parameters('vnet')).subnets[0].id]", {}),
        ({"nested": "object"}, {}),
        (None, {}),
    ],
    ids=[
        "variable",
        "variable member",
        "if null",
        "management group",
        "escaped",
        "reference",
        "object",
        "null",
    ],
)
def test_ids_accepts(value: Any, variables: Json) -> None:
    data = template([subnet_id(value)], variables=variables)
    assert run("template-ids-from-resource-id", data) == []


def test_ids_exemptions() -> None:
    resource = {
        "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
        "apiVersion": "2024-11-30",
        "name": "id",
        "tags": {"costCenterId": "42"},
        "metadata": {"ownerId": "someone"},
        "properties": {
            "managedIdentityPrincipalId": "literal",  # ends with principalId
            "alert": {"detector": {"id": "FailureAnomaliesDetector"}},
        },
    }
    assert run("template-ids-from-resource-id", template([resource])) == []


def test_ids_of_nested_deployment_parameters_are_checked() -> None:
    nested = deployment(
        {}, scope="inner", parameters={"subnetId": {"value": "/subscriptions/x"}}
    )
    found = errors("template-ids-from-resource-id", template([nested]))
    assert [f.path for f in found] == [
        "$.resources[0].properties.parameters.subnetId.value"
    ]


def test_ids_message_shows_what_the_variable_holds() -> None:
    data = template(
        [subnet_id("[variables('subnetRef')]")],
        variables={"subnetRef": "[concat(parameters('vnetId'), '/subnets/s')]"},
    )
    (finding,) = errors("template-ids-from-resource-id", data)
    assert "concat(parameters('vnetId'), '/subnets/s')" in finding.message


def test_ids_skip_bicep_output() -> None:
    data = template(
        [subnet_id("[format('{0}/subnets/s', parameters('vnetId'))]")],
        metadata={"_generator": {"name": "bicep", "version": "0.30"}},
    )
    assert run("template-ids-from-resource-id", data) == []


# ResourceIds-should-not-contain


@pytest.mark.parametrize(
    "expression",
    [
        "[managementGroupResourceId(concat('Microsoft.Authorization/', "
        "'policyDefinitions'), 'p')]",
        f"[if(true(), resourceId(resourceGroup().name, {VNET}, 'v'), '')]",
        "[listKeys(format('{0}/providers/Microsoft.Storage/storageAccounts/s', "
        "resourceGroup().id), '2025-01-01').keys[0].value]",
    ],
    ids=["type by concat", "resource group name", "list by format"],
)
def test_resource_id_arguments_catches(expression: str) -> None:
    data = template(variables={"v": expression})
    found = errors("template-resource-id-arguments", data)
    assert [f.path for f in found] == ["$.variables.v"]


@pytest.mark.parametrize(
    "expression",
    [
        "[resourceId(parameters('group'), 'Microsoft.Network/virtualNetworks', 'v')]",
        f"[reference(resourceId({VNET}, 'v'), '2025-07-01')]",
        "[extensionResourceId(resourceGroup().id, "
        "'Microsoft.Authorization/locks', 'l')]",
        "[concat(resourceGroup().name, '-suffix')]",
    ],
    ids=["group parameter", "reference", "extension of the group", "plain concat"],
)
def test_resource_id_arguments_accepts(expression: str) -> None:
    data = template(variables={"v": expression})
    assert run("template-resource-id-arguments", data) == []


# Resources-Should-Not-Be-Ambiguous (switched off in arm-ttk: warnings only)


@pytest.mark.parametrize(
    ("expression", "error_id"),
    [
        (
            "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v')]",
            "ResourceID.Missing.Name",
        ),
        (
            "[resourceId('Microsoft.Network/virtualNetworks', 'v', 's')]",
            "ResourceID.Missing.Name",
        ),
        (
            "[resourceId('Microsoft.Network/virtualNetworks', parameters('v'), 's')]",
            "ResourceID.Missing.Name",
        ),
        (
            "[subscriptionResourceId('Microsoft.Network/virtualNetworks/', 'v')]",
            "ResourceID.Trailing.Slash",
        ),
    ],
    ids=["too few names", "too many names", "too many with expression", "slash"],
)
def test_resource_id_unambiguous_warns(expression: str, error_id: str) -> None:
    found = run(
        "template-resource-id-unambiguous", template(variables={"v": expression})
    )
    assert [(f.level, f.error_id, f.severity.value) for f in found] == [
        ("warning", error_id, "note")
    ]


@pytest.mark.parametrize(
    "expression",
    [
        f"[{SUBNET_ID}]",
        "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v/s')]",
        "[resourceId('Microsoft.Network/virtualNetworks/subnets', parameters('both'))]",
        "[extensionResourceId(parameters('vm'), 'Microsoft.Resources/tags', 'tag')]",
        "[resourceId(variables('type'), 'v')]",
    ],
    ids=[
        "one per segment",
        "joined literal",
        "expression may hold both",
        "extension",
        "type unknown",
    ],
)
def test_resource_id_unambiguous_accepts(expression: str) -> None:
    data = template(variables={"v": expression})
    assert run("template-resource-id-unambiguous", data) == []


# Resources-Should-Have-Location


def test_location_literal_is_an_error_at_top_level_and_a_warning_below() -> None:
    child = {"type": "subnets", "name": "s", "location": "westeurope"}
    parent = {**ip(location="northeurope"), "resources": [child]}
    data = template([parent, deployment(template([ip(location="eastus")]))])
    found = run("template-resource-location-expression", data)
    assert [(f.path, f.level) for f in found] == [
        ("$.resources[0].location", "error"),
        ("$.resources[0].resources[0].location", "warning"),
        ("$.resources[1].properties.template.resources[0].location", "warning"),
    ]
    assert "northeurope" in found[0].message
    assert found[0].severity.value == "error"  # Partner Center blocks it


@pytest.mark.parametrize(
    "location", ["Global", "[resourceGroup().location]", "[[parameters('location')]"]
)
def test_location_accepted(location: str) -> None:
    data = template([ip(location=location)])
    assert run("template-resource-location-expression", data) == []


# Secure-Params-In-Nested-Deployments


SECURE = {"password": {"type": "secureString"}, "name": {"type": "string"}}


@pytest.mark.parametrize(
    ("value", "variables"),
    [
        ("[variables('pw')]", {"pw": "[base64(parameters('PASSWORD'))]"}),
        (
            "[variables('keys')]",
            {"keys": "[listKeys(parameters('name'), '2025-01-01')]"},
        ),
    ],
    ids=["secure parameter via variable", "list via variable"],
)
def test_nested_deployment_secrets_follow_variables(
    value: str, variables: Json
) -> None:
    inner = template([ip(tags={"t": value})])
    data = template([deployment(inner)], parameters=SECURE, variables=variables)
    found = errors("template-nested-deployment-secrets", data)
    assert [f.path for f in found] == [
        "$.resources[0].properties.template.resources[0].tags.t"
    ]
    assert found[0].severity.value == "error"


@pytest.mark.parametrize(
    ("scope", "value"),
    [
        ("inner", "[parameters('password')]"),
        ("outer", "[parameters('name')]"),
        (None, "[[parameters('password')]"),
    ],
    ids=["inner scope", "not secure", "escaped"],
)
def test_nested_deployment_secrets_accepts(scope: str | None, value: str) -> None:
    inner = template([ip(tags={"t": value})], parameters=SECURE)
    data = template([deployment(inner, scope=scope)], parameters=SECURE)
    assert run("template-nested-deployment-secrets", data) == []


# Secure-String-Parameters-Cannot-Have-Default


@pytest.mark.parametrize(
    ("definition", "level"),
    [
        ({"type": "secureString", "defaultValue": "[parameters('other')]"}, "error"),
        ({"type": "SECURESTRING", "defaultValue": 1234}, "error"),
        ({"type": "secureObject", "defaultValue": {"key": "value"}}, "warning"),
    ],
    ids=["other expression", "number", "secure object"],
)
def test_secure_default_caught(definition: Json, level: str) -> None:
    data = template(parameters={"secret": definition})
    found = run("template-secure-string-no-default", data)
    assert [(f.path, f.level) for f in found] == [
        ("$.parameters.secret.defaultValue", level)
    ]


@pytest.mark.parametrize(
    "definition",
    [
        {"type": "secureString"},
        {"type": "secureString", "defaultValue": "[uniqueString(newGuid())]"},
        {"type": "secureObject", "defaultValue": {}},
        {"type": "string", "defaultValue": "not a secret"},
    ],
    ids=["no default", "new guid inside", "empty object", "not secure"],
)
def test_secure_default_accepted(definition: Json) -> None:
    data = template(parameters={"secret": definition})
    assert run("template-secure-string-no-default", data) == []


# Template-Should-Not-Contain-Blanks


def test_blanks_found_at_any_depth_but_not_in_arrays() -> None:
    data = template(
        [ip(tags={}, properties={"dnsSettings": {"fqdn": " "}, "zones": ["", None]})]
    )
    found = errors("template-no-blanks", data)
    assert [f.path for f in found] == [
        "$.resources[0].properties.dnsSettings.fqdn",
        "$.resources[0].tags",
    ]


def test_blanks_allowed_where_emptiness_means_something() -> None:
    identities = {
        "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', 'i')]": {},
        "/subscriptions/x/resourceGroups/g/providers/M.I/userAssignedIdentities/j": {},
    }
    config = {
        "type": "Microsoft.Web/sites/config",
        "apiVersion": "2024-04-01",
        "name": "app/appsettings",
        "properties": {"SETTING": ""},
    }
    data = template(
        [ip(identity={"userAssignedIdentities": identities}), config],
        parameters={"p": {"type": "string", "defaultValue": ""}},
        outputs={},
    )
    assert run("template-no-blanks", data) == []


# Variables-Must-Be-Referenced


def test_variables_read_by_a_computed_name_prefix() -> None:
    data = template(
        variables={"sizeSmall": "a", "sizeLarge": "b", "other": "c"},
        outputs={
            "o": {
                "type": "string",
                "value": "[variables(concat('size', parameters('size')))]",
            }
        },
    )
    found = errors("template-variables-referenced", data)
    assert [f.path for f in found] == ["$.variables.other"]


def test_variables_read_by_any_name_are_not_judged() -> None:
    data = template(
        variables={"a": "x"},
        outputs={"o": {"type": "string", "value": "[variables(parameters('n'))]"}},
    )
    assert run("template-variables-referenced", data) == []


def test_variables_referenced_ignoring_case_and_in_nested_templates() -> None:
    data = template(
        [deployment(template([ip(tags={"t": "[variables('TAG')]"})]))],
        variables={"tag": "x", "plain": "y"},
        outputs={"o": {"type": "string", "value": "variables('plain')"}},
    )
    found = errors("template-variables-referenced", data)
    assert [f.path for f in found] == ["$.variables.plain"]


# URIs-Should-Be-Properly-Constructed


@pytest.mark.parametrize(
    ("value", "caught"),
    [
        (
            "[uri(parameters('base'), concat('a.json', parameters('sas')))]",
            False,
        ),
        ("[concat(uri(parameters('base'), 'a.json'), parameters('sas'))]", True),
        ("[format('{0}/a.json', parameters('base'))]", True),
        ("https://example.com/[concat]", False),
        ("[parameters('templateUri')]", False),
    ],
    ids=["inside uri", "around uri", "format", "literal", "parameter"],
)
def test_uri_function(value: str, caught: bool) -> None:
    nested = deployment({}, scope="inner", templateLink={"uri": value})
    found = errors("template-uri-function", template([nested]))
    assert bool(found) == caught
    if caught:
        assert found[0].path == "$.resources[0].properties.templateLink.uri"


# Virtual-Machines-Should-Not-Be-Preview


IMAGES = {
    "ga": {
        "publisher": "Canonical",
        "offer": "ubuntu",
        "sku": "22_04",
        "version": "latest",
    },
    "next": {
        "publisher": "Canonical",
        "offer": "ubuntu",
        "sku": "26_04-preview",
        "version": "latest",
    },
}


@pytest.mark.parametrize(
    ("parameter", "caught"),
    [
        (
            {"type": "string", "defaultValue": "ga", "allowedValues": ["ga", "next"]},
            True,
        ),
        ({"type": "string", "defaultValue": "next"}, True),
        ({"type": "string", "defaultValue": "ga", "allowedValues": ["ga"]}, False),
        ({"type": "string"}, True),  # no value known: every image counts
    ],
    ids=["allowed", "default", "only ga", "unknown"],
)
def test_vm_preview_image_chosen_by_parameter(parameter: Json, caught: bool) -> None:
    resource = vm(
        {
            "storageProfile": {
                "imageReference": "[variables('images')[parameters('os')]]"
            }
        }
    )
    data = template(
        [resource], parameters={"os": parameter}, variables={"images": IMAGES}
    )
    found = errors("template-vm-image-not-preview", data)
    assert bool(found) == caught
    if caught:
        assert "26_04-preview" in found[0].message
        assert (
            found[0].path == "$.resources[0].properties.storageProfile.imageReference"
        )


def test_vm_preview_in_a_scale_set_and_through_a_parameter() -> None:
    scale_set = {
        "type": "Microsoft.Compute/virtualMachineScaleSets",
        "apiVersion": "2026-03-01",
        "name": "vmss",
        "properties": {
            "virtualMachineProfile": image(sku="[parameters('sku')]"),
        },
    }
    data = template(
        [scale_set], parameters={"sku": {"type": "string", "defaultValue": "x-Preview"}}
    )
    found = errors("template-vm-image-not-preview", data)
    assert "'x-Preview'" in found[0].message


def test_vm_preview_ignores_preview_inside_a_name() -> None:
    data = template([vm(image(offer="preview-edition-server"))])
    assert run("template-vm-image-not-preview", data) == []


# VM-Images-Should-Use-Latest-Version (switched off in arm-ttk: warnings only)


def test_vm_image_pinned_version_only_warns() -> None:
    data = template([vm(image(version="22.04.202601010"))])
    found = run("template-vm-image-latest", data)
    assert [(f.level, f.severity.value) for f in found] == [("warning", "note")]
    assert "22.04.202601010" in found[0].message


@pytest.mark.parametrize(
    "resource",
    [
        vm(image()),
        vm(image(version="Latest")),
        vm(
            image(version="1.0.0"), plan={"name": "p", "product": "o", "publisher": "x"}
        ),
        vm({"storageProfile": {"imageReference": {"id": "[parameters('imageId')]"}}}),
        vm({"storageProfile": {"imageReference": {"sharedGalleryImageId": "/g/i"}}}),
    ],
    ids=["latest", "any case", "with plan", "custom image", "gallery"],
)
def test_vm_image_latest_accepts(resource: Json) -> None:
    assert run("template-vm-image-latest", template([resource])) == []


# VM-Size-Should-Be-A-Parameter


@pytest.mark.parametrize(
    ("size", "variables", "caught"),
    [
        ("[variables('size')]", {"size": "[parameters('vmSize')]"}, False),
        (
            "[variables('sizes')[parameters('tier')]]",
            {"sizes": {"s": "Standard_DC2s_v3"}},
            False,
        ),
        ("[variables('size')]", {"size": "Standard_DC2s_v3"}, True),
        ("[toLower('Standard_DC2s_v3')]", {}, True),
        ("[[parameters('vmSize')]", {}, False),
    ],
    ids=[
        "variable of parameter",
        "indexed by parameter",
        "variable literal",
        "function of literal",
        "escaped",
    ],
)
def test_vm_size_parameter(size: str, variables: Json, caught: bool) -> None:
    data = template(
        [vm({"hardwareProfile": {"vmSize": size}})],
        variables=variables,
    )
    found = errors("template-vm-size-parameter", data)
    assert bool(found) == caught


def test_vm_size_in_outer_nested_template_is_checked() -> None:
    inner = template([vm({"hardwareProfile": {"VMSIZE": "Standard_DC2s_v3"}})])
    found = errors("template-vm-size-parameter", template([deployment(inner)]))
    assert [f.path for f in found] == [
        "$.resources[0].properties.template.resources[0].properties.hardwareProfile.VMSIZE"
    ]


# The rendered offer


def test_rendered_offer_passes_these_rules(
    main_template: Json, ui_definition: Json, offer: Offer
) -> None:
    package = Package(
        [
            Document("mainTemplate.json", main_template, "template", is_main=True),
            Document("createUiDefinition.json", ui_definition, "ui"),
        ]
    )
    mine = [r for r in RULES.values() if r.id in _MODULE_RULES]
    assert check(package, Settings(as_of=AS_OF, offer=offer), only=mine) == []


_MODULE_RULES = {
    "template-api-versions-recent",
    "template-reference-api-versions-recent",
    "template-no-providers-api-versions",
    "template-ids-from-resource-id",
    "template-resource-id-arguments",
    "template-resource-id-unambiguous",
    "template-resource-location-expression",
    "template-nested-deployment-secrets",
    "template-secure-string-no-default",
    "template-no-blanks",
    "template-uri-function",
    "template-variables-referenced",
    "template-vm-image-not-preview",
    "template-vm-image-latest",
    "template-vm-size-parameter",
}
