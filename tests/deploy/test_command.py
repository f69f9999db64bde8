"""`ccm-azure deploy` end to end through the real entry point, replaying cassettes.

Each test runs `ccm_azure.cli.main` in process under click's CliRunner isolation, so
what it sees on stdout, stderr and in the exit code is what a user sees; only the
credential and the polling interval are handed in, through the click context.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import recording
from conftest import (
    CANARY_TOKEN,
    CASSETTES,
    INSTALLER_URL,
    PREFLIGHT_PASSES,
    RECORDING_TOKEN,
    SSH_PUBLIC_KEY,
    FakeCredential,
    NodeArguments,
)
from deploying import (
    all_played,
    assert_no_canary,
    assert_one_line_error,
    interactions,
    run,
)

from ccm_azure.deploy.command import format_outputs
from ccm_azure.errors import ExitCode

pytestmark = PREFLIGHT_PASSES

SUBSCRIPTION = recording.SUBSCRIPTION
NODE = {
    "vmName": "ccm-node",
    "privateIpAddress": "10.0.0.4",
    "publicIpAddress": "20.121.40.17",
    "fqdn": "ccm-ccm-node-4kq2xz7hyb3bs.eastus.cloudapp.azure.com",
    "sshCommand": "ssh azureuser@ccm-ccm-node-4kq2xz7hyb3bs.eastus.cloudapp.azure.com",
}
OUTPUTS = {"nodes": [NODE]}
"""The template's one output: an array with an object per node."""


def assert_outputs_shape(stdout: str) -> None:
    """What holds for the printed outputs even when recording against Azure."""
    outputs = json.loads(stdout)
    assert set(outputs) == set(OUTPUTS)
    assert [set(node) for node in outputs["nodes"]] == [set(NODE)]


# Only (a) and (c) record against a real subscription (see recording.py); every other
# cassette test replays, whatever --record-mode says.
REPLAY_ONLY = pytest.mark.vcr(record_mode="none")


# --- (a) success into a new resource group --------------------------------------------


