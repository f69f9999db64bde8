"""The deployment runner as a library, with a small template of its own."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
import recording
from conftest import CANARY_TOKEN, FakeCredential
from rich.console import Console

from ccm_azure import logs
from ccm_azure.deploy import DeploymentRequest, run_deployment, runner
from ccm_azure.deploy.errors import Interrupted
from ccm_azure.deploy.progress import Progress
from ccm_azure.deploy.runner import check_parameters, output_values, redactor
from ccm_azure.errors import CcmAzureError, ExitCode

TEMPLATE: dict[str, Any] = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
    "deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {
        "location": {"type": "string"},
        "vmName": {"type": "string", "defaultValue": "ccm-node"},
        "joinToken": {"type": "secureString"},
        "apiKey": {"type": "secureString", "defaultValue": ""},
    },
    "resources": [],
    "outputs": {"vmName": {"type": "string", "value": "[parameters('vmName')]"}},
}


def request(**changes: Any) -> DeploymentRequest:
    fields: dict[str, Any] = {
        "subscription_id": recording.SUBSCRIPTION,
        "resource_group": "ccm-node-eastus",
        "location": "eastus",
        "deployment_name": "ccm-azure-ccm-node",
        "template": TEMPLATE,
        "parameters": {"location": "eastus", "joinToken": CANARY_TOKEN},
    }
    fields.update(changes)
    return DeploymentRequest(**fields)


def quiet_progress() -> tuple[Progress, io.StringIO]:
    stream = io.StringIO()
    return Progress(Console(file=stream, force_terminal=False, width=200)), stream


@pytest.mark.vcr(record_mode="none")
@pytest.mark.default_cassette("deploy_new_resource_group.yaml")
def test_run_deployment_returns_plain_outputs(
    vcr: Any, fake_credential: FakeCredential, debug_logs: pytest.LogCaptureFixture
) -> None:
    progress, stream = quiet_progress()

    result = run_deployment(
        request(), credential=fake_credential, polling_interval=0, progress=progress
    )

    assert result.resource_group_created is True
    assert result.deployment_name == "ccm-azure-ccm-node"
    [node] = result.outputs["nodes"]
    assert node["fqdn"].endswith(".eastus.cloudapp.azure.com")
    assert all(isinstance(value, str) for value in node.values())
    assert vcr.all_played
    assert "Deploying ccm-azure-ccm-node: Succeeded" in stream.getvalue()
    assert CANARY_TOKEN not in debug_logs.text
    assert "[secure]" in debug_logs.text  # the parameters are logged, redacted


def test_the_body_wraps_values_and_keeps_secrets_for_azure_only() -> None:
    deployment = request()

    body = deployment.body()

    assert body["properties"]["mode"] == "Incremental"
    assert body["properties"]["parameters"]["joinToken"] == {"value": CANARY_TOKEN}
    assert deployment.declared_secure_parameters() == {"joinToken", "apiKey"}
    assert deployment.loggable_parameters()["joinToken"] == "[secure]"


def test_parameters_the_template_does_not_declare_are_refused() -> None:
    with pytest.raises(CcmAzureError, match="declares no parameter nodeAgent"):
        check_parameters(TEMPLATE, {"location": "x", "joinToken": "t", "nodeAgent": 1})


def test_required_parameters_must_be_given() -> None:
    with pytest.raises(CcmAzureError, match="needs a value for joinToken"):
        check_parameters(TEMPLATE, {"location": "eastus"})


def test_parameter_mismatch_is_caught_before_any_credential(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_credential() -> Any:
        raise AssertionError("no credential expected")

    monkeypatch.setattr(runner, "default_credential", no_credential)

    with pytest.raises(CcmAzureError, match="needs a value"):
        run_deployment(request(parameters={"location": "eastus"}))


def test_redactor_replaces_every_secret() -> None:
    redact = redactor([CANARY_TOKEN, "", "abc"])

    assert redact(f"x {CANARY_TOKEN} y abc") == "x [secure] y abc"


def test_secrets_are_redacted_inside_array_outputs() -> None:
    # The nodes output is an array of objects: a secret deep in it is still caught.
    redact = redactor([CANARY_TOKEN])
    nodes = [{"vmName": "a", "sshCommand": f"ssh {CANARY_TOKEN}", "port": 22}]

    assert runner._redact_strings({"nodes": nodes}, redact) == {
        "nodes": [{"vmName": "a", "sshCommand": "ssh [secure]", "port": 22}]
    }


def test_outputs_lose_their_type_wrappers() -> None:
    deployment = {"properties": {"outputs": {"a": {"type": "String", "value": "v"}}}}

    assert output_values(deployment) == {"a": "v"}
    assert output_values({}) == {}


class _Interrupting(Progress):
    def follow(self, poller: Any, what: str) -> None:
        poller.wait()
        raise KeyboardInterrupt


@pytest.mark.vcr(record_mode="none")
@pytest.mark.default_cassette("deploy_new_resource_group.yaml")
def test_ctrl_c_while_following_says_the_deployment_goes_on(
    fake_credential: FakeCredential,
) -> None:
    stream = io.StringIO()
    progress = _Interrupting(Console(file=stream, force_terminal=False))

    with pytest.raises(Interrupted, match="goes on in Azure") as caught:
        run_deployment(
            request(), credential=fake_credential, polling_interval=0, progress=progress
        )
    assert caught.value.exit_code == ExitCode.INTERRUPTED
    assert "`ccm-azure status ccm-azure-ccm-node -g ccm-node-eastus" in str(
        caught.value
    )


class _FakePoller:
    def __init__(self, states: list[str]) -> None:
        self.states = states

    def done(self) -> bool:
        return len(self.states) == 1

    def status(self) -> str:
        return self.states[0]

    def wait(self, timeout: float | None = None) -> None:
        if len(self.states) > 1:
            self.states.pop(0)


def test_plain_progress_writes_one_line_per_state() -> None:
    progress, stream = quiet_progress()

    progress.follow(_FakePoller(["Accepted", "Running", "Running", "Succeeded"]), "D")

    lines = stream.getvalue().splitlines()
    assert lines[:2] == ["D: Accepted", "D: Running"]
    assert lines[2].startswith("D: Succeeded after ")
    assert len(lines) == 3


def test_plain_progress_leaves_a_failure_to_the_error_line() -> None:
    progress, stream = quiet_progress()

    progress.follow(_FakePoller(["Running", "Failed"]), "D")

    assert stream.getvalue().splitlines() == ["D: Running"]


def test_terminal_progress_shows_a_spinner_and_the_end_state() -> None:
    stream = io.StringIO()
    progress = Progress(Console(file=stream, force_terminal=True, width=100))

    progress.follow(_FakePoller(["Running", "Running", "Succeeded"]), "Deploying x")

    assert progress.interactive
    assert "Deploying x: Succeeded after" in stream.getvalue()


def test_default_progress_writes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    Progress().step("Created resource group x.")

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "Created resource group x.\n"


def test_redactor_also_replaces_a_secret_in_base64() -> None:
    encoded = base64.b64encode(CANARY_TOKEN.encode()).decode()
    redact = redactor([CANARY_TOKEN])

    text = redact(f"bash install-node-agent.sh --join-token-b64 {encoded} --x")

    assert encoded not in text
    assert text == "bash install-node-agent.sh --join-token-b64 [secure] --x"


def test_registered_secrets_are_redacted_in_base64_too() -> None:
    secret = "ANOTHER-CANARY-TOKEN-51d0"
    encoded = base64.b64encode(secret.encode()).decode()

    logs.register_secret(secret)

    assert logs.RedactingFilter.redact(f"a {secret} b {encoded}") == (
        f"a {logs.REDACTED} b {logs.REDACTED}"
    )


class _LateDonePoller(_FakePoller):
    """A poller whose final state shows before done() says so, as azure-core's can."""

    def done(self) -> bool:
        return self.states[0] == "done"

    def status(self) -> str:
        return "Failed" if self.done() else self.states[0]


def test_plain_progress_never_shows_a_final_state_before_the_end() -> None:
    progress, stream = quiet_progress()

    progress.follow(_LateDonePoller(["Running", "Failed", "done"]), "D")

    assert stream.getvalue().splitlines() == ["D: Running"]
