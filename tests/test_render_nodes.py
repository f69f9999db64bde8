"""Fleets: nodeCount nodes from one deployment, each with its own resources.

The names are worked out from the rendered template as ARM would (see
template_evaluation), for one node, three nodes and the most nodes allowed.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from template_evaluation import UNIQUE_STRING, Deployment, resource_id

from ccm_azure.offer import MAX_NODES, VM_NAME_MAX_LENGTH, TemplateParameter
from ccm_azure.render import (
    DNS_LABEL_MAX_LENGTH,
    PUBLIC_IP_NAME_MAX_LENGTH,
    RenderedOffer,
)

Json = dict[str, Any]

VM = "Microsoft.Compute/virtualMachines"
EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
TAGS = "Microsoft.Resources/tags"
NIC = "Microsoft.Network/networkInterfaces"
PUBLIC_IP = "Microsoft.Network/publicIPAddresses"
PER_NODE = (VM, EXTENSION, TAGS, NIC, PUBLIC_IP)
SHARED = (
    "Microsoft.Resources/deployments",
    "Microsoft.Network/networkSecurityGroups",
    "Microsoft.Network/virtualNetworks",
)
LOOP = "[parameters('nodeCount')]"
JOIN_TOKEN = "made-up-join-token-0123456789"

DNS_LABEL = re.compile(r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
"""Azure's rule for a public IP's DNS label."""
LINUX_VM_NAME_MAX_LENGTH = 64
"""Azure's limit for a Linux VM's name and its computer (host) name."""


def resource(template: Json, resource_type: str) -> Json:
    found = [r for r in template["resources"] if r["type"] == resource_type]
    assert len(found) == 1, resource_type
    return found[0]


def deploy(template: Json, nodes: int, **parameters: Any) -> Deployment:
    values = {
        "adminUsername": "azureuser",
        "publicIpNewOrNone": "new",
        "nodeCount": nodes,
        **parameters,
    }
    return Deployment(template, **values)


def names(template: Json, deployment: Deployment) -> dict[str, list[Any]]:
    """The name of every per-node resource, node by node."""
    nodes = deployment.variable("nodes")
    vm = resource(template, VM)
    return {
        "vm": deployment.copies(vm),
        "computer": [
            deployment.value(vm["properties"]["osProfile"]["computerName"], i)
            for i in range(len(nodes))
        ],
        "nic": deployment.copies(resource(template, NIC)),
        "public_ip": deployment.copies(resource(template, PUBLIC_IP)),
        "dns_label": [node["publicIpDnsLabel"] for node in nodes],
        "extension": deployment.copies(resource(template, EXTENSION)),
        "labels_scope": deployment.copies(resource(template, TAGS), "scope"),
    }


def test_node_count_parameter(rendered: RenderedOffer) -> None:
    parameter = rendered.main_template["parameters"][TemplateParameter.NODE_COUNT]
    assert {k: v for k, v in parameter.items() if k != "metadata"} == {
        "type": "int",
        "defaultValue": 1,
        "minValue": 1,
        "maxValue": MAX_NODES,
    }
    assert "vCPU quota" in parameter["metadata"]["description"]


def test_per_node_resources_loop_over_the_node_count(rendered: RenderedOffer) -> None:
    template = rendered.main_template
    loops = []
    for resource_type in PER_NODE:
        loop = resource(template, resource_type)["copy"]
        assert loop["count"] == LOOP, resource_type
        loops.append(loop["name"])
    assert len(set(loops)) == len(PER_NODE)
    for resource_type in SHARED:
        assert "copy" not in resource(template, resource_type), resource_type


def test_one_node_keeps_the_names_of_a_single_node_deployment(
    rendered: RenderedOffer,
) -> None:
    # An existing single-node deployment run again must update the same resources.
    template = rendered.main_template
    deployment = deploy(template, 1)

    assert names(template, deployment) == {
        "vm": ["ccm-node"],
        "computer": ["ccm-node"],
        "nic": ["ccm-node-nic"],
        "public_ip": ["ccm-node-ip"],
        "dns_label": [f"ccm-ccm-node-{UNIQUE_STRING}"],
        "extension": ["ccm-node/install-node-agent"],
        "labels_scope": ["Microsoft.Compute/virtualMachines/ccm-node"],
    }
    nsg = resource(template, "Microsoft.Network/networkSecurityGroups")
    assert deployment.value(nsg["name"]) == "ccm-node-nsg"


def test_one_node_keeps_the_public_ip_name_and_label_the_form_gives(
    rendered: RenderedOffer,
) -> None:
    template = rendered.main_template
    long_name = "n" * PUBLIC_IP_NAME_MAX_LENGTH
    long_label = "l" * DNS_LABEL_MAX_LENGTH
    deployment = deploy(
        template, 1, publicIpName=long_name, publicIpDnsLabel=long_label
    )

    found = names(template, deployment)
    assert found["public_ip"] == [long_name]
    assert found["dns_label"] == [long_label]


def test_three_nodes_are_numbered(rendered: RenderedOffer) -> None:
    template = rendered.main_template
    deployment = deploy(template, 3, vmName="sgx")

    assert names(template, deployment) == {
        "vm": ["sgx-1", "sgx-2", "sgx-3"],
        "computer": ["sgx-1", "sgx-2", "sgx-3"],
        "nic": ["sgx-1-nic", "sgx-2-nic", "sgx-3-nic"],
        "public_ip": ["sgx-1-ip", "sgx-2-ip", "sgx-3-ip"],
        "dns_label": [f"ccm-sgx-{n}-{UNIQUE_STRING}" for n in (1, 2, 3)],
        "extension": [f"sgx-{n}/install-node-agent" for n in (1, 2, 3)],
        "labels_scope": [
            f"Microsoft.Compute/virtualMachines/sgx-{n}" for n in (1, 2, 3)
        ],
    }


def test_three_nodes_number_the_public_ip_name_and_label_the_form_gives(
    rendered: RenderedOffer,
) -> None:
    template = rendered.main_template
    deployment = deploy(
        template, 3, publicIpName="fleet-ip", publicIpDnsLabel="contoso-fleet"
    )

    found = names(template, deployment)
    assert found["public_ip"] == ["fleet-ip-1", "fleet-ip-2", "fleet-ip-3"]
    assert found["dns_label"] == [
        "contoso-fleet-1",
        "contoso-fleet-2",
        "contoso-fleet-3",
    ]


@pytest.mark.parametrize("given", [False, True], ids=["derived", "given"])
def test_the_longest_names_are_unique_and_fit_azure_limits(
    rendered: RenderedOffer, given: bool
) -> None:
    template = rendered.main_template
    chosen = {
        "publicIpName": "p" * PUBLIC_IP_NAME_MAX_LENGTH if given else "",
        "publicIpDnsLabel": "d" * DNS_LABEL_MAX_LENGTH if given else "",
    }
    deployment = deploy(template, MAX_NODES, vmName="v" * VM_NAME_MAX_LENGTH, **chosen)

    found = names(template, deployment)
    for kind, values in found.items():
        assert len(set(values)) == MAX_NODES, kind
    assert max(map(len, found["vm"])) <= LINUX_VM_NAME_MAX_LENGTH
    assert max(map(len, found["computer"])) <= LINUX_VM_NAME_MAX_LENGTH
    assert max(map(len, found["public_ip"])) <= PUBLIC_IP_NAME_MAX_LENGTH
    for label in found["dns_label"]:
        assert DNS_LABEL.fullmatch(label), label


def test_each_node_depends_on_its_own_resources(rendered: RenderedOffer) -> None:
    template = rendered.main_template
    deployment = deploy(template, 3)
    vm, nic = resource(template, VM), resource(template, NIC)
    extension = resource(template, EXTENSION)

    for i in range(3):
        node = f"ccm-node-{i + 1}"
        vm_id = resource_id(VM, node)
        nic_id = resource_id(NIC, f"{node}-nic")
        public_ip_id = resource_id(PUBLIC_IP, f"{node}-ip")
        labels_id = f"{vm_id}/providers/{TAGS}/default"

        assert [deployment.value(d, i) for d in vm["dependsOn"]] == [nic_id]
        interface = vm["properties"]["networkProfile"]["networkInterfaces"][0]
        assert deployment.value(interface["id"], i) == nic_id
        assert public_ip_id in [deployment.value(d, i) for d in nic["dependsOn"]]
        configuration = nic["properties"]["ipConfigurations"][0]["properties"]
        address = deployment.value(configuration["publicIPAddress"], i)
        assert address == {"id": public_ip_id}
        assert [deployment.value(d, i) for d in extension["dependsOn"]] == [
            vm_id,
            labels_id,
        ]


def test_without_public_ips_no_node_points_at_one(rendered: RenderedOffer) -> None:
    template = rendered.main_template
    deployment = deploy(template, 2, publicIpNewOrNone="none")
    nic = resource(template, NIC)
    configuration = nic["properties"]["ipConfigurations"][0]["properties"]

    assert [deployment.value(configuration["publicIPAddress"], i) for i in (0, 1)] == [
        None,
        None,
    ]
    condition = resource(template, PUBLIC_IP)["condition"]
    assert deployment.value(condition) is False


def test_every_node_gets_the_token_only_in_protected_settings(
    rendered: RenderedOffer,
) -> None:
    template = rendered.main_template
    deployment = deploy(template, 3, joinToken=JOIN_TOKEN, attestationType="DCAP")
    extension = resource(template, EXTENSION)
    encoded = base64.b64encode(JOIN_TOKEN.encode()).decode()

    for i in range(3):
        protected = extension["properties"]["protectedSettings"]
        command = deployment.value(protected["commandToExecute"], i)
        assert f"--join-token-b64 {encoded} " in command
        assert JOIN_TOKEN not in command
        assert extension["properties"]["settings"] == {"skipDos2Unix": True}
    text = rendered.files["mainTemplate.json"].decode()
    assert text.count("parameters('joinToken')") == 1


def test_outputs_list_every_node(rendered: RenderedOffer) -> None:
    template = rendered.main_template
    deployment = deploy(template, 3, vmName="sgx")

    assert list(template["outputs"]) == ["nodes"]
    output = template["outputs"]["nodes"]
    assert output["type"] == "array"
    assert output["copy"]["count"] == LOOP
    node = output["copy"]["input"]
    assert list(node) == [
        "vmName",
        "privateIpAddress",
        "publicIpAddress",
        "fqdn",
        "sshCommand",
    ]
    assert [deployment.value(node["vmName"], i) for i in range(3)] == [
        "sgx-1",
        "sgx-2",
        "sgx-3",
    ]
    nics = [f"sgx-{n}-nic" for n in (1, 2, 3)]
    for i, nic in enumerate(nics):
        # reference() is Azure's to answer; its argument names this node's NIC.
        private = node["privateIpAddress"]
        argument = private[len("[reference(") : private.index(", '")]
        assert deployment.value(f"[{argument}]", i) == resource_id(NIC, nic)


def basics_of(rendered: RenderedOffer) -> dict[str, Json]:
    return {e["name"]: e for e in rendered.ui_definition["parameters"]["basics"]}


def test_form_offers_the_node_count_and_passes_it(rendered: RenderedOffer) -> None:
    form = rendered.ui_definition["parameters"]
    control = basics_of(rendered)["nodeCount"]

    assert control["type"] == "Microsoft.Common.DropDown"
    values = control["constraints"]["allowedValues"]
    assert [v["value"] for v in values] == list(range(1, MAX_NODES + 1))
    assert [v["label"] for v in values[:2]] == ["1 node", "2 nodes"]
    assert control["defaultValue"] == "1 node"
    assert "vCPU quota" in control["toolTip"]
    assert form["outputs"][TemplateParameter.NODE_COUNT] == "[basics('nodeCount')]"
    size = next(e for e in form["steps"][0]["elements"] if e["name"] == "vmSize")
    assert size["count"] == "[basics('nodeCount')]"
    assert "vCPU quota" in size["toolTip"]
    names = [e["name"] for e in form["basics"]]
    assert names.index("nodeCount") == names.index("vmName") + 1
