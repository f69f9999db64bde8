"""Azure's error trees become one readable line with the right exit code."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from ccm_azure.deploy import errors
from ccm_azure.errors import ExitCode

# Real recorded ARM bodies beside the checkout (../shared); absent in a fresh clone.
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "azure-samples"
SITUATION = errors.Situation(
    resource_group="ccm-node-eastus",
    deployment_name="ccm-azure-ccm-node",
    started=False,
)


def test_nested_json_messages_are_flattened() -> None:
    provider_error = {
        "status": "Failed",
        "error": {
            "code": "ResourceDeploymentFailure",
            "message": "The resource operation completed with terminal provisioning "
            "state 'Failed'.",
            "details": [{"code": "SkuNotAvailable", "message": "Not\r\n available."}],
        },
    }
    tree = {
        "code": "DeploymentFailed",
        "message": "At least one resource deployment operation failed.",
        "details": [
            {"code": "Conflict", "message": json.dumps(provider_error, indent=2)}
        ],
    }

    items = errors.flatten_error(tree)

    assert [item.code for item in items] == [
        "DeploymentFailed",
        "Conflict",
        "ResourceDeploymentFailure",
        "SkuNotAvailable",
    ]
    assert items[1].message == ""
    assert items[3].message == "Not available"


def test_repeated_items_are_named_once() -> None:
    leaf = {"code": "QuotaExceeded", "message": "Too many cores."}
    tree = {"code": "InvalidTemplateDeployment", "details": [leaf, dict(leaf)]}

    assert len(errors.flatten_error(tree)) == 2


def test_very_long_messages_are_cut_at_a_word() -> None:
    tree = {"code": "QuotaExceeded", "message": "word " * 200}

    message = errors.flatten_error(tree)[0].message

    assert len(message) < 420
    assert message.endswith("word [...]")


def test_the_recorded_preflight_sample_reads_as_one_line() -> None:
    sample = SAMPLES / "deployment-put-400-invalid-template.json"
    if not sample.exists():
        pytest.skip("../shared is not present")
    body = json.loads(sample.read_text())["error"]

    line = str(errors.rejected(body, SITUATION))

    assert "\n" not in line
    assert line.startswith(
        "Azure rejected the deployment 'ccm-azure-ccm-node' in resource group "
        "'ccm-node-eastus' (InvalidTemplateDeployment): InvalidDomainNameLabel: "
    )
    assert line.endswith("nothing was deployed.")


def test_failed_resources_come_from_the_failed_operations() -> None:
    sample = SAMPLES / "deployment-operations-list-200.json"
    operations: list[dict[str, Any]] = []
    if sample.exists():
        operations += json.loads(sample.read_text())["value"]
    operations.append(
        {
            "operationId": "1",
            "properties": {
                "provisioningState": "Failed",
                "statusCode": "Conflict",
                "targetResource": {
                    "resourceType": "Microsoft.Compute/virtualMachines",
                    "resourceName": "ccm-node",
                },
                "statusMessage": {
                    "error": {
                        "code": "ResourceDeploymentFailure",
                        "details": [{"code": "SkuNotAvailable", "message": "x"}],
                    }
                },
            },
        }
    )

    failed = errors.failed_resources(operations)

    assert [str(resource) for resource in failed] == [
        "Microsoft.Compute/virtualMachines/ccm-node (SkuNotAvailable)"
    ]


def test_advice_follows_the_inner_codes() -> None:
    assert "quota" in errors.next_step(["X", "QuotaExceeded"], "default")
    assert errors.next_step(["InvalidTemplateDeployment"], "default") == "default"
    assert "bug" in errors.next_step(["InvalidTemplate"], "default")


def test_secrets_are_removed_from_messages() -> None:
    situation = errors.Situation(
        "rg", "d", started=True, redact=lambda text: text.replace("s3cret", "[secure]")
    )
    body = {"code": "DeploymentFailed", "details": [{"code": "X", "message": "s3cret"}]}

    message = str(errors.failed(body, situation))

    assert "s3cret" not in message
    assert "[secure]" in message


class _Response:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code = status
        self.reason = "Reason"
        self.headers: dict[str, str] = {}
        self.content_type = "application/json"
        self._body = json.dumps(body)

    def text(self, encoding: str | None = None) -> str:
        return self._body

    def body(self) -> bytes:
        return self._body.encode()


def _http_error(status: int, body: dict[str, Any]) -> Exception:
    from azure.core.exceptions import HttpResponseError

    return HttpResponseError(response=_Response(status, body))


@pytest.mark.parametrize(
    ("status", "started", "kind", "exit_code"),
    [
        (400, False, errors.AzureRejected, ExitCode.AZURE_REJECTED),
        (403, False, errors.AzureRejected, ExitCode.AZURE_REJECTED),
        (200, True, errors.DeploymentFailed, ExitCode.DEPLOYMENT_FAILED),
        (429, False, errors.AzureUnavailable, ExitCode.AZURE_UNAVAILABLE),
        (503, True, errors.AzureUnavailable, ExitCode.AZURE_UNAVAILABLE),
    ],
)
def test_http_errors_map_to_exit_codes(
    status: int, started: bool, kind: type, exit_code: ExitCode
) -> None:
    error = _http_error(status, {"error": {"code": "SomeCode", "message": "Why."}})
    situation = errors.Situation("rg", "d", started=started)

    mapped = errors.from_azure_error(error, situation)

    assert isinstance(mapped, kind)
    assert mapped.exit_code == exit_code
    assert "SomeCode: Why" in str(mapped) or "(SomeCode)" in str(mapped)


def test_authorization_failed_says_which_role_to_ask_for() -> None:
    body = {"error": {"code": "AuthorizationFailed", "message": "The client has no..."}}

    mapped = errors.from_azure_error(_http_error(403, body), SITUATION)

    assert "Contributor role" in str(mapped)


def test_credential_failures_say_how_to_sign_in() -> None:
    from azure.identity import CredentialUnavailableError

    error = CredentialUnavailableError(
        "EnvironmentCredential: AADSTS7000215: Invalid client secret provided.\nmore"
    )

    mapped = errors.from_azure_error(error, SITUATION)

    assert isinstance(mapped, errors.SignInFailed)
    assert mapped.exit_code == ExitCode.AUTHENTICATION
    assert str(mapped) == (
        "Could not sign in to Azure: EnvironmentCredential got no token (Microsoft "
        "Entra ID answered AADSTS7000215: Invalid client secret provided). Next: set "
        "AZURE_CLIENT_SECRET to the client secret's value (not its secret id), or "
        "create a new secret with `az ad sp credential reset --id AZURE_CLIENT_ID`, "
        "then run the command again."
    )


def test_a_refused_token_is_an_authentication_error() -> None:
    from azure.core.exceptions import ClientAuthenticationError

    body = {"error": {"code": "InvalidAuthenticationTokenTenant", "message": "..."}}
    error = ClientAuthenticationError(response=_Response(401, body))

    mapped = errors.from_azure_error(error, SITUATION)

    assert mapped.exit_code == ExitCode.AUTHENTICATION
    assert "InvalidAuthenticationTokenTenant" in str(mapped)


def test_an_unreachable_azure_is_azure_unavailable() -> None:
    from azure.core.exceptions import ServiceRequestError

    error = ServiceRequestError("Failed to establish a new connection\nsecond line")

    mapped = errors.from_azure_error(error, SITUATION)

    assert mapped.exit_code == ExitCode.AZURE_UNAVAILABLE
    assert "HTTPS_PROXY" in str(mapped)
    assert "\n" not in str(mapped)


# --- errors without inner details -----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (
            "AuthorizationFailed",
            "The client 'x' with object id 'y' does not have authorization to perform "
            "action 'Microsoft.Resources/deployments/validate/action'.",
        ),
        (
            "RequestDisallowedByPolicy",
            "Resource 'ccm-node' was disallowed by policy. Policy identifiers: "
            "'Allowed virtual machine size SKUs'.",
        ),
    ],
)
def test_the_outer_message_stays_when_there_are_no_inner_errors(
    code: str, message: str
) -> None:
    line = str(errors.rejected({"code": code, "message": message}, SITUATION))

    assert f"({code}): {message.rstrip('.')}" in line


def test_advice_names_the_real_resource_group_and_deployment() -> None:
    body = {"code": "DeploymentActive", "message": "Still active."}

    line = str(errors.rejected(body, SITUATION))

    assert "`ccm-azure status ccm-azure-ccm-node -g ccm-node-eastus" in line
    assert "RESOURCE_GROUP" not in line


class _EmptyResponse(_Response):
    def __init__(self, status: int, reason: str, text: str = "") -> None:
        super().__init__(status, {})
        self.reason = reason
        self._body = text


@pytest.mark.parametrize(
    ("status", "reason", "text", "kind", "expected"),
    [
        (403, "Forbidden", "", errors.AzureRejected, "has no permission on"),
        (429, "Too Many Requests", "", errors.AzureUnavailable, "throttled"),
        (500, "Internal Server Error", "", errors.AzureUnavailable, "unavailable"),
        (
            502,
            "Bad Gateway",
            "<html>502</html>",
            errors.AzureUnavailable,
            "unavailable",
        ),
        (503, "Service Unavailable", "", errors.AzureUnavailable, "unavailable"),
        (405, "Method Not Allowed", "", errors.AzureRejected, "without saying why"),
    ],
)
def test_a_status_without_a_body_still_says_what_happened(
    status: int, reason: str, text: str, kind: type, expected: str
) -> None:
    from azure.core.exceptions import HttpResponseError

    error = HttpResponseError(response=_EmptyResponse(status, reason, text))

    mapped = errors.from_azure_error(error, SITUATION)

    assert isinstance(mapped, kind)
    assert expected in str(mapped)
    assert f"HTTP {status} {reason}" in str(mapped)
    assert "invalid status" not in str(mapped)
    assert "<html>" not in str(mapped)


def test_a_403_after_the_start_is_a_failed_deployment() -> None:
    from azure.core.exceptions import HttpResponseError

    situation = errors.Situation("rg", "d", started=True)
    error = HttpResponseError(response=_EmptyResponse(403, "Forbidden"))

    mapped = errors.from_azure_error(error, situation)

    assert mapped.exit_code == ExitCode.DEPLOYMENT_FAILED
    assert "Contributor role" in str(mapped)


def test_a_canceled_deployment_is_exit_4_and_says_nobody_knows_who() -> None:
    mapped = errors.canceled(SITUATION)

    assert mapped.exit_code == ExitCode.DEPLOYMENT_FAILED
    assert "was canceled" in str(mapped)
    assert "does not say by whom" in str(mapped)


def test_a_failed_status_without_an_error_points_at_the_operations() -> None:
    from azure.core.exceptions import HttpResponseError

    situation = errors.Situation("rg", "d", started=True)
    error = HttpResponseError(response=_Response(200, {"status": "Failed"}))

    mapped = errors.from_azure_error(error, situation)

    assert mapped.exit_code == ExitCode.DEPLOYMENT_FAILED
    assert str(mapped).startswith("The deployment 'd' in resource group 'rg' failed.")
    assert "`ccm-azure status d -g rg -o table`" in str(mapped)


# --- capacity: exit 7 -----------------------------------------------------------------

QUOTA_MESSAGE = (
    "Operation could not be completed as it results in exceeding quota limits of "
    "Core. Maximum allowed: 4, Current in use: 4, Additional requested: 2."
)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("SkuNotAvailable", "The requested VM size is currently not available."),
        ("QuotaExceeded", "Operation results in exceeding approved quota."),
        ("AllocationFailed", "Allocation failed. We do not have sufficient capacity."),
        ("ZonalAllocationFailed", "Allocation failed in zone 2."),
        ("OperationNotAllowed", QUOTA_MESSAGE),
    ],
)
def test_a_size_azure_cannot_give_is_exit_7_before_and_after_the_start(
    code: str, message: str
) -> None:
    tree = {
        "code": "InvalidTemplateDeployment",
        "details": [{"code": code, "message": message}],
    }
    started = errors.Situation("rg", "d", started=True)

    before = errors.rejected(tree, SITUATION)
    after = errors.failed({**tree, "code": "DeploymentFailed"}, started)

    for mapped in (before, after):
        assert isinstance(mapped, errors.CapacityUnavailable)
        assert mapped.exit_code == ExitCode.NOT_AVAILABLE
        assert f"{code}: " in str(mapped)
        assert "Next: " in str(mapped)
    if code == "OperationNotAllowed":
        assert "request more vCPU quota" in str(before)


def test_an_operation_not_allowed_without_quota_is_no_capacity_problem() -> None:
    tree = {
        "code": "InvalidTemplateDeployment",
        "details": [{"code": "OperationNotAllowed", "message": "Disk is attached."}],
    }

    mapped = errors.rejected(tree, SITUATION)

    assert type(mapped) is errors.AzureRejected


def test_a_failed_operation_alone_can_say_the_size_is_unavailable() -> None:
    situation = errors.Situation("rg", "d", started=True)
    resource = errors.FailedResource(
        "Microsoft.Compute/virtualMachines", "ccm-node", ("ZonalAllocationFailed",)
    )

    mapped = errors.failed({"code": "DeploymentFailed"}, situation, [resource])

    assert mapped.exit_code == ExitCode.NOT_AVAILABLE
    assert "Failed: Microsoft.Compute/virtualMachines/ccm-node" in str(mapped)
    assert "Next: choose another --size or --region" in str(mapped)


# --- the bootstrap script's output ----------------------------------------------------

CANARY = "CANARY-JOIN-TOKEN-9f27c1"


def extension_failure(stdout: str, stderr: str) -> dict[str, Any]:
    message = (
        "VM has reported a failure when processing extension 'install-node-agent' "
        "(publisher 'Microsoft.Azure.Extensions' and type 'CustomScript'). Error "
        "message: 'Enable failed: failed to execute command: command terminated with "
        f"exit status=1\n[stdout]\n{stdout}\n[stderr]\n{stderr}'. More information on "
        "troubleshooting is available at https://aka.ms/VMExtensionCSELinuxTroubleshoot."
    )
    return {
        "code": "DeploymentFailed",
        "details": [{"code": "VMExtensionProvisioningError", "message": message}],
    }


def test_a_failed_script_shows_the_end_of_its_stderr_without_secrets() -> None:
    from ccm_azure.deploy.runner import redactor

    encoded = base64.b64encode(CANARY.encode()).decode()
    stderr = "\n".join(
        [
            "first line that is too early to show",
            "debconf: unable to initialize frontend: Dialog",
            "  % Total    % Received % Xferd  Average Speed   Time    Time     Time",
            "                                 Dload  Upload   Total   Spent    Left",
            "100 18.2M  100 18.2M    0     0  41.3M      0 --:--:-- --:--:-- 41.3M",
            f"+ bash ./installer.sh {CANARY} --attestation-type=DCAP",
            f"installer.sh: sending token {encoded}",
            "",
            "E: Unable to locate package az-dcap-client",
            "\r 45% [Working]\r100% [Working]",
            "[ccm-node-agent] ERROR: " + "apt-get failed. " * 30,
            "",
        ]
    )
    situation = errors.Situation("rg", "d", started=True, redact=redactor([CANARY]))

    line = str(errors.failed(extension_failure("stdout line", stderr), situation))

    assert CANARY not in line
    assert encoded not in line
    assert (
        "the script's stderr ends: installer.sh: sending token [secure] | E: " in line
    )
    assert "first line" not in line
    for noise in ("debconf", "Total", "Dload", "18.2M", "Working", "stdout line"):
        assert noise not in line
    assert "[ccm-node-agent] ERROR: apt-get failed." in line
    assert "[...]" in line  # the long last line is shortened
    assert "\n" not in line


def test_a_script_with_empty_stderr_shows_the_end_of_its_stdout() -> None:
    tail = errors.script_failure(
        extension_failure("one\ntwo\nthree\nfour", "\n")["details"][0]["message"]
    )

    assert tail.endswith("; the script's stdout ends: two | three | four")


def test_other_messages_are_no_script_failure() -> None:
    assert (
        errors.script_failure("The resource operation completed with 'Failed'.") == ""
    )


# --- refused tokens: exit 5 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "step"),
    [
        ("ExpiredAuthenticationToken", "check that this computer's clock"),
        ("InvalidAuthenticationToken", "sign in again in the subscription's tenant"),
    ],
)
def test_a_token_arm_refuses_is_exit_5_even_from_the_poller(
    code: str, step: str
) -> None:
    body = {"error": {"code": code, "message": "The access token is not accepted."}}
    situation = errors.Situation("rg", "d", started=True)

    mapped = errors.from_azure_error(_http_error(401, body), situation)

    assert isinstance(mapped, errors.SignInFailed)
    assert f"(HTTP 401 Reason, {code}): The access token is not accepted" in str(mapped)
    assert "the deployment 'd' was started and goes on in Azure" in str(mapped)
    assert f"Next: {step}" in str(mapped)


# --- provider registration and the network --------------------------------------------


@pytest.mark.parametrize(
    "tree",
    [
        {
            "code": "MissingSubscriptionRegistration",
            "message": "The subscription is not registered to use namespace "
            "'Microsoft.Network'.",
        },
        {
            "code": "InvalidTemplateDeployment",
            "details": [
                {
                    "code": "MissingSubscriptionRegistration",
                    "message": "Not registered.",
                    "details": [{"target": "Microsoft.Network"}],
                }
            ],
        },
    ],
)
def test_an_unregistered_provider_is_named_in_the_command_to_register_it(
    tree: dict[str, Any],
) -> None:
    line = str(errors.rejected(tree, SITUATION))

    assert "`az provider register --namespace Microsoft.Network`" in line
    assert "NAMESPACE" not in line


def test_a_reset_connection_is_named_in_the_operating_systems_words() -> None:
    import requests
    from azure.core.exceptions import ServiceResponseError
    from urllib3.exceptions import ProtocolError

    reset = ConnectionResetError(104, "Connection reset by peer")
    cause = requests.exceptions.ConnectionError(ProtocolError("Aborted.", reset))
    error = ServiceResponseError(str(cause), error=cause)

    mapped = errors.from_azure_error(error, SITUATION)

    assert mapped.exit_code == ExitCode.AZURE_UNAVAILABLE
    assert "(connection reset by peer)" in str(mapped)
    assert "answer lost" in str(mapped)
    assert "Next: check the network" in str(mapped)


def test_a_sign_in_that_cannot_reach_entra_id_is_a_network_problem() -> None:
    from azure.core.exceptions import ClientAuthenticationError

    # The text DefaultAzureCredential raises when DNS fails (azure-identity 1.27).
    error = ClientAuthenticationError(
        message="DefaultAzureCredential failed to retrieve a token from the included "
        "credentials.\nAttempted credentials:\n\tEnvironmentCredential: Authentication "
        "failed: HTTPSConnection(host='login.microsoftonline.com', port=443): Failed "
        "to resolve 'login.microsoftonline.com' ([Errno -2] Name or service not "
        "known)\nTo mitigate this issue, please refer to the troubleshooting "
        "guidelines here at https://aka.ms/azsdk/python/identity/"
        "defaultazurecredential/troubleshoot."
    )

    mapped = errors.sign_in_failed(error)

    assert mapped.exit_code == ExitCode.AZURE_UNAVAILABLE
    assert str(mapped) == (
        "Could not sign in to Azure: EnvironmentCredential could not reach "
        "login.microsoftonline.com (Failed to resolve 'login.microsoftonline.com' "
        "([Errno -2] Name or service not known)). Next: check the network, DNS and "
        "proxy settings (HTTPS_PROXY), then run the command again."
    )


@pytest.mark.parametrize(
    ("status_message", "expected"),
    [
        ({"status": "Failed", "error": {"code": "Conflict"}}, {"code": "Conflict"}),
        ("The VM could not start.", {"message": "The VM could not start."}),
        ('{"error": {"code": "SkuNotAvailable"}}', {"code": "SkuNotAvailable"}),
        (None, {}),
        (["not", "an", "object"], {}),
    ],
    ids=["object", "plain text", "JSON text", "absent", "other"],
)
def test_an_operations_status_message_of_any_shape_gives_its_error(
    status_message: Any, expected: dict[str, Any]
) -> None:
    properties = {"statusMessage": status_message}

    assert errors.operation_error(properties) == expected


def test_a_failed_operation_with_a_text_status_is_still_named() -> None:
    operation = {
        "properties": {
            "provisioningState": "Failed",
            "statusMessage": "The VM could not start.",
            "targetResource": {
                "resourceType": "Microsoft.Compute/virtualMachines",
                "resourceName": "ccm-node-2",
            },
        }
    }

    (failed,) = errors.failed_resources([operation])

    assert str(failed) == "Microsoft.Compute/virtualMachines/ccm-node-2"