@pytest.mark.vcr(ignore_hosts=recording.SIGN_IN_HOSTS)
@pytest.mark.default_cassette("deploy_new_resource_group.yaml")
def test_deploys_into_a_new_resource_group_and_prints_the_outputs(
    vcr: Any,
    node: NodeArguments,
    replaying: bool,
    recording_subscription: str,
    recording_credential: Any,
    polling_interval: float,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    result = run(
        node(subscription=recording_subscription),
        recording_credential,
        polling_interval,
        debug=True,
    )

    assert result.exit_code == 0, result.stderr
    assert_outputs_shape(result.stdout)
    assert "Created resource group ccm-node-eastus in eastus." in result.stderr
    assert "Deploying ccm-azure-ccm-node: Succeeded" in result.stderr
    if replaying:
        assert json.loads(result.stdout) == OUTPUTS
        assert all_played(vcr)
        assert vcr.play_count == 7 + 2  # and the preflight's SKU and usage reads
    assert_no_canary(result, debug_logs)


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_new_resource_group.yaml")
def test_table_output_has_a_row_per_node(
    node: NodeArguments, fake_credential: FakeCredential
) -> None:
    result = run(node("-o", "table"), fake_credential)

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.match(r"^Node +Private IP +Public IP +FQDN +SSH command$", lines[0])
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split() == [
        "ccm-node",
        "10.0.0.4",
        "20.121.40.17",
        NODE["fqdn"],
        *NODE["sshCommand"].split(),
    ]
    assert len(lines) == 3


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_new_resource_group.yaml")
def test_progress_on_stderr_never_sleeps_on_retry_after(
    node: NodeArguments, fake_credential: FakeCredential
) -> None:
    import time

    started = time.monotonic()
    result = run(node(), fake_credential)

    # The first status answer asks for Retry-After: 15; replay turns it into 0.
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started < 5
    assert fake_credential.closed is False  # the runner closes only what it built


# --- (b) ARM rejects the deployment at validation -------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_rejected_by_validation.yaml")
def test_validation_400_is_one_line_with_the_inner_codes(
    vcr: Any,
    node: NodeArguments,
    fake_credential: FakeCredential,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    result = run(
        node("-g", "ccm-fleet", "--size", "Standard_DC4s_v3"),
        fake_credential,
        debug=True,
    )

    line = assert_one_line_error(result, ExitCode.NOT_AVAILABLE)
    assert "(InvalidTemplateDeployment)" in line
    assert "SkuNotAvailable: The requested VM size" in line
    assert "QuotaExceeded: Operation could not be completed" in line
    assert "ccm-fleet" in line
    assert "Next: " in line
    assert "Using resource group ccm-fleet." in result.stderr
    assert all_played(vcr)
    assert interactions(vcr)[-1].endswith("/deployments/ccm-azure-ccm-node/validate")
    assert_no_canary(result, debug_logs)


# --- (c) the real credential chain ----------------------------------------------------


@pytest.fixture
def service_principal(monkeypatch: pytest.MonkeyPatch, replaying: bool) -> None:
    """The AZURE_* variables of a service principal: fakes on replay."""
    if replaying:
        monkeypatch.setenv("AZURE_TENANT_ID", recording.TENANT)
        monkeypatch.setenv("AZURE_CLIENT_ID", recording.CLIENT)
        monkeypatch.setenv("AZURE_CLIENT_SECRET", recording.CLIENT_SECRET)
        monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", recording.SUBSCRIPTION)
    monkeypatch.delenv("AZURE_TOKEN_CREDENTIALS", raising=False)


@pytest.mark.vcr
@pytest.mark.default_cassette("deploy_with_environment_credential.yaml")
def test_default_credential_chain_signs_in_with_the_environment(
    vcr: Any,
    node: NodeArguments,
    service_principal: None,
    replaying: bool,
    polling_interval: float,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    arguments = node()
    arguments.remove("--subscription")
    arguments.remove(SUBSCRIPTION)  # from AZURE_SUBSCRIPTION_ID

    result = run(arguments, polling_interval=polling_interval, debug=True)

    assert result.exit_code == 0, result.stderr
    assert_outputs_shape(result.stdout)
    if replaying:
        assert json.loads(result.stdout) == OUTPUTS
        assert all_played(vcr)
    hosts = [request.host for request in vcr.requests]
    assert hosts[:2] == ["login.microsoftonline.com"] * 2
    assert_no_canary(result, debug_logs)
    assert recording.CLIENT_SECRET not in debug_logs.text


def test_without_any_credential_the_error_says_how_to_sign_in(
    node: NodeArguments, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the environment credential, and it has nothing to work with: no request.
    monkeypatch.setenv("AZURE_TOKEN_CREDENTIALS", "EnvironmentCredential")

    result = run(node())

    line = assert_one_line_error(result, ExitCode.AUTHENTICATION)
    assert result.stderr.count("\n") == 1  # the credential chain's own report is hidden
    assert "az login" in line
    assert "AZURE_CLIENT_SECRET" in line


# --- (d) the deployment starts, then fails --------------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_extension_failed.yaml")
def test_failed_deployment_names_the_failed_resource_and_inner_errors(
    vcr: Any,
    node: NodeArguments,
    fake_credential: FakeCredential,
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    result = run(
        node("-g", "ccm-fleet", "--name", "ccm-node-2"),
        fake_credential,
        debug=True,
    )

    line = assert_one_line_error(result, ExitCode.DEPLOYMENT_FAILED)
    assert "'ccm-azure-ccm-node-2'" in line
    assert "(DeploymentFailed)" in line
    # The inner message was the resource provider's JSON error, flattened.
    assert "ResourceDeploymentFailure: The resource operation completed" in line
    assert "VMExtensionProvisioningError: VM has reported a failure" in line
    assert (
        "Failed: Microsoft.Compute/virtualMachines/extensions/"
        "ccm-node-2/install-node-agent (VMExtensionProvisioningError)" in line
    )
    assert "Next: the node agent did not install" in line
    assert "\\r\\n" not in line
    assert all_played(vcr)
    assert interactions(vcr)[-1].endswith(
        "/deployments/ccm-azure-ccm-node-2/operations"
    )
    assert_no_canary(result, debug_logs)


# --- (e) the status endpoint loses the deployment -------------------------------------


@REPLAY_ONLY
@pytest.mark.default_cassette("deploy_status_not_found.yaml")
def test_lost_status_falls_back_to_reading_the_deployment(
    vcr: Any, node: NodeArguments, fake_credential: FakeCredential
) -> None:
    arguments = ["-g", "ccm-fleet", "--name", "ccm-node-3", "--no-public-ip"]

    result = run(node(*arguments), fake_credential)

    assert result.exit_code == 0, result.stderr
    [only] = json.loads(result.stdout)["nodes"]
    assert only["sshCommand"] == "ssh azureuser@10.0.0.6"
    assert only["publicIpAddress"] == ""
    assert "Deploying ccm-azure-ccm-node-3: Running" in result.stderr
    assert "Deploying ccm-azure-ccm-node-3: Succeeded" in result.stderr
    assert "Failed" not in result.stderr
    assert all_played(vcr)


# --- the join token stays secret ------------------------------------------------------


SENT: list[Any] = []


def remember_sent(request: Any) -> Any:
    """Keep a copy of each request as the SDK sent it, before any scrubbing."""
    SENT.append((request.method, request.uri, dict(request.headers), request.body))
    return recording.scrub_request(request)


@pytest.mark.vcr(before_record_request=remember_sent, record_mode="none")
@pytest.mark.default_cassette("deploy_new_resource_group.yaml")
def test_the_token_reaches_azure_only_as_the_join_token_parameter(
    node: NodeArguments, fake_credential: FakeCredential
) -> None:
    SENT.clear()

    result = run(node(), fake_credential)

    assert result.exit_code == 0, result.stderr
    carriers = set()
    for method, uri, headers, body in SENT:
        assert CANARY_TOKEN not in uri
        assert CANARY_TOKEN not in repr(headers)
        if body and CANARY_TOKEN.encode() in body:
            deployment = json.loads(body)
            parameters = deployment["properties"]["parameters"]
            assert parameters["joinToken"] == {"value": CANARY_TOKEN}
            assert body.count(CANARY_TOKEN.encode()) == 1
            assert deployment["properties"]["mode"] == "Incremental"
            assert "outputs" in deployment["properties"]["template"]
            carriers.add(f"{method} {uri.split('?')[0].rsplit('/', 1)[-1]}")
    assert carriers == {"POST validate", "PUT ccm-azure-ccm-node"}


CASSETTE_FILES = sorted(CASSETTES.parent.rglob("*.yaml"))  # tests/cassettes/**


def test_every_cassette_is_swept() -> None:
    assert len(CASSETTE_FILES) >= 29
    assert CASSETTES.parent / "validate" / "refresh_api_versions.yaml" in CASSETTE_FILES


@pytest.mark.parametrize(
    "path", CASSETTE_FILES, ids=lambda path: f"{path.parent.name}/{path.stem}"
)
def test_no_cassette_holds_a_token_or_a_secret(path: Path) -> None:
    # RECORDING_TOKEN is the CCM_JOIN_TOKEN of a developer who just recorded, read
    # before any fixture cleared it; on replay it is empty and the canary stands in.
    secrets = [
        CANARY_TOKEN,
        RECORDING_TOKEN,
        SSH_PUBLIC_KEY.split()[1],
        recording.CLIENT_SECRET,
    ]

    assert recording.cassette_leaks(path.read_text(), secrets) == []


def test_token_from_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, fake_credential: FakeCredential
) -> None:
    monkeypatch.setenv("CCM_JOIN_TOKEN", "short")
    arguments = [
        "-l",
        "eastus",
        "--subscription",
        SUBSCRIPTION,
        "--installer-url",
        INSTALLER_URL,
    ]

    result = run(arguments, fake_credential)

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "CCM_JOIN_TOKEN" in line
    assert "short" not in line


# --- bad input: one line, exit 2, no request ------------------------------------------


BAD_INPUTS = {
    "unknown region": (["--region", "westeurope"], "westeurope"),
    "AMD SEV-SNP size": (["--size", "Standard_DC2as_v5"], "SEV-SNP"),
    "no SGX at all": (["--size", "Standard_D2s_v5"], "SGX"),
    "Ubuntu 16.04": (["--os", "ubuntu-16.04"], "end of life"),
    "CentOS 7": (["--os", "centos-7"], "end of life"),
    "attestation": (["--attestation", "TPM"], "attestation"),
    "malformed label": (["--label", "novalue"], "Key:Value"),
    "reserved label": (["--label", "ccm:owner"], "reserved"),
    "bad VM name": (["--name", "-node"], "VM name"),
    "SSH open to all": (["--ssh-source", "0.0.0.0/0"], "SSH source"),
    "subscription name": (["--subscription", "My Subscription"], "GUID"),
    "http installer": (["--installer-url", "http://example.com/a.tgz"], "https"),
    "empty size": (["--size", ""], "--size is empty"),
    "empty OS": (["--os", " "], "--os is empty"),
    "empty attestation": (["--attestation", ""], "--attestation is empty"),
    "empty resource group": (["-g", ""], "-g/--resource-group is empty"),
    "empty admin user": (["--admin-username", ""], "--admin-username is empty"),
    "empty installer URL": (["--installer-url", ""], "--installer-url is empty"),
    "empty subscription": (["--subscription", ""], "--subscription is empty"),
    "same label twice": (
        ["--label", "env:prod", "--label", "env:prod"],
        "Label key 'env' is given twice",
    ),
    "newline in a label": (["--label", "env:prod\nrm"], "control character"),
    "tab in a label": (["--label", "env:a\tb"], "control character"),
    "password and key": (["--admin-password"], "contradict each other"),
}


@pytest.mark.parametrize(
    ("change", "expected"), BAD_INPUTS.values(), ids=list(BAD_INPUTS)
)
def test_bad_input_is_one_line_exit_2_and_no_request(
    change: list[str],
    expected: str,
    node: NodeArguments,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    arguments = node()
    option = change[0]
    if option in arguments:
        index = arguments.index(option)
        del arguments[index : index + 2]
    built: list[str] = []

    def no_credential() -> Any:
        built.append("credential")
        raise AssertionError("a credential was built for bad input")

    result = run(arguments + change, factory=no_credential)

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert expected.lower() in line.lower()
    assert len(result.stderr.strip().splitlines()) == 1
    assert built == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [("\n", "empty"), ("   \t\n", "empty"), ("two words-and-more-here\n", "white")],
)
def test_bad_token_is_one_line_exit_2(
    content: str,
    expected: str,
    tmp_path: Path,
    node: NodeArguments,
    fake_credential: FakeCredential,
) -> None:
    path = tmp_path / "token"
    path.write_text(content)

    result = run(node(token=path), fake_credential)

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert expected in line
    assert "two words" not in line


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("\ufeff\ufeff" + CANARY_TOKEN, "not printable ASCII"),
        (CANARY_TOKEN + "\x00", "not printable ASCII"),
        (CANARY_TOKEN + "\u00e9", "not printable ASCII"),
        ("\x07" * 20, "not printable ASCII"),
    ],
    ids=["two byte-order marks", "NUL", "non-ASCII letter", "bell characters"],
)
def test_invisible_characters_in_a_token_are_refused_without_quoting_it(
    content: str, expected: str, tmp_path: Path, node: NodeArguments
) -> None:
    path = tmp_path / "token"
    path.write_bytes(content.encode() + b"\n")

    result = run(node(token=path), factory=lambda: pytest.fail("reached Azure"))

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert expected in line
    assert CANARY_TOKEN not in line
    assert "--token-file" in line


def test_a_token_given_as_the_token_file_is_not_echoed(node: NodeArguments) -> None:
    # The user meant --token, or pasted the token where the path goes.
    result = run(node(token=Path(CANARY_TOKEN)), factory=lambda: pytest.fail("Azure"))

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "--token-file does not exist" in line
    assert CANARY_TOKEN not in result.stderr


def write_offer(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my-offer.toml"
    path.write_text(text)
    return path


def test_an_offer_file_without_installer_is_named_as_an_offer_file(
    node: NodeArguments, tmp_path: Path
) -> None:
    arguments = node()
    index = arguments.index("--installer-url")
    del arguments[index : index + 2]
    offer = write_offer(tmp_path, "")

    result = run([*arguments, "--offer", str(offer)], factory=lambda: pytest.fail("x"))

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert f"The offer file {offer} names no node-agent installer" in line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[attestation]\ndefault = "EPID"\n',
            "'attestation.default' cannot be EPID: Intel retired",
        ),
        (
            '[installer]\nurl = "https://example.org/i.tgz"\nsha256 = "xyz"\n',
            "'installer.sha256': the installer sha256 must be 64 hexadecimal digits.",
        ),
    ],
    ids=["EPID default", "bad sha256"],
)
def test_offer_file_errors_name_the_right_key_in_one_sentence(
    text: str, expected: str, node: NodeArguments, tmp_path: Path
) -> None:
    offer = write_offer(tmp_path, text)

    result = run([*node(), "--offer", str(offer)], factory=lambda: pytest.fail("x"))

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert expected in line
    assert ".." not in line
    assert "'installer.url'" not in line


