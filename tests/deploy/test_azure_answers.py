"""How `ccm-azure deploy` reads Azure's less usual answers, replayed from cassettes.

Throttling, gateways that answer with HTML, a status without a body, a canceled or
still-active deployment, an asynchronous validation, a provider the subscription has
never registered, a refusal in a resource group this very run created. Each ends in
one line on stderr with the documented exit code, or in success, and never makes
the test wait.
"""

from __future__ import annotations

import logging
import threading
import time
import types
from typing import Any

import pytest
import recording
from conftest import PREFLIGHT_PASSES, FakeCredential, NodeArguments
from deploying import all_played, assert_one_line_error, interactions, run

from ccm_azure.deploy import progress
from ccm_azure.errors import ExitCode

pytestmark = PREFLIGHT_PASSES

REPLAY_ONLY = pytest.mark.vcr(record_mode="none")
FLEET = ["-g", "ccm-fleet"]


def assert_quiet(stderr: str) -> None:
    """No library noise: no logged warning, no traceback, only our own lines."""
    assert "Traceback" not in stderr
    assert "WARNING" not in stderr
    assert "model_base" not in stderr


# --- status codes without a body ------------------------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_group_forbidden.yaml")
def test_403_without_a_body_says_which_permission_is_missing(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node(), fake_credential)

    line = assert_one_line_error(result, ExitCode.AZURE_REJECTED)
    assert_quiet(result.stderr)
    assert len(result.stderr.splitlines()) == 1
    assert "HTTP 403 Forbidden" in line
    assert "no permission on resource group 'ccm-node-eastus'" in line
    assert f"subscription {recording.SUBSCRIPTION}" in line
    assert "Contributor role" in line
    assert "invalid status" not in line
    assert "correct the cause above" not in line
    assert all_played(vcr)


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_gateway_unavailable.yaml")
def test_a_gateway_answering_html_is_azure_unavailable_without_waiting(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    started = time.monotonic()

    result = run(node(*FLEET), fake_credential)

    line = assert_one_line_error(result, ExitCode.AZURE_UNAVAILABLE)
    # Four PUTs: azure-core's retries of a 5xx, with the test's zero backoff.
    assert time.monotonic() - started < 2
    assert all_played(vcr)
    assert (
        interactions(vcr).count(
            "PUT /subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/"
            "ccm-fleet/providers/Microsoft.Resources/deployments/ccm-azure-ccm-node"
        )
        == 4
    )
    assert_quiet(result.stderr)
    assert "unavailable (HTTP 502 Bad Gateway)" in line
    assert "<html>" not in line
    assert "wait a few minutes" in line


def test_library_warnings_wait_for_verbose(node: NodeArguments) -> None:
    def warn_and_stop() -> Any:
        logging.getLogger("azure.mgmt.resource.resources._utils.model_base").warning(
            "Ran into a deserialization error."
        )
        raise AssertionError("stop before any request")

    quiet = run(node(), factory=warn_and_stop)
    verbose = run(node(), factory=warn_and_stop, verbose=True)

    assert "deserialization" not in quiet.stderr
    assert "deserialization" in verbose.stderr


# --- throttling -----------------------------------------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_throttled_then_accepted.yaml")
def test_a_throttled_put_is_retried_without_sleeping_and_succeeds(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    started = time.monotonic()

    result = run(node(*FLEET), fake_credential)

    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started < 2  # the cassette's Retry-After is 17 s
    assert all_played(vcr)
    statuses = [response["status"]["code"] for response in vcr.responses]
    assert statuses[:4] == [204, 200, 429, 201]
    assert_quiet(result.stderr)


# --- provider registration ------------------------------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_registers_the_provider.yaml")
def test_an_unregistered_provider_is_registered_then_the_call_is_repeated(
    vcr: Any,
    node: NodeArguments,
    fake_credential: FakeCredential,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # azure-mgmt-core's registration policy waits a fixed 10 s before each read of
    # the provider, outside any setting; only its own clock is stopped here.
    from azure.mgmt.core.policies import _base

    waits: list[float] = []
    monkeypatch.setattr(_base, "time", types.SimpleNamespace(sleep=waits.append))

    result = run(node(*FLEET), fake_credential)

    assert result.exit_code == 0, result.stderr
    assert all_played(vcr)
    sequence = [path.rsplit("/", 2)[-2:] for path in interactions(vcr)]
    assert sequence[1:5] == [
        ["ccm-azure-ccm-node", "validate"],
        ["Microsoft.Compute", "register"],
        ["providers", "Microsoft.Compute"],
        ["ccm-azure-ccm-node", "validate"],
    ]
    assert waits == [10]
    assert "Registering resource provider Microsoft.Compute" in result.stderr


# --- asynchronous validation ----------------------------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_validation_accepted.yaml")
def test_an_asynchronous_validation_is_followed_to_its_result(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    started = time.monotonic()

    result = run(node(*FLEET), fake_credential)

    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started < 2
    assert all_played(vcr)
    paths = interactions(vcr)
    assert paths[1].endswith("/ccm-azure-ccm-node/validate")
    assert [path.split("/")[3] for path in paths[2:4]] == ["operationresults"] * 2
    assert paths[4].startswith("PUT ")


# --- the deployment is canceled or still running --------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_canceled.yaml")
def test_a_canceled_deployment_says_it_was_canceled(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node(*FLEET), fake_credential)

    line = assert_one_line_error(result, ExitCode.DEPLOYMENT_FAILED)
    assert "'ccm-azure-ccm-node' in resource group 'ccm-fleet' was canceled" in line
    assert "does not say by whom" in line
    assert "invalid status" not in line
    assert all_played(vcr)


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_deployment_active.yaml")
def test_an_active_deployment_names_itself_in_the_advice(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node(*FLEET), fake_credential)

    line = assert_one_line_error(result, ExitCode.AZURE_REJECTED)
    assert "(DeploymentActive): Unable to edit or replace deployment" in line
    assert "is still active" in line
    assert "`ccm-azure status ccm-azure-ccm-node -g ccm-fleet --subscription " in line
    assert " --wait`) and run the command again" in line
    assert "RESOURCE_GROUP" not in line
    assert all_played(vcr)


# --- nothing left behind after a refusal ----------------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_refused_in_new_group.yaml")
def test_a_refusal_deletes_the_resource_group_this_run_created(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node(), fake_credential)

    line = assert_one_line_error(result, ExitCode.AZURE_REJECTED)
    assert "(RequestDisallowedByPolicy): Resource 'ccm-node' was disallowed" in line
    assert "Allowed virtual machine size SKUs" in line
    assert line.endswith(
        "Resource group 'ccm-node-eastus', created by this run, is being deleted."
    )
    assert all_played(vcr)
    assert interactions(vcr)[-1] == (
        f"DELETE /subscriptions/{recording.SUBSCRIPTION}/resourcegroups/ccm-node-eastus"
    )


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_refused_group_not_deleted.yaml")
def test_a_resource_group_that_cannot_be_deleted_is_named(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node(), fake_credential)

    line = assert_one_line_error(result, ExitCode.AZURE_REJECTED)
    assert "(RequestDisallowedByPolicy)" in line
    assert (
        "Resource group 'ccm-node-eastus', created by this run, could not be deleted "
        "(HTTP 403)"
    ) in line
    assert "`az group delete -n ccm-node-eastus --yes`" in line
    assert all_played(vcr)


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_rejected_by_validation.yaml")
def test_a_refusal_keeps_a_resource_group_that_was_there_before(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node(*FLEET), fake_credential)

    line = assert_one_line_error(result, ExitCode.NOT_AVAILABLE)
    assert "deleted" not in line
    assert all_played(vcr)  # and no DELETE was sent: the cassette has none


# --- progress in ARM's words ----------------------------------------------------------


HOLDING = threading.Event()
FIRST_STATE_SHOWN = threading.Event()


def hold_the_first_status_poll(request: Any) -> Any:
    """vcrpy hook: the first status request waits until progress has shown a state.

    The poller's thread would otherwise race the progress display, which could then
    see the answer of the first poll, or the end, before the state the PUT reported.
    vcrpy also runs the hook on the recorded requests as the cassette loads; those
    pass, since HOLDING is set only while the command runs.
    """
    if HOLDING.is_set() and "/operationStatuses/" in request.path:
        FIRST_STATE_SHOWN.wait(timeout=5)
    return recording.scrub_request(request)


@pytest.mark.vcr(before_record_request=hold_the_first_status_poll, record_mode="none")
@pytest.mark.default_cassette("deploy_new_resource_group.yaml")
def test_progress_shows_the_provisioning_state_arm_reported(
    node: NodeArguments,
    fake_credential: FakeCredential,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    FIRST_STATE_SHOWN.clear()
    step = progress.Progress.step

    def step_and_release(self: progress.Progress, message: str) -> None:
        step(self, message)
        if message.startswith("Deploying "):
            FIRST_STATE_SHOWN.set()

    monkeypatch.setattr(progress.Progress, "step", step_and_release)

    HOLDING.set()
    try:
        result = run(node(), fake_credential)
    finally:
        HOLDING.clear()

    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "Deploying" in line]
    assert lines[0] == "Deploying ccm-azure-ccm-node: Accepted"
    assert "InProgress" not in result.stderr
    assert lines[-1].startswith("Deploying ccm-azure-ccm-node: Succeeded after")
