"""A fleet's life after `deploy --count`, replayed: status, delete, several regions.

One deployment holds a fleet's nodes (NAME-1 ... NAME-N, each with its NIC, public IP,
Custom Script extension and tags, all on one VNet and NSG). These tests follow such a
deployment through `status --wait` to a failure of one node, through `delete` of its
whole resource group or of only its resources beside another deployment, through
`deploy --no-wait` in two regions and `status --wait` of one of them, and through a
preflight whose Resource SKU list comes in two pages.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest
import recording
from conftest import PREFLIGHT_PASSES, FakeCredential, NodeArguments
from deploying import Outcome, all_played, assert_no_canary, run

from ccm_azure.errors import ExitCode

pytestmark = pytest.mark.vcr(record_mode="none")

SUBSCRIPTION = recording.SUBSCRIPTION
GROUP = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ccm-node-eastus/providers"
NODES = ("ccm-node-1", "ccm-node-2", "ccm-node-3")
FOLLOW_UKSOUTH = (
    "ccm-azure status ccm-azure-ccm-node -g ccm-node-uksouth --subscription "
    f"{SUBSCRIPTION} --wait"
)
"""The command `deploy --no-wait` prints to follow the uksouth deployment."""


def command(
    name: str, credential: Any, *arguments: str, debug: bool = False
) -> Outcome:
    return run(
        [*arguments, "--subscription", SUBSCRIPTION],
        credential,
        command=name,
        debug=debug,
    )


def deletes(sent: list[str]) -> list[str]:
    return [line.removeprefix("DELETE ") for line in sent if line.startswith("DELETE")]


# --- delete: the whole resource group -------------------------------------------------


@pytest.mark.default_cassette("lifecycle_delete_fleet_whole_group.yaml")
def test_a_fleets_own_group_goes_whole_with_every_nodes_resources(
    vcr: Any, fake_credential: FakeCredential, one_request_at_a_time: list[str]
) -> None:
    result = command("delete", fake_credential, "ccm-node", "--region", "eastus", "-y")

    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Deleted resource group 'ccm-node-eastus' with its 17 resources and "
        "deployment 'ccm-azure-ccm-node'.\n"
    )
    plan = result.stderr
    assert (
        f"This deletes resource group 'ccm-node-eastus' (subscription {SUBSCRIPTION}), "
        "which ccm-azure created for deployment 'ccm-azure-ccm-node', and everything "
        "in it:\n" in plan
    )
    for node in NODES:
        assert f"  Microsoft.Compute/disks/{node}_OsDisk_1_" in plan
        assert f"  Microsoft.Compute/virtualMachines/{node}\n" in plan
        assert f"  Microsoft.Network/networkInterfaces/{node}-nic\n" in plan
        assert f"  Microsoft.Network/publicIPAddresses/{node}-ip\n" in plan
    assert "  Microsoft.Network/networkSecurityGroups/ccm-node-nsg\n" in plan
    assert "  Microsoft.Network/virtualNetworks/ccm-node-vnet\n" in plan
    assert "Deleting resource group ccm-node-eastus: Succeeded" in plan
    # One DELETE, of the group: no resource is deleted one by one.
    assert deletes(one_request_at_a_time) == [
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/ccm-node-eastus"
    ]
    assert vcr.all_played


# --- delete: only the fleet's resources, beside another deployment --------------------


@pytest.mark.default_cassette("lifecycle_delete_fleet_beside_another.yaml")
def test_beside_another_deployment_only_the_fleets_resources_go_vnet_kept(
    vcr: Any, fake_credential: FakeCredential, one_request_at_a_time: list[str]
) -> None:
    result = command("delete", fake_credential, "ccm-node", "--region", "eastus", "-y")

    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.stderr
    # Every VM first, then their NICs, their public IPs, the fleet's NSG, the record;
    # the VNet that ccm-azure-ccm-edge also lists stays, and so does pid-..., which
    # belongs to ccm-edge too.
    assert deletes(one_request_at_a_time) == [
        *(f"{GROUP}/Microsoft.Compute/virtualMachines/{node}" for node in NODES),
        *(f"{GROUP}/Microsoft.Network/networkInterfaces/{node}-nic" for node in NODES),
        *(f"{GROUP}/Microsoft.Network/publicIPAddresses/{node}-ip" for node in NODES),
        f"{GROUP}/Microsoft.Network/networkSecurityGroups/ccm-node-nsg",
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/ccm-node-eastus/providers/"
        "Microsoft.Resources/deployments/ccm-azure-ccm-node",
    ]
    assert vcr.all_played
    plan = result.stderr
    for node in NODES:
        assert (
            f"  Microsoft.Compute/virtualMachines/{node}\n"
            f"    with Microsoft.Compute/virtualMachines/extensions/{node}/"
            "install-node-agent\n"
            "    with Microsoft.Resources/tags/default\n" in plan
        )
    assert (
        "  deployment record ccm-azure-ccm-node\n"
        "It keeps:\n"
        "  Microsoft.Network/virtualNetworks/ccm-node-vnet (also in "
        "ccm-azure-ccm-edge)\n" in plan
    )
    assert "pid-" not in plan
    assert "ccm-edge-" not in plan  # nothing of the other node is touched
    assert result.stdout == (
        "Deleted 16 resources of deployment 'ccm-azure-ccm-node' from resource group "
        "'ccm-node-eastus', and the deployment record ccm-azure-ccm-node. Kept: "
        "Microsoft.Network/virtualNetworks/ccm-node-vnet (also in "
        "ccm-azure-ccm-edge).\n"
    )


# --- status --wait: one node of the fleet fails ---------------------------------------


@pytest.mark.default_cassette("lifecycle_status_fleet_failed.yaml")
def test_wait_on_a_fleet_that_fails_in_one_nodes_extension_names_that_node(
    vcr: Any, fake_credential: FakeCredential, debug_logs: pytest.LogCaptureFixture
) -> None:
    result = command(
        "status",
        fake_credential,
        "ccm-node",
        "--region",
        "eastus",
        "--wait",
        debug=True,
    )

    assert result.exception is None, result.exception
    assert result.exit_code == ExitCode.DEPLOYMENT_FAILED, result.stderr
    report = json.loads(result.stdout)
    assert (report["name"], report["state"]) == ("ccm-azure-ccm-node", "Failed")
    assert report["error"]["code"] == "DeploymentFailed"
    assert "outputs" not in report
    rows = {
        (op["resourceType"], op["resourceName"]): (op["state"], op["errorCode"])
        for op in report["operations"]
    }
    for node in NODES:
        assert rows[("Microsoft.Compute/virtualMachines", node)] == ("Succeeded", "")
        assert rows[("Microsoft.Network/networkInterfaces", f"{node}-nic")] == (
            "Succeeded",
            "",
        )
        assert rows[("Microsoft.Network/publicIPAddresses", f"{node}-ip")] == (
            "Succeeded",
            "",
        )
        assert rows[("Microsoft.Resources/tags", f"{node}/default")] == (
            "Succeeded",
            "",
        )
    extensions = "Microsoft.Compute/virtualMachines/extensions"
    assert rows[(extensions, "ccm-node-1/install-node-agent")] == ("Succeeded", "")
    assert rows[(extensions, "ccm-node-2/install-node-agent")] == (
        "Failed",
        "VMExtensionProvisioningError",
    )
    assert rows[(extensions, "ccm-node-3/install-node-agent")] == ("Succeeded", "")
    assert len(rows) == 18  # 5 per node, the NSG, the VNet and pid-...

    lines = result.stderr.strip().splitlines()
    assert "Deploying ccm-azure-ccm-node: Running" in lines  # --debug logs around it
    errors = [line for line in lines if line.startswith("ccm-azure:")]
    assert errors == [lines[-1]]
    line = lines[-1]
    assert line.startswith(
        "ccm-azure: error: The deployment 'ccm-azure-ccm-node' in resource group "
        "'ccm-node-eastus' failed (DeploymentFailed): "
    )
    assert "the join token has expired or was revoked" in line
    assert (
        " Failed: Microsoft.Compute/virtualMachines/extensions/ccm-node-2/"
        "install-node-agent (VMExtensionProvisioningError). Next: the node agent did "
        "not install" in line
    )
    assert "ccm-node-1" not in line and "ccm-node-3" not in line
    assert "Traceback" not in result.stderr
    assert vcr.all_played
    assert vcr.play_count == 4  # Running, Running, Failed, then the operations
    assert "SecureString" not in result.stdout + result.stderr
    assert "joinToken" not in result.stdout + result.stderr + debug_logs.text


# --- deploy --no-wait in two regions, then status --wait of one -----------------------


def two_regions(node: NodeArguments, *extra: str) -> list[str]:
    """The node's arguments (--region eastus) with --region uksouth added."""
    return node("--region", "uksouth", *extra)


