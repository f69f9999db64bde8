"""Fleets, --what-if, --no-wait and a deploy run again, replayed from cassettes.

Several regions deploy side by side, each its own deployment; one region failing
leaves the others' results in the summary. --what-if writes nothing, --no-wait
returns once ARM has accepted, and the same command run again updates the same
deployment in incremental mode.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from conftest import PREFLIGHT_PASSES, FakeCredential, NodeArguments
from deploying import (
    all_played,
    assert_no_canary,
    assert_one_line_error,
    interactions,
    run,
)

from ccm_azure.deploy import runner
from ccm_azure.errors import ExitCode

pytestmark = [
    PREFLIGHT_PASSES,
    pytest.mark.vcr(record_mode="none"),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

SUBSCRIPTION_PATH = "/subscriptions/00000000-0000-0000-0000-000000000000"


def in_regions(
    node: NodeArguments, *regions: str, extra: tuple[str, ...] = ()
) -> list[str]:
    """The node's arguments with its one --region replaced by `regions`."""
    arguments = node(*extra)
    at = arguments.index("--region")
    del arguments[at : at + 2]
    for region in reversed(regions):
        arguments[at:at] = ["--region", region]
    return arguments


def writes(cassette: Any) -> list[str]:
    """The requests that would change something in Azure, in the order played."""
    played = [
        f"{request.method} {request.path}"
        for index, (request, _) in enumerate(cassette.data)
        if cassette.play_counts[index]
    ]
    return [
        line
        for line in played
        if line.startswith(("PUT", "DELETE", "PATCH"))
        or (line.startswith("POST") and not line.endswith(("/validate", "/whatIf")))
    ]


# --- fleets ---------------------------------------------------------------------------


@pytest.mark.default_cassette("deploy_fleet_two_regions.yaml")
def test_three_nodes_in_two_regions_deploy_side_by_side_with_a_summary(
    vcr: Any,
    node: NodeArguments,
    fake_credential: FakeCredential,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    result = run(
        in_regions(node, "eastus:2", "uksouth", extra=("-o", "table")),
        fake_credential,
        debug=True,
    )

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "Region",
        "Resource",
        "group",
        "Deployment",
        "State",
        "Nodes",
    ]
    east = next(line for line in lines if line.startswith("eastus"))
    south = next(line for line in lines if line.startswith("uksouth"))
    assert "ccm-node-eastus" in east and "Succeeded" in east
    assert "ccm-node-1 (10.0.0.4), ccm-node-2 (10.0.0.5)" in east
    assert "ccm-node-uksouth" in south and "ccm-node (10.0.0.4)" in south
    # Each region's progress is its own, prefixed with the region.
    assert "eastus: Created resource group ccm-node-eastus in eastus." in result.stderr
    assert (
        "uksouth: Created resource group ccm-node-uksouth in uksouth." in result.stderr
    )
    assert "eastus: Checking that 2 x Standard_DC2s_v3 can run in eastus" in (
        result.stderr
    )
    assert "uksouth: Checking that 1 x Standard_DC2s_v3" in result.stderr
    assert all_played(vcr)
    # One deployment per region, with that region's node count.
    sent = {
        request.path.split("/")[4]: json.loads(request.body)["properties"]["parameters"]
        for request in vcr.requests
        if request.method == "PUT" and request.path.endswith("/ccm-azure-ccm-node")
    }
    assert sent["ccm-node-eastus"]["nodeCount"] == {"value": 2}
    assert sent["ccm-node-uksouth"]["nodeCount"] == {"value": 1}
    assert_no_canary(result, debug_logs)


