"""`ccm-azure status` end to end through the real entry point, replaying cassettes."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import recording
from conftest import CANARY_TOKEN, FakeCredential
from deploying import Outcome, assert_one_line_error, interactions, run

from ccm_azure.deploy.runner import DeploymentReads
from ccm_azure.errors import ExitCode

SUBSCRIPTION = recording.SUBSCRIPTION
REPLAY = pytest.mark.vcr(record_mode="none")
OUTPUTS = {
    "nodes": [
        {
            "vmName": "ccm-node",
            "privateIpAddress": "10.0.0.4",
            "publicIpAddress": "20.121.40.17",
            "fqdn": "ccm-ccm-node-4kq2xz7hyb3bs.eastus.cloudapp.azure.com",
            "sshCommand": (
                "ssh azureuser@ccm-ccm-node-4kq2xz7hyb3bs.eastus.cloudapp.azure.com"
            ),
        }
    ]
}


def status(
    credential: Any, *arguments: str, debug: bool = False, polling_interval: float = 0
) -> Outcome:
    return run(
        [*arguments, "--subscription", SUBSCRIPTION],
        credential,
        polling_interval,
        debug=debug,
        command="status",
    )


def assert_no_secret_parameter(result: Outcome, logs: pytest.LogCaptureFixture) -> None:
    """The deployment body names two SecureString parameters: nothing of them shows."""
    for text in (result.stdout, result.stderr):
        assert "SecureString" not in text
        assert "joinToken" not in text
        assert "adminPasswordOrKey" not in text
        assert CANARY_TOKEN not in text
    assert CANARY_TOKEN not in logs.text


# --- succeeded ------------------------------------------------------------------------


@REPLAY
@pytest.mark.default_cassette("status_succeeded.yaml")
def test_succeeded_shows_state_times_outputs_and_operations(
    vcr: Any, fake_credential: FakeCredential, debug_logs: pytest.LogCaptureFixture
) -> None:
    result = status(fake_credential, "ccm-node", "--region", "eastus", debug=True)

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["name"] == "ccm-azure-ccm-node"
    assert report["resourceGroup"] == "ccm-node-eastus"
    assert report["state"] == "Succeeded"
    # timestamp 09:17:41.33 minus duration 3 min 37.24 s
    assert report["started"] == "2026-05-12T09:14:04Z"
    assert report["durationSeconds"] == 217
    assert report["outputs"] == OUTPUTS
    operations = report["operations"]
    assert [op["resourceType"] for op in operations][:2] == [
        "Microsoft.Resources/deployments",
        "Microsoft.Network/networkSecurityGroups",
    ]
    assert {op["state"] for op in operations} == {"Succeeded"}
    assert operations[-1]["resourceName"] == "EvaluateDeploymentOutput"
    # An extension resource is named with its parent: a fleet's rows stay apart.
    (tags,) = [op for op in operations if op["resourceType"].endswith("/tags")]
    assert tags["resourceName"] == "ccm-node/default"
    assert len(operations) == 9
    assert vcr.all_played
    assert interactions(vcr) == [
        "GET /subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/"
        "ccm-node-eastus/providers/Microsoft.Resources/deployments/ccm-azure-ccm-node",
        "GET /subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/"
        "ccm-node-eastus/deployments/ccm-azure-ccm-node/operations",
    ]
    assert_no_secret_parameter(result, debug_logs)


@REPLAY
@pytest.mark.default_cassette("status_succeeded.yaml")
def test_the_deployment_name_works_as_well_as_the_node_name(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = status(fake_credential, "ccm-azure-ccm-node", "-g", "ccm-node-eastus")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["outputs"] == OUTPUTS
    assert vcr.all_played


@REPLAY
@pytest.mark.default_cassette("status_succeeded.yaml")
def test_table_output_reads_as_facts_outputs_and_operations(
    fake_credential: FakeCredential,
) -> None:
    result = status(fake_credential, "ccm-node", "-l", "eastus", "-o", "table")

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "Deployment:      ccm-azure-ccm-node",
        "Resource group:  ccm-node-eastus",
        "State:           Succeeded",
        "Started:         2026-05-12T09:14:04Z",
        "Duration:        3 min 37 s",
    ]
    assert "Outputs" in lines
    assert any(
        re.match(r"^ccm-node +10\.0\.0\.4 +20\.121\.40\.17 ", line) for line in lines
    )
    header = lines[lines.index("Operations") + 1]
    assert re.match(r"^Resource type +Name +State +Status +Error$", header)
    assert any(
        re.match(r"^Microsoft.Compute/virtualMachines +ccm-node +Succeeded +OK +-$", x)
        for x in lines
    )


# --- running --------------------------------------------------------------------------


@REPLAY
@pytest.mark.default_cassette("status_running.yaml")
def test_running_exits_0_with_the_operations_so_far_and_no_outputs(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = status(fake_credential, "ccm-node", "--region", "eastus")

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["state"] == "Running"
    assert "outputs" not in report
    assert report["durationSeconds"] == 59
    states = {op["resourceName"]: op["state"] for op in report["operations"]}
    assert states["ccm-node"] == "Running"
    assert states["ccm-node-vnet"] == "Succeeded"
    assert result.stderr == ""
    assert vcr.all_played


# --- failed and canceled --------------------------------------------------------------


@REPLAY
@pytest.mark.default_cassette("status_failed.yaml")
def test_failed_lists_the_operations_and_ends_with_the_deploy_error_line(
    vcr: Any, fake_credential: FakeCredential, debug_logs: pytest.LogCaptureFixture
) -> None:
    result = status(fake_credential, "ccm-node-2", "-g", "ccm-fleet", debug=True)

    assert result.exit_code == ExitCode.DEPLOYMENT_FAILED
    report = json.loads(result.stdout)
    assert report["state"] == "Failed"
    assert report["error"]["code"] == "DeploymentFailed"
    failed = [op for op in report["operations"] if op["state"] == "Failed"]
    assert failed == [
        {
            "resourceType": "Microsoft.Compute/virtualMachines/extensions",
            "resourceName": "ccm-node-2/install-node-agent",
            "state": "Failed",
            "statusCode": "Conflict",
            "errorCode": "VMExtensionProvisioningError",
        }
    ]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("ccm-azure: error: The deployment 'ccm-azure-ccm-node-2'")
    assert "VMExtensionProvisioningError" in line
    assert "Failed: Microsoft.Compute/virtualMachines/extensions/" in line
    assert "Next: the node agent did not install" in line
    assert "Traceback" not in result.stderr
    assert vcr.all_played
    assert_no_secret_parameter(result, debug_logs)


@REPLAY
@pytest.mark.default_cassette("status_failed_text_message.yaml")
def test_an_operation_whose_status_is_plain_text_is_still_reported(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = status(fake_credential, "ccm-node-2", "-g", "ccm-fleet")

    assert result.exception is None, result.exception
    assert result.exit_code == ExitCode.DEPLOYMENT_FAILED, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    operations = json.loads(result.stdout)["operations"]
    failed = [op for op in operations if op["state"] == "Failed"]
    assert [op["resourceName"] for op in failed] == ["ccm-node-2/install-node-agent"]
    assert "Failed: Microsoft.Compute/virtualMachines/extensions/ccm-node-2/" in line
    assert vcr.all_played


@REPLAY
@pytest.mark.default_cassette("status_canceled.yaml")
def test_canceled_exits_4_and_says_so(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = status(fake_credential, "ccm-azure-ccm-node-3", "-g", "ccm-fleet")

    assert result.exit_code == ExitCode.DEPLOYMENT_FAILED
    assert json.loads(result.stdout)["state"] == "Canceled"
    assert "was canceled before it finished" in result.stderr
    assert vcr.all_played


# --- not found ------------------------------------------------------------------------


@REPLAY
@pytest.mark.default_cassette("status_not_found.yaml")
def test_missing_deployment_says_what_was_looked_for_and_how_to_list(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = status(fake_credential, "ccm-node-9", "-g", "ccm-fleet")

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "No deployment 'ccm-azure-ccm-node-9' in resource group 'ccm-fleet'" in line
    assert "`az deployment group list -g ccm-fleet -o table`" in line
    # ccm-node-9 may be a node of the fleet ccm-node.
    assert (
        "is in the fleet's deployment, ccm-azure-ccm-node: give ccm-node as NAME"
        in line
    )
    assert vcr.all_played


@REPLAY
@pytest.mark.default_cassette("status_group_not_found.yaml")
def test_missing_resource_group_is_named(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = status(fake_credential, "ccm-node", "--region", "canadacentral")

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "Resource group 'ccm-node-canadacentral' does not exist" in line
    assert "-g" in line
    assert vcr.all_played


# --- --wait ---------------------------------------------------------------------------


@REPLAY
@pytest.mark.default_cassette("status_wait.yaml")
def test_wait_follows_running_to_succeeded(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = status(fake_credential, "ccm-node", "--region", "eastus", "--wait")

    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["state"] == "Succeeded"
    assert report["outputs"] == OUTPUTS
    assert "Deploying ccm-azure-ccm-node: Running" in result.stderr
    assert "Deploying ccm-azure-ccm-node: Succeeded" in result.stderr
    assert vcr.all_played
    assert vcr.play_count == 4


@REPLAY
@pytest.mark.default_cassette("status_wait.yaml")
def test_ctrl_c_during_wait_exits_130_and_says_the_deployment_goes_on(
    vcr: Any, fake_credential: FakeCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = 0
    original = DeploymentReads.wait

    def interrupted_after_one_read(self: Any, timeout: float | None = None) -> None:
        nonlocal reads
        reads += 1
        if reads > 1:
            raise KeyboardInterrupt
        original(self, timeout)

    monkeypatch.setattr(DeploymentReads, "wait", interrupted_after_one_read)

    result = status(fake_credential, "ccm-node", "--region", "eastus", "--wait")

    line = assert_one_line_error(result, ExitCode.INTERRUPTED)
    assert "which goes on in Azure" in line
    assert "ccm-azure status ccm-azure-ccm-node -g ccm-node-eastus --wait" in line
    assert vcr.play_count == 2


# --- bad input: one line, exit 2, no request ------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["ccm-node"], "Give the resource group of the deployment with -g"),
        (["ccm-node", "--region", "eastus:2"], "give the region alone"),
        (["ccm-node", "--region", "westus"], "westus"),
        (["ccm-node", "-g", "a", "--region", "eastus"], "give only one of them"),
        (["node_1", "-g", "ccm-fleet"], "VM name 'node_1' is not valid"),
        (["ccm-azure-", "-g", "ccm-fleet"], "names no node"),
        (["ccm-node", "-g", ""], "-g/--resource-group is empty"),
    ],
    ids=[
        "no group",
        "region with a count",
        "region the offer is not sold in",
        "group and region",
        "bad name",
        "prefix only",
        "empty group",
    ],
)
def test_bad_input_is_one_line_exit_2_and_reaches_no_azure(
    arguments: list[str], expected: str
) -> None:
    result = run(
        [*arguments, "--subscription", SUBSCRIPTION],
        factory=lambda: pytest.fail("a credential was built for bad input"),
        command="status",
    )

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert expected in line


# --- offline --------------------------------------------------------------------------


PROBE = """
import sys
from click.testing import CliRunner
from ccm_azure.cli import main_group
for command in ("status", "delete"):
    result = CliRunner().invoke(main_group, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "NAME" in result.output and "--resource-group" in result.output
banned = ("azure", "msal", "rich")
loaded = [name for name in sys.modules if name.split(".")[0] in banned]
print(loaded)
"""


def test_help_of_status_and_delete_imports_no_azure_sdk() -> None:
    import subprocess
    import sys

    completed = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )

    assert completed.stdout.strip() == "[]"


def test_azure_out_of_reach_during_a_read_says_nothing_goes_on() -> None:
    from azure.core.exceptions import ServiceRequestError

    from ccm_azure.deploy import lookup

    target = lookup.Target(
        subscription_id=SUBSCRIPTION,
        resource_group="ccm-fleet",
        deployment_name="ccm-azure-ccm-node-9",
    )

    mapped = lookup.refused(
        ServiceRequestError("Failed to resolve 'management.azure.com'"),
        target.situation(),
        "read the deployment",
    )

    assert mapped.exit_code == ExitCode.AZURE_UNAVAILABLE
    assert "Could not reach Azure Resource Manager" in str(mapped)
    assert "goes on" not in str(mapped)