@PREFLIGHT_PASSES
@pytest.mark.default_cassette("lifecycle_no_wait_two_regions.yaml")
def test_no_wait_in_two_regions_returns_both_accepted_with_their_status_commands(
    vcr: Any,
    node: NodeArguments,
    fake_credential: FakeCredential,
    one_request_at_a_time: list[str],
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    result = run(two_regions(node, "--no-wait"), fake_credential, debug=True)

    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "region": region,
            "resourceGroup": f"ccm-node-{region}",
            "deployment": "ccm-azure-ccm-node",
            "state": "Accepted",
            "exitCode": 0,
            "error": "",
            "outputs": {},
        }
        for region in ("eastus", "uksouth")
    ]
    for region in ("eastus", "uksouth"):
        follow = FOLLOW_UKSOUTH.replace("uksouth", region)
        assert (
            f"{region}: Deployment ccm-azure-ccm-node is Accepted and goes on in "
            f"Azure; follow it with `{follow}`.\n" in result.stderr
        )
    # Nothing waits for the deployments: no status is read.
    assert not [line for line in one_request_at_a_time if "operationStatuses" in line]
    # The regions run side by side: each wrote its group and its deployment.
    writes = sorted(line for line in one_request_at_a_time if line.startswith("PUT"))
    assert writes == [
        f"PUT /subscriptions/{SUBSCRIPTION}/resourcegroups/ccm-node-{region}{what}"
        for region in ("eastus", "uksouth")
        for what in (
            "",
            "/providers/Microsoft.Resources/deployments/ccm-azure-ccm-node",
        )
    ]
    assert all_played(vcr)
    assert_no_canary(result, debug_logs)


