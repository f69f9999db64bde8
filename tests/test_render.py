"""Rendering: both files from one offer, deterministic, wired to each other."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from template_evaluation import UNIQUE_STRING, Deployment

from ccm_azure.offer import IMAGES, Offer, TemplateParameter, load_offer
from ccm_azure.render import (
    MAIN_TEMPLATE,
    UI_DEFINITION,
    RenderedOffer,
    bootstrap_script,
    render_offer,
)


def resource_of(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    found = next(r for r in template["resources"] if r["type"] == resource_type)
    assert isinstance(found, dict)
    return found


def command_of(template: dict[str, Any]) -> str:
    extension = resource_of(template, "Microsoft.Compute/virtualMachines/extensions")
    command = extension["properties"]["protectedSettings"]["commandToExecute"]
    assert isinstance(command, str)
    return command


def test_rendering_is_byte_identical(offer: Offer) -> None:
    first, second = render_offer(offer), render_offer(load_offer())
    assert first.files == second.files
    for name in (MAIN_TEMPLATE, UI_DEFINITION):
        assert first.files[name].endswith(b"}\n")
        assert json.loads(first.files[name])


def test_parameter_names_used_by_code_exist(rendered: RenderedOffer) -> None:
    declared = set(rendered.main_template["parameters"])
    names = {
        value
        for key, value in vars(TemplateParameter).items()
        if key.isupper() and isinstance(value, str)
    }
    assert names <= declared
    assert declared >= TemplateParameter.SECURE


def test_outputs_and_parameters_match_one_to_one(rendered: RenderedOffer) -> None:
    parameters = rendered.main_template["parameters"]
    outputs = rendered.ui_definition["parameters"]["outputs"]
    assert set(outputs) <= set(parameters)
    required = {name for name, p in parameters.items() if "defaultValue" not in p}
    assert required <= set(outputs)
    assert outputs["location"] == "[location()]"


def test_offer_values_reach_both_files(rendered: RenderedOffer, offer: Offer) -> None:
    parameters = rendered.main_template["parameters"]
    assert parameters["vmSize"]["allowedValues"] == list(offer.sizes)
    assert parameters["vmSize"]["defaultValue"] == "Standard_DC2s_v3"
    assert parameters["location"]["allowedValues"] == list(offer.regions)
    assert parameters["attestationType"]["defaultValue"] == "DCAP"
    config = rendered.ui_definition["parameters"]["config"]
    assert config["basics"]["location"]["allowedValues"] == [
        "eastus",
        "uksouth",
        "canadacentral",
    ]
    node_step = rendered.ui_definition["parameters"]["steps"][0]["elements"]
    by_name = {element["name"]: element for element in node_step}
    assert by_name["vmSize"]["constraints"]["allowedSizes"] == list(offer.sizes)
    assert by_name["vmSize"]["recommendedSizes"][0] == "Standard_DC2s_v3"
    assert by_name["attestationType"]["defaultValue"] == "DCAP (recommended)"
    assert "April 2025" in by_name["epidWarning"]["options"]["text"]
    assert by_name["epidWarning"]["options"]["icon"] == "Warning"
    assert by_name["joinToken"]["type"] == "Microsoft.Common.PasswordBox"
    images = rendered.main_template["variables"]["imageReferences"]
    assert images == {key: image.image_reference() for key, image in IMAGES.items()}


def test_vm_has_no_security_profile_and_gen2_latest(rendered: RenderedOffer) -> None:
    vm = next(
        r
        for r in rendered.main_template["resources"]
        if r["type"] == "Microsoft.Compute/virtualMachines"
    )
    assert "securityProfile" not in vm["properties"]
    for image in rendered.main_template["variables"]["imageReferences"].values():
        assert image["version"] == "latest"
        assert image["sku"].endswith("-gen2")


def test_bootstrap_is_embedded_and_token_only_protected(
    rendered: RenderedOffer,
) -> None:
    template = rendered.main_template
    embedded = base64.b64decode(template["variables"]["bootstrapScript"])
    assert embedded == bootstrap_script()
    command = command_of(template)
    assert "base64(parameters('joinToken'))" in command
    assert "--attestation-type ', parameters('attestationType')" in command
    assert template["parameters"]["joinToken"]["type"] == "securestring"
    assert "defaultValue" not in template["parameters"]["joinToken"]
    text = rendered.files[MAIN_TEMPLATE].decode()
    assert text.count("parameters('joinToken')") == 1


def test_without_installer_no_installer_arguments(rendered: RenderedOffer) -> None:
    assert "installerArguments" not in rendered.main_template["variables"]
    assert "_artifactsLocation" not in rendered.main_template["parameters"]


def test_installer_url_is_base64_with_checksum(offer: Offer) -> None:
    url = "https://downloads.example.org/ccm/installer.tar.gz?x=1&y='2'"
    sha = "a" * 64
    rendered = render_offer(offer.with_installer(url=url, sha256=sha))
    arguments = rendered.main_template["variables"]["installerArguments"]
    encoded = base64.b64encode(url.encode()).decode()
    assert arguments == f" --installer-url-b64 {encoded} --installer-sha256 {sha}"
    assert "variables('installerArguments')" in command_of(rendered.main_template)
    assert url not in rendered.files[MAIN_TEMPLATE].decode()


def test_installer_archive_is_an_artifact(offer: Offer, tmp_path: Path) -> None:
    archive = tmp_path / "ccm-node-agent-installer.tar.gz"
    archive.write_bytes(b"\x1f\x8b then the compressed installer")
    rendered = render_offer(offer.with_archive(archive))
    template = rendered.main_template
    assert template["parameters"]["_artifactsLocation"]["defaultValue"] == (
        "[deployment().properties.templateLink.uri]"
    )
    assert template["parameters"]["_artifactsLocationSasToken"] == {
        "type": "securestring",
        "defaultValue": "",
        "metadata": {
            "description": "SAS token for the artifacts location; the Marketplace "
            "sets it."
        },
    }
    extension = next(
        r
        for r in template["resources"]
        if r["type"] == "Microsoft.Compute/virtualMachines/extensions"
    )
    protected = extension["properties"]["protectedSettings"]
    assert protected["fileUris"] == [
        "[uri(parameters('_artifactsLocation'), concat('artifacts/"
        "ccm-node-agent-installer.tar.gz', parameters('_artifactsLocationSasToken')))]"
    ]
    assert (
        "--installer-file ccm-node-agent-installer.tar.gz"
        in (template["variables"]["installerArguments"])
    )
    assert rendered.artifacts == {"artifacts/ccm-node-agent-installer.tar.gz": archive}


@pytest.mark.parametrize("name", ["bad name.tgz", "x;rm.tgz"])
def test_installer_archive_name_is_checked(
    offer: Offer, tmp_path: Path, name: str
) -> None:
    from ccm_azure.errors import OfferError

    archive = tmp_path / name
    archive.write_bytes(b"x")
    with pytest.raises(OfferError, match="rename the file"):
        offer.with_archive(archive)


def test_pid_deployment_and_recent_api_versions(rendered: RenderedOffer) -> None:
    resources = rendered.main_template["resources"]
    pid = resources[0]
    assert pid["type"] == "Microsoft.Resources/deployments"
    assert pid["name"] == "pid-7aa4ce91-e5ae-4e58-b8eb-99758cc44131"
    assert pid["properties"]["template"]["resources"] == []
    for resource in resources:
        assert resource["apiVersion"] >= "2025-01-01", resource["type"]


def test_nsg_denies_agent_port_and_has_no_ssh_by_default(
    rendered: RenderedOffer,
) -> None:
    variables = rendered.main_template["variables"]
    deny = variables["agentPortDenyRule"]["properties"]
    assert (deny["access"], deny["direction"], deny["destinationPortRange"]) == (
        "Deny",
        "Inbound",
        "9092",
    )
    assert deny["sourceAddressPrefix"] == "*"
    assert deny["priority"] == 100
    assert (
        rendered.main_template["parameters"]["sshSourceAddressPrefix"]["defaultValue"]
        == ""
    )
    nsg = next(
        r
        for r in rendered.main_template["resources"]
        if r["type"] == "Microsoft.Network/networkSecurityGroups"
    )
    rules = nsg["properties"]["securityRules"]
    assert rules.startswith("[if(empty(parameters('sshSourceAddressPrefix')), ")
    assert "createArray(variables('agentPortDenyRule'))," in rules


def test_ssh_source_pattern() -> None:
    import re

    from ccm_azure.offer import SSH_SOURCE_PATTERN

    accepted = ["", "203.0.113.7", "203.0.113.0/24", "10.0.0.0/8", "1.2.3.4/32"]
    refused = ["*", "Internet", "0.0.0.0", "0.0.0.0/0", "10.0.0.0/0", "8.0.0.0/1"]
    refused += ["256.1.1.1", "1.2.3", "1.2.3.4/33", "1.2.3.4\n"]
    for value in accepted:
        assert re.fullmatch(SSH_SOURCE_PATTERN, value), value
    for value in refused:
        assert not re.fullmatch(SSH_SOURCE_PATTERN, value), value


def test_public_ip_names_fall_back_when_the_form_sends_none(
    rendered: RenderedOffer,
) -> None:
    # With "None" picked, the portal sends empty name and label: the template must
    # still produce valid names, because ARM validates conditional resources too.
    template = rendered.main_template
    assert template["parameters"]["publicIpName"]["defaultValue"] == ""
    assert template["parameters"]["publicIpDnsLabel"]["defaultValue"] == ""
    deployment = Deployment(template, adminUsername="azureuser", publicIpName="")
    pip = resource_of(template, "Microsoft.Network/publicIPAddresses")
    assert deployment.copies(pip) == ["ccm-node-ip"]
    labels = [n["publicIpDnsLabel"] for n in deployment.variable("nodes")]
    assert labels == [f"ccm-ccm-node-{UNIQUE_STRING}"]


def test_extension_waits_for_the_labels(rendered: RenderedOffer) -> None:
    extension = next(
        r
        for r in rendered.main_template["resources"]
        if r["type"] == "Microsoft.Compute/virtualMachines/extensions"
    )
    assert any("'Microsoft.Resources/tags'" in d for d in extension["dependsOn"])