def test_an_offer_without_installer_needs_installer_url(node: NodeArguments) -> None:
    arguments = node()
    index = arguments.index("--installer-url")
    del arguments[index : index + 2]

    result = run(arguments, factory=lambda: pytest.fail("reached Azure"))

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "--installer-url" in line


def test_missing_subscription_is_one_line_exit_2(
    node: NodeArguments, fake_credential: FakeCredential
) -> None:
    arguments = node()
    arguments.remove("--subscription")
    arguments.remove(SUBSCRIPTION)

    result = run(arguments, fake_credential)

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "AZURE_SUBSCRIPTION_ID" in line


def test_no_token_and_no_terminal_is_one_line_exit_2(
    fake_credential: FakeCredential,
) -> None:
    arguments = ["-l", "eastus", "--subscription", SUBSCRIPTION]
    arguments += ["--installer-url", INSTALLER_URL]

    result = run(arguments, fake_credential)

    line = assert_one_line_error(result, ExitCode.USAGE)
    assert "--token-file" in line
    assert "CCM_JOIN_TOKEN" in line


def test_epid_is_allowed_with_a_warning(node: NodeArguments) -> None:
    def stop() -> Any:
        raise AssertionError("reached Azure")

    result = run(node("--attestation", "epid"), factory=stop)

    assert "warning: Intel retired EPID" in result.stderr
    assert isinstance(result.exception, AssertionError)