@pytest.mark.default_cassette("deploy_fleet_two_regions.yaml")
def test_a_fleet_summary_in_json_has_every_regions_nodes(
    node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(in_regions(node, "eastus:2", "uksouth"), fake_credential)

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert [row["region"] for row in summary] == ["eastus", "uksouth"]
    assert [row["state"] for row in summary] == ["Succeeded", "Succeeded"]
    assert [row["exitCode"] for row in summary] == [0, 0]
    assert [n["vmName"] for n in summary[0]["outputs"]["nodes"]] == [
        "ccm-node-1",
        "ccm-node-2",
    ]
    assert summary[1]["outputs"]["nodes"][0]["privateIpAddress"] == "10.0.0.4"
    # People watching get the table on stderr; stdout stays JSON only.
    table = result.stderr[result.stderr.index("Region ") :]
    assert "uksouth  ccm-node-uksouth" in table


@pytest.mark.default_cassette("deploy_fleet_one_region_refused.yaml")
def test_one_region_refused_does_not_hide_the_other_regions_result(
    vcr: Any,
    node: NodeArguments,
    fake_credential: FakeCredential,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    result = run(in_regions(node, "eastus", "uksouth"), fake_credential, debug=True)

    assert result.exit_code == ExitCode.NOT_AVAILABLE, result.stderr
    summary = json.loads(result.stdout)
    assert [(row["region"], row["state"]) for row in summary] == [
        ("eastus", "Succeeded"),
        ("uksouth", "Failed"),
    ]
    assert summary[0]["outputs"]["nodes"][0]["vmName"] == "ccm-node"
    assert summary[1]["exitCode"] == ExitCode.NOT_AVAILABLE
    assert "Standard DCSv3 Family vCPUs" in summary[1]["error"]
    errors = [
        line for line in result.stderr.splitlines() if line.startswith("ccm-azure:")
    ]
    assert errors[0].startswith("ccm-azure: error: uksouth: Not enough vCPU quota")
    assert errors[-1].startswith("ccm-azure: error: 1 of 2 regions failed (uksouth)")
    # Nothing was written in uksouth: the refusal came before the resource group.
    assert not [line for line in writes(vcr) if "uksouth" in line]
    assert all_played(vcr)
    assert_no_canary(result, debug_logs)


@pytest.mark.default_cassette("deploy_fleet_two_regions.yaml")
def test_ctrl_c_during_a_fleet_stops_following_every_region_and_exits_130(
    node: NodeArguments,
    fake_credential: FakeCredential,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    following = threading.Semaphore(0)
    follow = runner._Run.follow

    def follow_after_ctrl_c(self: Any, poller: Any) -> Any:
        following.release()
        assert self.options.stop.wait(10), "Ctrl-C was never passed on"
        return follow(self, poller)

    def ctrl_c_once_both_follow(futures: Any) -> None:
        for _ in futures:
            assert following.acquire(timeout=10)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner._Run, "follow", follow_after_ctrl_c)
    monkeypatch.setattr(
        "ccm_azure.deploy.fleet.concurrent.futures.wait", ctrl_c_once_both_follow
    )

    result = run(in_regions(node, "eastus:2", "uksouth"), fake_credential)

    line = assert_one_line_error(result, ExitCode.INTERRUPTED)
    assert line.startswith("ccm-azure: error: Stopped following the regions. eastus: ")
    assert line.count("which goes on in Azure") == 2
    for group in ("ccm-node-eastus", "ccm-node-uksouth"):
        assert f"`ccm-azure status ccm-azure-ccm-node -g {group} " in line


@pytest.mark.default_cassette("deploy_fleet_two_regions.yaml")
def test_ctrl_c_before_the_deployments_names_the_groups_left_behind(
    node: NodeArguments,
    fake_credential: FakeCredential,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    validating = threading.Semaphore(0)

    def validate_after_ctrl_c(self: Any) -> None:
        validating.release()
        assert self.options.stop.wait(10), "Ctrl-C was never passed on"

    def ctrl_c_once_both_validate(futures: Any) -> None:
        for _ in futures:
            assert validating.acquire(timeout=10)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner._Run, "validate", validate_after_ctrl_c)
    monkeypatch.setattr(
        "ccm_azure.deploy.fleet.concurrent.futures.wait", ctrl_c_once_both_validate
    )

    result = run(in_regions(node, "eastus:2", "uksouth"), fake_credential)

    line = assert_one_line_error(result, ExitCode.INTERRUPTED)
    assert "goes on" not in line
    for region in ("eastus", "uksouth"):
        assert (
            f"{region}: Interrupted before the deployment started; nothing was "
            f"deployed; resource group 'ccm-node-{region}', created by this run, is "
            "left" in line
        )


@pytest.mark.default_cassette("deploy_fleet_two_regions.yaml")
def test_a_bug_in_one_region_still_shows_the_other_regions_result(
    node: NodeArguments,
    fake_credential: FakeCredential,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    preflight = runner._Run.preflight

    def preflight_with_a_bug_in_uksouth(self: Any, group_exists: bool) -> None:
        if self.request.location == "uksouth":
            raise AttributeError("'str' object has no attribute 'get'")
        preflight(self, group_exists)

    monkeypatch.setattr(runner._Run, "preflight", preflight_with_a_bug_in_uksouth)

    result = run(in_regions(node, "eastus:2", "uksouth"), fake_credential)

    # The bug surfaces as it is (the harness's -1), after the summary.
    assert isinstance(result.exception, AttributeError)
    summary = json.loads(result.stdout)
    assert [(row["region"], row["state"]) for row in summary] == [
        ("eastus", "Succeeded"),
        ("uksouth", "Failed (a bug in ccm-azure)"),
    ]
    assert "please report it" in summary[1]["error"]


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        (["eastus", "eastus"], "--region eastus is given twice"),
        (["eastus", "EastUS:2"], "--region eastus is given twice"),
        (["eastus:0"], "from 1 to 10"),
        (["eastus:11"], "from 1 to 10"),
        (["eastus:two"], "from 1 to 10"),
        (["westeurope"], "westeurope"),
    ],
)
def test_bad_regions_are_one_line_exit_2_and_no_request(
    node: NodeArguments, regions: list[str], message: str
) -> None:
    def no_credential() -> Any:
        raise AssertionError("bad input must not reach Azure")

    result = run(in_regions(node, *regions), factory=no_credential)

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert message in line


def test_one_resource_group_for_several_regions_is_refused(node: NodeArguments) -> None:
    result = run(in_regions(node, "eastus", "uksouth", extra=("-g", "ccm-fleet")))

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "several regions" in line and "leave -g out" in line


def test_count_is_bounded_by_the_offer(node: NodeArguments) -> None:
    result = run(node("--count", "11"))

    assert result.exit_code == ExitCode.USAGE
    assert "--count" in result.stderr and "Traceback" not in result.stderr


# --- --what-if ------------------------------------------------------------------------


@pytest.mark.default_cassette("deploy_what_if_new_group.yaml")
def test_what_if_in_a_new_group_shows_the_changes_and_writes_nothing(
    vcr: Any,
    node: NodeArguments,
    fake_credential: FakeCredential,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    result = run(node("--count", "2", "--what-if", "-o", "table"), fake_credential)

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Changes in eastus, resource group ccm-node-eastus" in out
    assert "+ Create    Microsoft.Resources/resourceGroups" in out
    assert "Microsoft.Compute/virtualMachines             ccm-node-2" in out
    assert (
        "Microsoft.Compute/virtualMachines/extensions  ccm-node-2/install-node-agent"
        in (out)
    )
    assert "Microsoft.Resources/tags                      ccm-node-1/default" in out
    assert "* Ignore" in out
    assert out.rstrip().endswith("12 resources: 11 create, 1 ignore.")
    assert writes(vcr) == []
    assert all_played(vcr)
    # What-if ran at subscription scope, and the join token went only as a secure
    # parameter of the template that creates the group.
    (post,) = [r for r in vcr.requests if r.method == "POST"]
    assert post.path == (
        f"{SUBSCRIPTION_PATH}/providers/Microsoft.Resources/deployments/"
        "eastus-ccm-azure-ccm-node/whatIf"
    )
    assert_no_canary(result, debug_logs)


def test_what_if_template_for_a_new_group_passes_secure_values_securely() -> None:
    request = runner.DeploymentRequest(
        subscription_id="00000000-0000-0000-0000-000000000000",
        resource_group="ccm-node-eastus",
        location="eastus",
        deployment_name="ccm-azure-ccm-node",
        template={
            "parameters": {
                "location": {"type": "string"},
                "joinToken": {"type": "securestring"},
            },
            "resources": [],
        },
        parameters={"location": "eastus", "joinToken": "CANARY"},
        resource_group_tags={"created-by": "ccm-azure"},
    )

    body = runner._in_new_group(request)
    template = body["properties"]["template"]
    group, nested = template["resources"]

    assert template["parameters"]["joinToken"] == {"type": "securestring"}
    assert "CANARY" not in json.dumps(template)
    assert body["properties"]["parameters"]["joinToken"] == {"value": "CANARY"}
    assert group["type"] == "Microsoft.Resources/resourceGroups"
    assert group["tags"] == {"created-by": "ccm-azure"}
    assert nested["resourceGroup"] == "ccm-node-eastus"
    assert nested["properties"]["expressionEvaluationOptions"] == {"scope": "inner"}
    assert nested["properties"]["parameters"]["joinToken"] == {
        "value": "[parameters('joinToken')]"
    }
    assert nested["properties"]["template"] == request.template


@pytest.mark.default_cassette("deploy_what_if_existing_group.yaml")
def test_what_if_in_an_existing_group_as_json(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node("--what-if"), fake_credential)

    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["resourceGroup"] == "ccm-node-eastus"
    kinds = [change["changeType"] for change in answer["changes"]]
    assert kinds.count("Create") == 6 and kinds.count("Ignore") == 1
    assert writes(vcr) == []
    assert interactions(vcr)[1].endswith(
        "/resourcegroups/ccm-node-eastus/providers/Microsoft.Resources/deployments/"
        "ccm-azure-ccm-node/whatIf"
    )
    assert all_played(vcr)


def test_change_names_its_resource_type_and_name() -> None:
    group = runner.Change("Create", f"{SUBSCRIPTION_PATH}/resourceGroups/g")
    extension = runner.Change(
        "Create",
        f"{SUBSCRIPTION_PATH}/resourceGroups/g/providers/Microsoft.Compute/"
        "virtualMachines/n-1/extensions/install-node-agent",
    )
    tags = runner.Change(
        "Create",
        f"{SUBSCRIPTION_PATH}/resourceGroups/g/providers/Microsoft.Compute/"
        "virtualMachines/n-1/providers/Microsoft.Resources/tags/default",
    )

    assert (group.resource_type, group.name) == (
        "Microsoft.Resources/resourceGroups",
        "g",
    )
    assert extension.resource_type == "Microsoft.Compute/virtualMachines/extensions"
    assert extension.name == "n-1/install-node-agent"
    assert (tags.resource_type, tags.name) == (
        "Microsoft.Resources/tags",
        "n-1/default",
    )


# --- --no-wait and running again ------------------------------------------------------


@pytest.mark.default_cassette("deploy_no_wait.yaml")
def test_no_wait_returns_once_accepted_and_says_how_to_follow(
    vcr: Any,
    node: NodeArguments,
    fake_credential: FakeCredential,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    result = run(node("--no-wait"), fake_credential, debug=True)

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "resourceGroup": "ccm-node-eastus",
        "deployment": "ccm-azure-ccm-node",
        "state": "Accepted",
    }
    assert "Deployment ccm-azure-ccm-node is Accepted and goes on in Azure" in (
        result.stderr
    )
    assert "`ccm-azure status ccm-azure-ccm-node -g ccm-node-eastus" in result.stderr
    assert not [r for r in vcr.requests if "operationStatuses" in r.path]
    assert all_played(vcr)
    assert_no_canary(result, debug_logs)


@pytest.mark.default_cassette("deploy_run_again.yaml")
def test_running_the_same_deploy_again_updates_the_same_deployment(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node(), fake_credential)

    assert result.exit_code == 0, result.stderr
    assert "Using resource group ccm-node-eastus." in result.stderr
    # The quota is full with the node's own vCPUs: they count as present.
    assert "Preflight passed" in result.stderr
    assert writes(vcr) == [
        f"PUT {SUBSCRIPTION_PATH}/resourcegroups/ccm-node-eastus/providers/"
        "Microsoft.Resources/deployments/ccm-azure-ccm-node"
    ]
    (put,) = [r for r in vcr.requests if r.method == "PUT" and vcr.play_counts]
    assert json.loads(put.body)["properties"]["mode"] == "Incremental"
    assert json.loads(result.stdout)["nodes"][0]["vmName"] == "ccm-node"
    assert all_played(vcr)


# --- the preflight in the whole command -----------------------------------------------


@pytest.mark.vcr("preflight_not_available_for_subscription.yaml")
@pytest.mark.default_cassette("deploy_preflight_refused.yaml")
def test_an_unavailable_size_is_refused_before_any_write(
    vcr: Any,
    node: NodeArguments,
    fake_credential: FakeCredential,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    result = run(node(), fake_credential, debug=True)

    line = assert_one_line_error(result, ExitCode.NOT_AVAILABLE)
    assert "NotAvailableForSubscription" in line
    assert "--size" in line
    assert writes(vcr) == []
    assert_no_canary(result, debug_logs)


@pytest.mark.vcr("preflight_family_quota_zero.yaml")
@pytest.mark.default_cassette("deploy_preflight_refused.yaml")
def test_a_quota_shortfall_is_refused_before_any_write(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node(), fake_credential)

    line = assert_one_line_error(result, ExitCode.NOT_AVAILABLE)
    assert "Standard DCSv3 Family vCPUs (standardDCSv3Family) has a limit of 0" in line
    assert "request a new limit of at least 2" in line
    assert writes(vcr) == []


def test_what_if_for_several_regions_is_one_json_list() -> None:
    from ccm_azure.deploy.command import format_changes

    def request(region: str) -> runner.DeploymentRequest:
        return runner.DeploymentRequest(
            subscription_id="00000000-0000-0000-0000-000000000000",
            resource_group=f"ccm-node-{region}",
            location=region,
            deployment_name="ccm-azure-ccm-node",
            template={},
            parameters={},
        )

    vm = runner.Change(
        "Create",
        f"{SUBSCRIPTION_PATH}/resourceGroups/ccm-node-uksouth/providers/"
        "Microsoft.Compute/virtualMachines/ccm-node",
    )
    answers = [(request("eastus"), []), (request("uksouth"), [vm])]

    documents = json.loads(format_changes(answers, "json", several=True))
    text = format_changes(answers, "table")

    assert [d["region"] for d in documents] == ["eastus", "uksouth"]
    assert documents[1]["changes"] == [
        {"changeType": "Create", "resourceId": vm.resource_id}
    ]
    assert "0 resources: no changes." in text
    assert "+ Create    Microsoft.Compute/virtualMachines  ccm-node" in text


# --- node names that another deployment or another count made -------------------------


@pytest.mark.default_cassette("deploy_count_changed.yaml")
def test_going_from_one_node_to_several_under_one_name_is_refused(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node("--count", "2"), fake_credential)

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "Deployment 'ccm-azure-ccm-node' made ccm-node; deploying ccm-node-1" in line
    assert "would add them beside it" in line
    assert "`ccm-azure delete ccm-azure-ccm-node -g ccm-node-eastus`" in line
    assert writes(vcr) == []
    assert all_played(vcr)


@pytest.mark.default_cassette("deploy_name_taken_by_fleet.yaml")
def test_a_name_another_deployments_fleet_uses_is_refused(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node("-n", "ccm-node-2"), fake_credential)

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "VM ccm-node-2 in resource group ccm-node-eastus belongs to deployment " in (
        line
    )
    assert "'ccm-azure-ccm-node' (3 nodes: ccm-node-1, ccm-node-2, ccm-node-3)" in line
    assert writes(vcr) == []


@pytest.mark.default_cassette("deploy_count_lowered.yaml")
def test_a_lower_count_warns_that_the_other_nodes_stay(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node("--count", "2"), fake_credential)

    assert result.exit_code == 0, result.stderr
    assert "warning: ccm-node-3 stays in Azure: a smaller count does not delete" in (
        result.stderr
    )
    assert [n["vmName"] for n in json.loads(result.stdout)["nodes"]] == [
        "ccm-node-1",
        "ccm-node-2",
    ]
    assert all_played(vcr)


@pytest.mark.default_cassette("deploy_what_if_one_region_refused.yaml")
def test_what_if_in_two_regions_shows_one_regions_changes_beside_the_others_error(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(
        in_regions(node, "eastus", "uksouth", extra=("--what-if",)), fake_credential
    )

    assert result.exit_code == ExitCode.AZURE_REJECTED, result.stderr
    (answer,) = json.loads(result.stdout)
    assert answer["region"] == "eastus"
    assert len(answer["changes"]) == 8
    errors = [
        line for line in result.stderr.splitlines() if line.startswith("ccm-azure:")
    ]
    assert errors[0].startswith("ccm-azure: error: uksouth: Azure rejected")
    assert "RequestDisallowedByPolicy" in errors[0]
    assert errors[1].startswith("ccm-azure: error: 1 of 2 regions failed (uksouth)")
    assert writes(vcr) == []
    assert all_played(vcr)


@pytest.mark.default_cassette("deploy_no_wait.yaml")
def test_ctrl_c_once_the_deployment_was_sent_says_it_may_go_on(
    node: NodeArguments,
    fake_credential: FakeCredential,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    start = runner._Run.start

    def start_then_ctrl_c(self: Any) -> Any:
        start(self)
        raise KeyboardInterrupt

    monkeypatch.setattr(runner._Run, "start", start_then_ctrl_c)

    result = run(node("--no-wait"), fake_credential)

    line = assert_one_line_error(result, ExitCode.INTERRUPTED)
    assert "Azure may have started it" in line
    assert "`ccm-azure status ccm-azure-ccm-node -g ccm-node-eastus" in line
    assert "nothing was deployed" not in line
    assert "az group delete" not in line


@pytest.mark.default_cassette("deploy_name_taken_by_fleet.yaml")
def test_a_fleets_node_name_in_capitals_is_refused_too(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node("-n", "CCM-NODE-2"), fake_credential)

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "belongs to deployment 'ccm-azure-ccm-node'" in line
    assert writes(vcr) == []


@pytest.mark.default_cassette("deploy_count_changed.yaml")
def test_the_same_deployment_in_capitals_is_the_same_deployment(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node("-n", "CCM-NODE", "--count", "2"), fake_credential)

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "would add them beside it" in line
    assert writes(vcr) == []


def test_a_fleet_signs_in_once_and_says_so_once(node: NodeArguments) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    built = []

    class Refused(FakeCredential):
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise ClientAuthenticationError(
                message="EnvironmentCredential: Authentication failed: AADSTS7000215: "
                "Invalid client secret provided."
            )

    def factory() -> Any:
        built.append(Refused())
        return built[-1]

    result = run(in_regions(node, "eastus:2", "uksouth"), factory=factory)

    line = assert_one_line_error(result, ExitCode.AUTHENTICATION)
    assert "AADSTS7000215" in line
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(built) == 1


@pytest.mark.default_cassette("deploy_what_if_existing_group.yaml")
def test_options_made_pointless_by_others_are_warned_about(
    node: NodeArguments, fake_credential: FakeCredential
) -> None:
    arguments = in_regions(
        node, "eastus:1", extra=("--count", "3", "--ssh-source", "203.0.113.7")
    )

    result = run([*arguments, "--what-if"], fake_credential)

    assert result.exit_code == 0, result.stderr
    assert "warning: --count 3 is not used: every --region gives its own :COUNT." in (
        result.stderr
    )
    assert "without --public-ip the nodes have private addresses only" in (
        result.stderr
    )
