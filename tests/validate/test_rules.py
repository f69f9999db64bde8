"""Each rule passes the rendered offer and fails a copy broken in one way.

Every registered rule must appear in BREAKAGES, so no rule can exist that has never
been seen to fail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ccm_azure.offer import Offer
from ccm_azure.validate import RULES, Document, Package, Settings, check

Json = dict[str, Any]


def files(main: Json | None, ui: Json | None, offer: Offer | None) -> Package:
    documents = []
    if main:
        documents.append(Document("mainTemplate.json", main, "template", is_main=True))
    if ui:
        documents.append(Document("createUiDefinition.json", ui, "ui"))
    return Package(documents)


def run(main: Json | None, ui: Json | None, offer: Offer | None) -> list[Any]:
    return check(files(main, ui, offer), Settings(offer=offer))


def resource(main: Json, resource_type: str) -> Json:
    found = next(r for r in main["resources"] if r["type"] == resource_type)
    assert isinstance(found, dict)
    return found


def outputs(ui: Json) -> Json:
    result = ui["parameters"]["outputs"]
    assert isinstance(result, dict)
    return result


def node_step(ui: Json) -> dict[str, Json]:
    return {e["name"]: e for e in ui["parameters"]["steps"][0]["elements"]}


def basics(ui: Json) -> dict[str, Json]:
    return {e["name"]: e for e in ui["parameters"]["basics"]}


def network_step(ui: Json) -> dict[str, Json]:
    return {e["name"]: e for e in ui["parameters"]["steps"][1]["elements"]}


def grid_cell(ui: Json) -> Json:
    cell = node_step(ui)["nodeLabels"]["constraints"]["columns"][0]["element"]
    assert isinstance(cell, dict)
    return cell


def extension(main: Json) -> Json:
    return resource(main, "Microsoft.Compute/virtualMachines/extensions")


def nsg(main: Json) -> Json:
    return resource(main, "Microsoft.Network/networkSecurityGroups")


def vm(main: Json) -> Json:
    return resource(main, "Microsoft.Compute/virtualMachines")


Breakage = Callable[[Json, Json], None]

BREAKAGES: dict[str, list[tuple[str, Breakage]]] = {
    "ui-handler": [
        ("wrong handler", lambda m, u: u.update(handler="Microsoft.Compute.Vm")),
    ],
    "ui-schema": [
        ("no schema", lambda m, u: u.pop("$schema")),
        ("wrong version", lambda m, u: u.update(version="0.0.1-preview")),
    ],
    "ui-location-output": [
        ("basics location", lambda m, u: outputs(u).update(location="[basics('x')]")),
        ("missing", lambda m, u: outputs(u).pop("location")),
    ],
    "ui-outputs-are-parameters": [
        ("typo", lambda m, u: outputs(u).update(vmSise="[steps('node').vmSize]")),
    ],
    "ui-feeds-required-parameters": [
        ("token not fed", lambda m, u: outputs(u).pop("joinToken")),
    ],
    "ui-controls-exist": [
        ("bad step", lambda m, u: outputs(u).update(vmSize="[steps('nod').vmSize]")),
        ("bad control", lambda m, u: outputs(u).update(vmSize="[steps('node').x]")),
        ("bad basics", lambda m, u: outputs(u).update(vmName="[basics('vmNam')]")),
    ],
    "ui-output-types": [
        (
            "string into int",
            lambda m, u: outputs(u).update(osDiskSizeGB="[steps('node').vmSize]"),
        ),
        (
            "object into string",
            lambda m, u: outputs(u).update(
                virtualNetworkName="[steps('network').vnet]"
            ),
        ),
        (
            "bool into array",
            lambda m, u: outputs(u).update(nodeLabels="[equals(1, 2)]"),
        ),
        (
            "text box into int",
            lambda m, u: node_step(u)["osDiskSizeGB"].update(
                type="Microsoft.Common.TextBox"
            ),
        ),
    ],
    "ui-password-boxes-feed-secure-parameters": [
        (
            "token parameter not secure",
            lambda m, u: m["parameters"]["joinToken"].update(type="string"),
        ),
    ],
    "ui-size-selector-default-allowed": [
        (
            "default not offered",
            lambda m, u: node_step(u)["vmSize"]["constraints"].update(
                allowedSizes=["Standard_DC4s_v3"]
            ),
        ),
    ],
    "ui-allowed-values-match": [
        (
            "value the template refuses",
            lambda m, u: node_step(u)["osImage"]["constraints"]["allowedValues"].append(
                {"label": "Ubuntu 24.04", "value": "ubuntu-24.04"}
            ),
        ),
        (
            "template default not offered",
            lambda m, u: m["parameters"]["osDiskSizeGB"].update(defaultValue=48),
        ),
        (
            "region the template refuses",
            lambda m, u: m["parameters"]["location"]["allowedValues"].remove("eastus"),
        ),
    ],
    "ui-no-blanks": [
        ("empty label", lambda m, u: node_step(u)["vmSize"].update(label=" ")),
        ("empty object", lambda m, u: node_step(u)["vmSize"].update(options={})),
    ],
    "ui-credential-confirmation-shown": [
        (
            "password box",
            lambda m, u: node_step(u)["joinToken"]["options"].update(
                hideConfirmation=True
            ),
        ),
        (
            "credentials combo",
            lambda m, u: basics(u)["credentials"]["options"].update(
                hideConfirmation=True
            ),
        ),
    ],
    "ui-hide-existing-outputs": [
        (
            "existing vnet offered",
            lambda m, u: network_step(u)["vnet"]["options"].update(hideExisting=False),
        ),
    ],
    "ui-password-min-length": [
        (
            "no length",
            lambda m, u: node_step(u)["joinToken"]["constraints"].update(
                regex="^[!-~]+$"
            ),
        ),
        ("no constraints", lambda m, u: node_step(u)["joinToken"].pop("constraints")),
    ],
    "ui-textbox-constraints": [
        (
            "broken regex",
            lambda m, u: basics(u)["vmName"]["constraints"].update(regex="^[a-z"),
        ),
        (
            "no message",
            lambda m, u: basics(u)["vmName"]["constraints"].pop("validationMessage"),
        ),
        ("no regex", lambda m, u: basics(u)["vmName"]["constraints"].pop("regex")),
        (
            "broken grid regex",
            lambda m, u: grid_cell(u)["constraints"]["validations"][0].update(
                regex="(?i)x"
            ),
        ),
    ],
    "ui-tooltips": [
        ("size selector", lambda m, u: node_step(u)["vmSize"].pop("toolTip")),
        ("grid cell", lambda m, u: grid_cell(u).update(toolTip=" ")),
    ],
    "ui-username-no-default": [
        (
            "default user",
            lambda m, u: basics(u)["adminUsername"].update(defaultValue="azureuser"),
        ),
    ],
    "ui-validation-messages": [
        (
            "grid cell",
            lambda m, u: grid_cell(u)["constraints"]["validations"][0].pop("message"),
        ),
    ],
    "offer-join-token-protected": [
        (
            "in settings",
            lambda m, u: extension(m)["properties"]["settings"].update(
                commandToExecute="[parameters('joinToken')]"
            ),
        ),
        (
            "in outputs",
            lambda m, u: m["outputs"].update(
                token={"type": "string", "value": "[parameters('JOINTOKEN')]"}
            ),
        ),
        (
            "in the nodes output",
            lambda m, u: m["outputs"]["nodes"]["copy"]["input"].update(
                token="[parameters('joinToken')]"
            ),
        ),
        (
            "in a variable",
            lambda m, u: m["variables"].update(t="[base64(parameters('joinToken'))]"),
        ),
        (
            "in the per-node variable",
            lambda m, u: m["variables"]["copy"][0]["input"].update(
                t="[parameters('joinToken')]"
            ),
        ),
        (
            "in a tag",
            lambda m, u: vm(m).update(tags={"t": "[parameters('joinToken')]"}),
        ),
        (
            "with a default",
            lambda m, u: m["parameters"]["joinToken"].update(defaultValue="x"),
        ),
        ("not secure", lambda m, u: m["parameters"]["joinToken"].update(type="string")),
    ],
    "offer-agent-port-closed": [
        (
            "no deny rule",
            lambda m, u: m["variables"]["agentPortDenyRule"]["properties"].update(
                access="Allow"
            ),
        ),
        (
            "deny only from internet",
            lambda m, u: m["variables"]["agentPortDenyRule"]["properties"].update(
                sourceAddressPrefix="Internet"
            ),
        ),
        (
            "allow outranks deny",
            lambda m, u: m["variables"]["sshAllowRule"]["properties"].update(
                priority=90, destinationPortRange="*"
            ),
        ),
        (
            "no nsg on nic",
            lambda m, u: resource(m, "Microsoft.Network/networkInterfaces")[
                "properties"
            ].pop("networkSecurityGroup"),
        ),
        (
            "literal rules without deny",
            lambda m, u: nsg(m)["properties"].update(securityRules=[]),
        ),
    ],
    "offer-ssh-not-open": [
        (
            "open default",
            lambda m, u: m["parameters"]["sshSourceAddressPrefix"].update(
                defaultValue="*"
            ),
        ),
        (
            "literal internet",
            lambda m, u: m["variables"]["sshAllowRule"]["properties"].update(
                sourceAddressPrefix="Internet"
            ),
        ),
    ],
    "offer-sgx-vm": [
        (
            "security profile",
            lambda m, u: vm(m)["properties"].update(
                securityProfile={"securityType": "TrustedLaunch"}
            ),
        ),
        (
            "amd size allowed",
            lambda m, u: m["parameters"]["vmSize"]["allowedValues"].append(
                "Standard_DC2as_v5"
            ),
        ),
        (
            "literal size",
            lambda m, u: vm(m)["properties"]["hardwareProfile"].update(
                vmSize="Standard_DC2s_v3"
            ),
        ),
        (
            "pinned image",
            lambda m, u: m["variables"]["imageReferences"]["ubuntu-20.04"].update(
                version="20.04.202401010"
            ),
        ),
        (
            "gen1 image",
            lambda m, u: m["variables"]["imageReferences"]["ubuntu-22.04"].update(
                sku="22_04-lts"
            ),
        ),
    ],
    "offer-regions": [
        (
            "template allows more",
            lambda m, u: m["parameters"]["location"]["allowedValues"].append(
                "westeurope"
            ),
        ),
        (
            "form allows more",
            lambda m, u: u["parameters"]["config"]["basics"]["location"][
                "allowedValues"
            ].append("westeurope"),
        ),
    ],
    "template-outputs-no-secrets": [
        (
            "password in the nodes output",
            lambda m, u: m["outputs"]["nodes"]["copy"]["input"].update(
                password="[parameters('adminPasswordOrKey')]"
            ),
        ),
    ],
    "offer-node-loops": [
        (
            "vm made once",
            lambda m, u: vm(m).pop("copy"),
        ),
        (
            "extension loops over a fixed count",
            lambda m, u: extension(m)["copy"].update(count=2),
        ),
        (
            "labels made once",
            lambda m, u: resource(m, "Microsoft.Resources/tags").pop("copy"),
        ),
        (
            "every nic named alike",
            lambda m, u: resource(m, "Microsoft.Network/networkInterfaces").update(
                name="[concat(parameters('vmName'), '-nic')]"
            ),
        ),
        (
            "every node's labels on one vm",
            lambda m, u: resource(m, "Microsoft.Resources/tags").update(
                scope="[format('Microsoft.Compute/virtualMachines/{0}', "
                "parameters('vmName'))]"
            ),
        ),
    ],
    "offer-node-count": [
        ("no parameter", lambda m, u: m["parameters"].pop("nodeCount")),
        (
            "no upper bound",
            lambda m, u: m["parameters"]["nodeCount"].pop("maxValue"),
        ),
        (
            "string count",
            lambda m, u: m["parameters"]["nodeCount"].update(type="string"),
        ),
        (
            "default is a fleet",
            lambda m, u: m["parameters"]["nodeCount"].update(defaultValue=3),
        ),
        ("form passes no count", lambda m, u: outputs(u).pop("nodeCount")),
        (
            "form passes a literal",
            lambda m, u: outputs(u).update(nodeCount=3),
        ),
        (
            "form offers too many",
            lambda m, u: basics(u)["nodeCount"]["constraints"]["allowedValues"].append(
                {"label": "11 nodes", "value": 11}
            ),
        ),
        (
            "form offers text",
            lambda m, u: basics(u)["nodeCount"]["constraints"]["allowedValues"][
                0
            ].update(value="1"),
        ),
    ],
}

CASES = [
    pytest.param(rule_id, breakage, id=f"{rule_id}:{label}")
    for rule_id, cases in BREAKAGES.items()
    for label, breakage in cases
]


def test_every_rule_of_ours_has_failing_cases() -> None:
    # Rules with an arm-ttk name are shown to fail by arm-ttk's own fail cases
    # (tests/validate/test_conformance.py); the others must be shown here.
    ours = {rule.id for rule in RULES.values() if rule.arm_ttk is None}
    assert ours <= set(BREAKAGES)
    assert set(BREAKAGES) <= set(RULES)


def test_rendered_offer_is_clean(
    main_template: Json, ui_definition: Json, offer: Offer
) -> None:
    assert run(main_template, ui_definition, offer) == []


@pytest.mark.parametrize(("rule_id", "breakage"), CASES)
def test_rule_catches_breakage(
    main_template: Json,
    ui_definition: Json,
    offer: Offer,
    rule_id: str,
    breakage: Breakage,
) -> None:
    breakage(main_template, ui_definition)
    findings = run(main_template, ui_definition, offer)
    fired = [f for f in findings if f.rule_id == rule_id]
    assert fired, f"{rule_id} did not fire; findings: {findings}"
    for finding in fired:
        assert finding.message.endswith(".")
        assert "\n" not in finding.message
        assert finding.path.startswith("$")
        assert finding.file in ("mainTemplate.json", "createUiDefinition.json")


def test_findings_name_arm_ttk_tests(ui_definition: Json, main_template: Json) -> None:
    ui_definition["handler"] = "x"
    findings = run(main_template, ui_definition, None)
    assert [(f.rule_id, f.arm_ttk, f.severity.value) for f in findings] == [
        ("ui-handler", "Handler-Must-Be-Correct", "error")
    ]
    assert findings[0].format() == (
        "createUiDefinition.json: error ui-handler [Handler-Must-Be-Correct] at "
        "$.handler: handler is 'x'; set it to 'Microsoft.Azure.CreateUIDef'."
    )


def test_offer_rules_need_the_offer(main_template: Json, ui_definition: Json) -> None:
    main_template["parameters"]["joinToken"]["type"] = "string"
    rule_ids = {f.rule_id for f in run(main_template, ui_definition, None)}
    assert "offer-join-token-protected" not in rule_ids
