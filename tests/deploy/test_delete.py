"""`ccm-azure delete` end to end through the real entry point, replaying cassettes."""

from __future__ import annotations

from typing import Any

import pytest
import recording
from conftest import CANARY_TOKEN, FakeCredential
from deploying import Outcome, assert_one_line_error, run

from ccm_azure.deploy import inputs
from ccm_azure.errors import ExitCode

SUBSCRIPTION = recording.SUBSCRIPTION
REPLAY = pytest.mark.vcr(record_mode="none")
FLEET = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/ccm-fleet/providers"


def delete(
    credential: Any, *arguments: str, stdin: str | None = None, debug: bool = False
) -> Outcome:
    return run(
        [*arguments, "--subscription", SUBSCRIPTION],
        credential,
        command="delete",
        stdin=stdin,
        debug=debug,
    )


def deletes(cassette: Any) -> list[str]:
    """The DELETE requests the command sent, by path."""
    return [
        r.path for r in cassette.requests[: cassette.play_count] if r.method == "DELETE"
    ]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A person at the keyboard: confirmation prompts are shown."""
    monkeypatch.setattr(inputs, "stdin_is_terminal", lambda: True)


# --- the whole resource group ---------------------------------------------------------


@REPLAY
@pytest.mark.default_cassette("delete_whole_group.yaml")
def test_a_group_created_for_this_deployment_goes_whole(
    vcr: Any, fake_credential: FakeCredential, debug_logs: pytest.LogCaptureFixture
) -> None:
    result = delete(
        fake_credential, "ccm-node", "--region", "eastus", "--yes", debug=True
    )

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "Deleted resource group 'ccm-node-eastus' with its 7 resources and deployment "
        "'ccm-azure-ccm-node'."
    )
    assert "This deletes resource group 'ccm-node-eastus'" in result.stderr
    # The plan names everything in the group, the OS disk too.
    assert "Microsoft.Compute/disks/ccm-node_OsDisk_1_" in result.stderr
    assert "Microsoft.Network/virtualNetworks/ccm-node-vnet" in result.stderr
    assert "Deleting resource group ccm-node-eastus: Succeeded" in result.stderr
    assert deletes(vcr) == [
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/ccm-node-eastus"
    ]
    assert vcr.all_played
    assert CANARY_TOKEN not in result.stdout + result.stderr + debug_logs.text
    assert "SecureString" not in result.stdout + result.stderr


@REPLAY
@pytest.mark.default_cassette("delete_whole_group.yaml")
def test_no_wait_starts_the_group_delete_and_returns(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = delete(fake_credential, "ccm-node", "-l", "eastus", "--yes", "--no-wait")

    assert result.exit_code == 0, result.stderr
    assert (
        "Deleting resource group 'ccm-node-eastus' with its 7 resources has started"
        in (result.stdout)
    )
    assert "az group wait --deleted -n ccm-node-eastus" in result.stdout
    assert len(deletes(vcr)) == 1
    assert vcr.play_count == 5  # no status poll of the delete
    assert not vcr.all_played


@REPLAY
@pytest.mark.default_cassette("delete_whole_group.yaml")
def test_declined_confirmation_deletes_nothing(
    vcr: Any, fake_credential: FakeCredential, terminal: None
) -> None:
    result = delete(fake_credential, "ccm-node", "--region", "eastus", stdin="n\n")

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "Nothing was deleted, since the deletion was not confirmed" in line
    assert "Delete all of this? [y/N]" in result.stderr
    assert "This deletes resource group 'ccm-node-eastus'" in result.stderr
    assert deletes(vcr) == []
    assert vcr.play_count == 4  # the reads that make the plan
    assert not vcr.all_played


@REPLAY
@pytest.mark.default_cassette("delete_whole_group.yaml")
def test_end_of_input_at_the_question_deletes_nothing(
    vcr: Any, fake_credential: FakeCredential, terminal: None
) -> None:
    result = delete(fake_credential, "ccm-node", "--region", "eastus", stdin="")

    line = assert_one_line_error(result, ExitCode.INTERRUPTED)
    assert line == "ccm-azure: error: Stopped at the question; nothing was deleted."
    assert deletes(vcr) == []


@REPLAY
@pytest.mark.default_cassette("delete_whole_group.yaml")
def test_confirmed_at_the_prompt_deletes(
    vcr: Any, fake_credential: FakeCredential, terminal: None
) -> None:
    result = delete(fake_credential, "ccm-node", "--region", "eastus", stdin="y\n")

    assert result.exit_code == 0, result.stderr
    assert len(deletes(vcr)) == 1
    assert vcr.all_played


@REPLAY
@pytest.mark.default_cassette("delete_whole_group.yaml")
def test_without_a_terminal_and_without_yes_it_refuses(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = delete(fake_credential, "ccm-node", "--region", "eastus")

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "pass --yes" in line
    assert "Nothing was deleted" in line
    # What would go is still shown, so the user can decide.
    assert "Microsoft.Compute/virtualMachines/ccm-node" in result.stderr
    assert deletes(vcr) == []


# --- the deployment's resources only --------------------------------------------------


@REPLAY
@pytest.mark.default_cassette("delete_shared_network.yaml")
def test_resources_only_when_other_deployments_share_the_group(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = delete(fake_credential, "ccm-node-2", "-g", "ccm-fleet", "--yes")

    assert result.exit_code == 0, result.stderr
    # VM first (its extension and tags go with it), then NIC, IP, NSG; VNet kept.
    assert deletes(vcr) == [
        f"{FLEET}/Microsoft.Compute/virtualMachines/ccm-node-2",
        f"{FLEET}/Microsoft.Network/networkInterfaces/ccm-node-2-nic",
        f"{FLEET}/Microsoft.Network/publicIPAddresses/ccm-node-2-ip",
        f"{FLEET}/Microsoft.Network/networkSecurityGroups/ccm-node-2-nsg",
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/ccm-fleet/providers/"
        "Microsoft.Resources/deployments/ccm-azure-ccm-node-2",
    ]
    assert vcr.all_played
    plan = result.stderr
    assert "This deletes from resource group 'ccm-fleet'" in plan
    assert (
        "  Microsoft.Compute/virtualMachines/ccm-node-2\n"
        "    with Microsoft.Compute/virtualMachines/extensions/ccm-node-2/"
        "install-node-agent\n"
        "    with Microsoft.Resources/tags/default\n"
        "  Microsoft.Network/networkInterfaces/ccm-node-2-nic\n" in plan
    )
    assert (
        "It keeps:\n  Microsoft.Network/virtualNetworks/ccm-node-vnet (also in "
        "ccm-azure-ccm-node-1)\n" in plan
    )
    assert "pid-" not in plan  # the tracking deployment stays for ccm-node-1
    summary = result.stdout.strip()
    assert summary.startswith(
        "Deleted 6 resources of deployment 'ccm-azure-ccm-node-2' from resource group "
        "'ccm-fleet', and the deployment record ccm-azure-ccm-node-2."
    )
    assert "Kept: Microsoft.Network/virtualNetworks/ccm-node-vnet" in summary


@REPLAY
@pytest.mark.default_cassette("delete_group_not_ours.yaml")
def test_a_group_someone_else_made_stays_and_the_network_goes_last(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = delete(fake_credential, "ccm-azure-ccm-node-2", "-g", "ccm-fleet", "-y")

    assert result.exit_code == 0, result.stderr
    assert deletes(vcr) == [
        f"{FLEET}/Microsoft.Compute/virtualMachines/ccm-node-2",
        f"{FLEET}/Microsoft.Network/networkInterfaces/ccm-node-2-nic",
        f"{FLEET}/Microsoft.Network/publicIPAddresses/ccm-node-2-ip",
        f"{FLEET}/Microsoft.Network/virtualNetworks/ccm-node-vnet",
        f"{FLEET}/Microsoft.Network/networkSecurityGroups/ccm-node-2-nsg",
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/ccm-fleet/providers/"
        "Microsoft.Resources/deployments/ccm-azure-ccm-node-2",
        f"/subscriptions/{SUBSCRIPTION}/resourcegroups/ccm-fleet/providers/"
        "Microsoft.Resources/deployments/pid-7aa4ce91-e5ae-4e58-b8eb-99758cc44131",
    ]
    assert vcr.all_played
    assert "Microsoft.Network/publicIPAddresses/ccm-node-2-ip is already gone." in (
        result.stderr
    )
    assert "It keeps:" not in result.stderr
    assert "deployment records ccm-azure-ccm-node-2, pid-7aa4ce91" in result.stdout


@REPLAY
@pytest.mark.default_cassette("delete_shared_network.yaml")
def test_no_wait_is_refused_when_resources_go_one_kind_after_another(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = delete(
        fake_credential, "ccm-node-2", "-g", "ccm-fleet", "--yes", "--no-wait"
    )

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "--no-wait works only when the whole resource group is deleted" in line
    assert deletes(vcr) == []


# --- a deployment still running -------------------------------------------------------


@REPLAY
@pytest.mark.default_cassette("delete_running.yaml")
def test_a_running_deployment_is_not_deleted(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = delete(fake_credential, "ccm-node", "--region", "eastus", "--yes")

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "is still Running" in line
    assert "ccm-azure status ccm-azure-ccm-node -g ccm-node-eastus --wait" in line
    assert vcr.all_played
    assert deletes(vcr) == []


@REPLAY
@pytest.mark.default_cassette("status_not_found.yaml")
def test_a_missing_deployment_is_one_line_exit_2(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = delete(fake_credential, "ccm-node-9", "-g", "ccm-fleet", "--yes")

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "No deployment 'ccm-azure-ccm-node-9'" in line
    assert vcr.all_played


# --- Azure refuses a delete -----------------------------------------------------------


@REPLAY
@pytest.mark.default_cassette("delete_locked.yaml")
def test_a_refused_delete_stops_there_and_says_what_is_left(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = delete(fake_credential, "ccm-node-2", "-g", "ccm-fleet", "--yes")

    line = assert_one_line_error_after_plan(result, ExitCode.AZURE_REJECTED)
    assert line.startswith(
        "ccm-azure: error: Azure refused to delete "
        "Microsoft.Compute/virtualMachines/ccm-node-2, made by deployment "
        "'ccm-azure-ccm-node-2' in resource group 'ccm-fleet' (ScopeLocked): "
    )
    assert "Please remove the lock and try again" in line
    assert "Deleted before it: nothing." in line
    assert (
        "`ccm-azure delete ccm-azure-ccm-node-2 -g ccm-fleet` deletes the rest" in line
    )
    assert len(deletes(vcr)) == 1
    assert vcr.all_played


def assert_one_line_error_after_plan(result: Outcome, code: ExitCode) -> str:
    """The plan went to stderr before the error line; stdout has no summary."""
    assert result.exception is None, result.exception
    assert result.exit_code == code, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ccm-azure: error: ")
    return last


@REPLAY
@pytest.mark.default_cassette("delete_name_in_capitals.yaml")
def test_a_name_in_other_case_deletes_the_same_resources(
    vcr: Any, fake_credential: FakeCredential
) -> None:
    result = delete(fake_credential, "CCM-NODE-2", "-g", "ccm-fleet", "--yes")

    assert result.exit_code == 0, result.stderr
    # ARM names ignore case: the deployment is not its own neighbour.
    assert deletes(vcr)[:4] == [
        f"{FLEET}/Microsoft.Compute/virtualMachines/ccm-node-2",
        f"{FLEET}/Microsoft.Network/networkInterfaces/ccm-node-2-nic",
        f"{FLEET}/Microsoft.Network/publicIPAddresses/ccm-node-2-ip",
        f"{FLEET}/Microsoft.Network/networkSecurityGroups/ccm-node-2-nsg",
    ]
    assert vcr.all_played
