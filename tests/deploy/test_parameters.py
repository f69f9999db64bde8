"""What `ccm-azure deploy` sends to Azure, parameter by parameter.

Replay matches requests on method and URL only, so a command that sent a wrong size
or an inverted public-IP choice would still replay its cassette. These tests read
each request body as the SDK sent it, before the recording hooks scrub it, and
compare the validate and deployment bodies with what the command line asked for.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import recording
from conftest import (
    CANARY_TOKEN,
    INSTALLER_URL,
    PREFLIGHT_PASSES,
    SSH_PUBLIC_KEY,
    FakeCredential,
)
from deploying import all_played, run

pytestmark = PREFLIGHT_PASSES


@dataclasses.dataclass(frozen=True)
class Sent:
    method: str
    path: str
    body: Any


SENT: list[Sent] = []


def remember_sent(request: Any) -> Any:
    """vcrpy `before_record_request` as a spy: it sees each request before scrubbing.

    vcrpy runs it on replay too, before matching: on a copy of the request as sent,
    and sometimes again on its own scrubbed result, which the mark tells apart.
    """
    if not getattr(request, "scrubbed", False):
        body = json.loads(request.body) if request.body else None
        sent = Sent(request.method, request.path, body)
        if sent not in SENT:
            SENT.append(sent)
    scrubbed = recording.scrub_request(request)
    scrubbed.scrubbed = True
    return scrubbed


SPY = pytest.mark.vcr(before_record_request=remember_sent, record_mode="none")


@pytest.fixture
def sent() -> list[Sent]:
    SENT.clear()
    return SENT


def deployment_bodies(sent: list[Sent]) -> dict[str, dict[str, Any]]:
    """The validate and deployment bodies sent, by the last segment of their path."""
    return {
        item.path.rsplit("/", 1)[-1]: item.body
        for item in sent
        if item.body and "parameters" in item.body.get("properties", {})
    }


def parameter_values(body: dict[str, Any]) -> dict[str, Any]:
    parameters = body["properties"]["parameters"]
    assert all(set(wrapped) == {"value"} for wrapped in parameters.values())
    return {name: wrapped["value"] for name, wrapped in parameters.items()}


def common_arguments(token_file: Path, *extra: str) -> list[str]:
    return [
        "--token-file",
        str(token_file),
        "--subscription",
        recording.SUBSCRIPTION,
        "--installer-url",
        INSTALLER_URL,
        *extra,
    ]


CHOSEN = [
    "-l",
    "uksouth",
    "-g",
    "ccm-fleet",
    "-n",
    "ccm-node-7",
    "--size",
    "Standard_DC4ds_v3",
    "--os",
    "ubuntu-22.04",
    "--attestation",
    "EPID",
    "--admin-username",
    "nodeadmin",
    "--ssh-source",
    "203.0.113.0/24",
    "--public-ip",
    "--label",
    "team:blue",
    "--label",
    "env:prod",
]
"""A command line that moves every parameter away from its default."""


@SPY
@pytest.mark.default_cassette("deploy_chosen_parameters.yaml")
def test_every_chosen_parameter_is_sent_to_validate_and_deploy(
    vcr: Any,
    sent: list[Sent],
    token_file: Path,
    ssh_key_file: Path,
    fake_credential: FakeCredential,
) -> None:
    arguments = common_arguments(token_file, "--ssh-key", str(ssh_key_file), *CHOSEN)

    result = run(arguments, fake_credential)

    assert result.exit_code == 0, result.stderr
    assert all_played(vcr)
    bodies = deployment_bodies(sent)
    assert set(bodies) == {"validate", "ccm-azure-ccm-node-7"}
    for body in bodies.values():
        assert body["properties"]["mode"] == "Incremental"
        assert "outputs" in body["properties"]["template"]
        assert parameter_values(body) == {
            "location": "uksouth",
            "vmName": "ccm-node-7",
            "nodeCount": 1,
            "vmSize": "Standard_DC4ds_v3",
            "osImage": "ubuntu-22.04",
            "adminUsername": "nodeadmin",
            "authenticationType": "sshPublicKey",
            "adminPasswordOrKey": SSH_PUBLIC_KEY,
            "joinToken": CANARY_TOKEN,
            "attestationType": "EPID",
            "sshSourceAddressPrefix": "203.0.113.0/24",
            "publicIpNewOrNone": "new",
            "nodeLabels": [
                {"key": "team", "value": "blue"},
                {"key": "env", "value": "prod"},
            ],
        }


@SPY
@pytest.mark.default_cassette("deploy_new_resource_group.yaml")
def test_the_defaults_are_the_offers_and_keep_the_node_closed(
    sent: list[Sent], token_file: Path, fake_credential: FakeCredential
) -> None:
    # The SSH key comes from ~/.ssh/id_ed25519.pub (clean_environment writes it).
    arguments = common_arguments(token_file, "-l", "eastus", "--label", "env:prod")

    result = run(arguments, fake_credential)

    assert result.exit_code == 0, result.stderr
    for body in deployment_bodies(sent).values():
        assert parameter_values(body) == {
            "location": "eastus",
            "vmName": "ccm-node",
            "nodeCount": 1,
            "vmSize": "Standard_DC2s_v3",
            "osImage": "ubuntu-20.04",
            "adminUsername": "azureuser",
            "authenticationType": "sshPublicKey",
            "adminPasswordOrKey": SSH_PUBLIC_KEY,
            "joinToken": CANARY_TOKEN,
            "attestationType": "DCAP",
            "sshSourceAddressPrefix": "",
            "publicIpNewOrNone": "none",
            "nodeLabels": [{"key": "env", "value": "prod"}],
        }
    assert len(deployment_bodies(sent)) == 2


@SPY
@pytest.mark.default_cassette("deploy_chosen_parameters.yaml")
def test_a_password_is_sent_as_the_password_sign_in(
    sent: list[Sent],
    token_file: Path,
    fake_credential: FakeCredential,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    password = "Corr3ct-Horse-Battery"
    monkeypatch.setenv("CCM_ADMIN_PASSWORD", password)
    arguments = common_arguments(token_file, "--admin-password", *CHOSEN)

    result = run(arguments, fake_credential)

    assert result.exit_code == 0, result.stderr
    assert password not in result.stderr + result.stdout
    for body in deployment_bodies(sent).values():
        values = parameter_values(body)
        assert values["authenticationType"] == "password"
        assert values["adminPasswordOrKey"] == password


@SPY
@pytest.mark.default_cassette("deploy_new_resource_group.yaml")
def test_a_token_file_from_notepad_loses_its_byte_order_mark(
    sent: list[Sent], tmp_path: Path, node: Any, fake_credential: FakeCredential
) -> None:
    token_file = tmp_path / "token.txt"
    token_file.write_bytes(b"\xef\xbb\xbf" + CANARY_TOKEN.encode() + b"\r\n")

    result = run(node(token=token_file), fake_credential)

    assert result.exit_code == 0, result.stderr
    assert "byte-order" not in result.stderr
    for body in deployment_bodies(sent).values():
        assert parameter_values(body)["joinToken"] == CANARY_TOKEN


@SPY
@pytest.mark.default_cassette("deploy_new_resource_group.yaml")
def test_an_ssh_key_file_with_a_byte_order_mark_is_accepted(
    sent: list[Sent], tmp_path: Path, token_file: Path, fake_credential: FakeCredential
) -> None:
    key_file = tmp_path / "node.pub"
    key_file.write_bytes(b"\xef\xbb\xbf" + SSH_PUBLIC_KEY.encode() + b"\r\n")
    arguments = common_arguments(token_file, "-l", "eastus", "--ssh-key", str(key_file))

    result = run(arguments, fake_credential)

    assert result.exit_code == 0, result.stderr
    for body in deployment_bodies(sent).values():
        assert parameter_values(body)["adminPasswordOrKey"] == SSH_PUBLIC_KEY


def test_the_spy_sees_what_the_sdk_sends() -> None:
    from vcr.request import Request

    SENT.clear()
    body = {"properties": {"parameters": {"joinToken": {"value": CANARY_TOKEN}}}}
    request = Request(
        "POST",
        "https://management.azure.com/x/validate",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )

    scrubbed = remember_sent(request)

    assert [Sent("POST", "/x/validate", body)] == SENT
    assert CANARY_TOKEN not in scrubbed.body.decode()