@pytest.mark.parametrize(
    "arguments",
    [
        ["ccm-node", "--region", "uksouth", "--wait", "--subscription", SUBSCRIPTION],
        shlex.split(FOLLOW_UKSOUTH)[2:],
    ],
    ids=["node name and region", "the command deploy printed"],
)
@pytest.mark.default_cassette("lifecycle_follow_uksouth.yaml")
def test_status_wait_follows_a_no_wait_deployment_to_succeeded(
    vcr: Any, fake_credential: FakeCredential, arguments: list[str]
) -> None:
    result = run(arguments, fake_credential, command="status")

    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["resourceGroup"] == "ccm-node-uksouth"
    assert report["state"] == "Succeeded"
    assert report["durationSeconds"] == 210
    assert report["outputs"] == {
        "nodes": [
            {
                "vmName": "ccm-node",
                "privateIpAddress": "10.0.0.4",
                "publicIpAddress": "",
                "fqdn": "",
                "sshCommand": "ssh azureuser@10.0.0.4",
            }
        ]
    }
    assert result.stderr.splitlines() == [
        "Deploying ccm-azure-ccm-node: Accepted",
        "Deploying ccm-azure-ccm-node: Running",
        "Deploying ccm-azure-ccm-node: Succeeded after 0 s",
    ]
    assert vcr.all_played


# --- the preflight reads every page of the Resource SKU list --------------------------


@pytest.mark.default_cassette("lifecycle_sku_list_in_two_pages.yaml")
def test_the_chosen_size_on_the_second_sku_page_passes_the_preflight(
    vcr: Any,
    node: NodeArguments,
    fake_credential: FakeCredential,
    one_request_at_a_time: list[str],
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    result = run(node("--count", "3", "--no-wait"), fake_credential, debug=True)

    assert result.exception is None, result.exception
    assert result.exit_code == 0, result.stderr
    assert (
        "Preflight passed: Standard_DC2s_v3 is available in eastus; 3 nodes need 6 "
        "vCPUs: Standard DCSv3 Family vCPUs 0 of 100 in use, Total Regional vCPUs 2 "
        "of 100 in use." in result.stderr
    )
    assert json.loads(result.stdout) == {
        "resourceGroup": "ccm-node-eastus",
        "deployment": "ccm-azure-ccm-node",
        "state": "Accepted",
    }
    skus = f"GET /subscriptions/{SUBSCRIPTION}/providers/Microsoft.Compute/skus"
    assert one_request_at_a_time.count(skus) == 2  # the first page and the nextLink
    assert one_request_at_a_time[-1] == (
        f"PUT /subscriptions/{SUBSCRIPTION}/resourcegroups/ccm-node-eastus/providers/"
        "Microsoft.Resources/deployments/ccm-azure-ccm-node"
    )
    assert all_played(vcr)  # both pages were read
    assert_no_canary(result, debug_logs)