# --- how the outputs are printed ------------------------------------------------------


def private_node(number: int) -> dict[str, str]:
    address = f"10.0.0.{number + 3}"
    return {
        "vmName": f"sgx-{number}",
        "privateIpAddress": address,
        "publicIpAddress": "",
        "fqdn": "",
        "sshCommand": f"ssh azureuser@{address}",
    }


def test_json_prints_the_nodes_output_as_it_is() -> None:
    outputs = {"nodes": [private_node(n) for n in (1, 2, 3)]}

    assert json.loads(format_outputs(outputs, "json")) == outputs


def test_table_of_private_nodes_leaves_out_the_empty_columns() -> None:
    outputs = {"nodes": [private_node(n) for n in (1, 2, 3, 10)]}

    assert format_outputs(outputs, "table").splitlines() == [
        "Node    Private IP  SSH command",
        "------  ----------  -----------------------",
        "sgx-1   10.0.0.4    ssh azureuser@10.0.0.4",
        "sgx-2   10.0.0.5    ssh azureuser@10.0.0.5",
        "sgx-3   10.0.0.6    ssh azureuser@10.0.0.6",
        "sgx-10  10.0.0.13   ssh azureuser@10.0.0.13",
    ]


def test_table_of_outputs_of_another_shape_is_name_and_value() -> None:
    outputs = {"vmName": "ccm-node", "ports": [22]}

    assert format_outputs(outputs, "table").splitlines() == [
        "Name    Value",
        "------  --------",
        "vmName  ccm-node",
        "ports   [22]",
    ]
