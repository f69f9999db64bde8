"""Every way Azure can make a deployment fail, replayed: the one line a user sees.

Each fault is a cassette, the command line that meets it, the exit code it must end
with and what its one stderr line must say: the cause, Azure's codes, the failed
resources once the deployment had started, and a `Next:` step. Every fault runs with
--debug, and neither stdout, stderr, any log record nor the cassette may hold the join
token. Faults that Azure or the SDK recover from (a retried throttle, a retried 5xx, a
dropped connection, a provider registered on the fly, a lost status) must end in
success just as quietly.

A cassette cannot hold a dropped connection, so `dropping` makes requests raise the
reset that a broken connection gives, before vcrpy sees the request; the cassette
holds the answers that came through.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import recording
import requests
import vcr
from conftest import CANARY_TOKEN, CASSETTES, FakeCredential, NodeArguments
from deploying import (
    Outcome,
    WithSharedAnswers,
    all_played,
    assert_no_canary,
    assert_one_line_error,
    interactions,
    run,
)
from urllib3.exceptions import ProtocolError

from ccm_azure.errors import ExitCode

FLEET = ("-g", "ccm-fleet")
DEPLOYMENT_PUT = (
    f"PUT /subscriptions/{recording.SUBSCRIPTION}/resourcegroups/ccm-fleet/providers/"
    "Microsoft.Resources/deployments/ccm-azure-ccm-node"
)


@dataclasses.dataclass(frozen=True)
class Fault:
    """A cassette, the deploy arguments that meet it, and how the command must end."""

    cassette: str
    exit_code: ExitCode
    says: tuple[str, ...] = ()
    """Fragments of the error line, in the order they must appear."""
    arguments: tuple[str, ...] = FLEET
    drops: int = 0
    """How many deployment PUTs lose their connection before an answer."""
    service_principal: bool = False
    """Sign in with the real credential chain and a service principal's variables."""


FAULTS = {
    "throttled persistently": Fault(
        "fault_throttled_persistently.yaml",
        ExitCode.AZURE_UNAVAILABLE,
        (
            "throttled the requests for the deployment 'ccm-azure-ccm-node' "
            "(HTTP 429 Too Many Requests) and kept doing so after retries",
            "(SubscriptionRequestsThrottled): Number of 'write' requests",
            "Next: wait a few minutes",
        ),
    ),
    "gateway failing persistently": Fault(
        "deploy_gateway_unavailable.yaml",
        ExitCode.AZURE_UNAVAILABLE,
        ("unavailable (HTTP 502 Bad Gateway) and kept failing after retries", "Next:"),
    ),
    "status endpoint failing persistently": Fault(
        "fault_status_unavailable.yaml",
        ExitCode.AZURE_UNAVAILABLE,
        (
            "unavailable (HTTP 503 Service Unavailable)",
            "(ServiceUnavailable): The server (leader) is currently unavailable",
            "The deployment 'ccm-azure-ccm-node' was started and goes on in Azure: "
            "follow it with `ccm-azure status ccm-azure-ccm-node -g ccm-fleet "
            "--subscription 00000000-0000-0000-0000-000000000000 --wait`",
            "Next: wait a few minutes",
        ),
    ),
    "connection keeps dropping": Fault(
        "fault_connection_keeps_dropping.yaml",
        ExitCode.AZURE_UNAVAILABLE,
        (
            "Could not reach Azure Resource Manager (connection reset by peer)",
            "even after retries",
            "check whether the deployment started with `ccm-azure status "
            "ccm-azure-ccm-node -g ccm-fleet --subscription "
            "00000000-0000-0000-0000-000000000000`",
            "Next: check the network",
        ),
        drops=4,
    ),
    "validation refusal": Fault(
        "fault_property_change_refused.yaml",
        ExitCode.AZURE_REJECTED,
        (
            "Azure rejected the deployment 'ccm-azure-ccm-node' in resource group "
            "'ccm-fleet' (InvalidTemplateDeployment)",
            "PropertyChangeNotAllowed: Changing property 'osProfile.adminUsername' is "
            "not allowed",
            "Next: the VM exists with another value",
        ),
        (*FLEET, "--admin-username", "nodeadmin"),
    ),
    "validation capacity refusal": Fault(
        "deploy_rejected_by_validation.yaml",
        ExitCode.NOT_AVAILABLE,
        ("(InvalidTemplateDeployment): SkuNotAvailable:", "QuotaExceeded:", "Next:"),
        (*FLEET, "--size", "Standard_DC4s_v3"),
    ),
    "validation quota refusal in a new group": Fault(
        "fault_quota_refused_in_new_group.yaml",
        ExitCode.NOT_AVAILABLE,
        (
            "(InvalidTemplateDeployment): QuotaExceeded: Operation could not be "
            "completed as it results in exceeding approved Total Regional Cores quota",
            "Next: request more vCPU quota",
            "Resource group 'ccm-node-eastus', created by this run, is being deleted.",
        ),
        (),
    ),
    "policy refusal in a new group": Fault(
        "deploy_refused_in_new_group.yaml",
        ExitCode.AZURE_REJECTED,
        ("(RequestDisallowedByPolicy)", "Next:", "is being deleted."),
        (),
    ),
    "deployment already running": Fault(
        "deploy_deployment_active.yaml",
        ExitCode.AZURE_REJECTED,
        ("(DeploymentActive)", "Next: wait for the running deployment"),
    ),
    "no permission": Fault(
        "deploy_group_forbidden.yaml",
        ExitCode.AZURE_REJECTED,
        ("HTTP 403 Forbidden", "Next: ask an owner"),
        (),
    ),
    "size unavailable while deploying": Fault(
        "fault_async_sku_not_available.yaml",
        ExitCode.NOT_AVAILABLE,
        (
            "The deployment 'ccm-azure-ccm-node' in resource group 'ccm-fleet' failed "
            "(DeploymentFailed): SkuNotAvailable: The requested VM size",
            "Failed: Microsoft.Compute/virtualMachines/ccm-node (SkuNotAvailable)",
            "Next: choose another --size or --region",
        ),
    ),
    "quota exceeded while deploying": Fault(
        "fault_async_quota_exceeded.yaml",
        ExitCode.NOT_AVAILABLE,
        (
            "failed (DeploymentFailed): QuotaExceeded: Operation could not be "
            "completed as it results in exceeding approved standardDCSv3Family "
            "Cores quota",
            "Failed: Microsoft.Compute/virtualMachines/ccm-node (QuotaExceeded)",
            "Next: request more vCPU quota",
        ),
    ),
    "bootstrap script failed": Fault(
        "fault_extension_script_failed.yaml",
        ExitCode.DEPLOYMENT_FAILED,
        (
            "(DeploymentFailed)",
            "VMExtensionProvisioningError: VM has reported a failure when processing "
            "extension 'install-node-agent' (publisher 'Microsoft.Azure.Extensions' "
            "and type 'CustomScript'): Enable failed: failed to execute command: "
            "command terminated with exit status=1; the script's stderr ends: ",
            "error: enrolment refused by https://ccm.fortanix.com (HTTP 401): the "
            "join token has expired | [ccm-node-agent] ERROR: The CCM node agent "
            "installer failed with exit code 3",
            "Failed: Microsoft.Compute/virtualMachines/extensions/ccm-node/"
            "install-node-agent (VMExtensionProvisioningError)",
            "Next: the node agent did not install",
        ),
    ),
    "agent install failed (older cassette)": Fault(
        "deploy_extension_failed.yaml",
        ExitCode.DEPLOYMENT_FAILED,
        ("the script's stdout ends: install-node-agent: enrolment refused", "Next:"),
        (*FLEET, "--name", "ccm-node-2"),
    ),
    "canceled": Fault(
        "deploy_canceled.yaml",
        ExitCode.DEPLOYMENT_FAILED,
        ("was canceled", "Next: find out who canceled it"),
    ),
    "service principal secret refused": Fault(
        "fault_sign_in_refused.yaml",
        ExitCode.AUTHENTICATION,
        (
            "Could not sign in to Azure: EnvironmentCredential got no token (Microsoft "
            "Entra ID answered AADSTS7000215: Invalid client secret provided)",
            "Next: set AZURE_CLIENT_SECRET to the client secret's value",
        ),
        (),
        service_principal=True,
    ),
    "token refused": Fault(
        "fault_token_invalid.yaml",
        ExitCode.AUTHENTICATION,
        (
            "Azure Resource Manager refused the access token (HTTP 401 Unauthorized, "
            "invalid_token): The access token is invalid",
            "Next: sign in again in the subscription's tenant",
        ),
        (),
    ),
    "token expired while deploying": Fault(
        "fault_token_expired.yaml",
        ExitCode.AUTHENTICATION,
        (
            "refused the access token (HTTP 401 Unauthorized, "
            "ExpiredAuthenticationToken): The access token expiry UTC time",
            "the deployment 'ccm-azure-ccm-node' was started and goes on in Azure",
            "Next: check that this computer's clock is right",
        ),
    ),
    "provider registration refused": Fault(
        "fault_registration_refused.yaml",
        ExitCode.AZURE_REJECTED,
        (
            "(MissingSubscriptionRegistration): The subscription is not registered to "
            "use namespace 'Microsoft.Compute'",
            "Next: register the resource provider with `az provider register "
            "--namespace Microsoft.Compute`",
        ),
    ),
}

RECOVERIES = {
    "throttled once": Fault("deploy_throttled_then_accepted.yaml", ExitCode.OK),
    "5xx once": Fault("fault_server_error_then_accepted.yaml", ExitCode.OK),
    "connection dropped once": Fault(
        "deploy_new_resource_group.yaml", ExitCode.OK, arguments=(), drops=1
    ),
    "provider registered": Fault("deploy_registers_the_provider.yaml", ExitCode.OK),
    "status lost": Fault(
        "deploy_status_not_found.yaml",
        ExitCode.OK,
        arguments=(*FLEET, "--name", "ccm-node-3", "--no-public-ip"),
    ),
}


# --- replaying a fault ----------------------------------------------------------------


@contextlib.contextmanager
def replay(cassette: str, **overrides: Any) -> Iterator[Any]:
    """The cassette, replayed with the deploy tests' vcr configuration."""
    config = {**recording.vcr_config(), **overrides}
    player = vcr.VCR(cassette_library_dir=str(CASSETTES), record_mode="none")
    player.register_persister(WithSharedAnswers)
    with player.use_cassette(cassette, **config) as loaded:
        yield loaded


@dataclasses.dataclass
class Dropping:
    """Resets the connection of the first `times` requests whose start matches."""

    request: str
    times: int
    attempts: int = 0

    def send(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def send(adapter: Any, prepared: Any, *args: Any, **kwargs: Any) -> Any:
            path = prepared.path_url.split("?")[0]
            if f"{prepared.method} {path}" == self.request:
                self.attempts += 1
                if self.attempts <= self.times:
                    # What requests raises when the peer resets the connection.
                    reset = ConnectionResetError(104, "Connection reset by peer")
                    raise requests.exceptions.ConnectionError(
                        ProtocolError("Connection aborted.", reset), request=prepared
                    )
            return original(adapter, prepared, *args, **kwargs)

        return send


@pytest.fixture
def dropping(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, int], Dropping]:
    send = requests.adapters.HTTPAdapter.send

    def drop(request: str, times: int) -> Dropping:
        dropper = Dropping(request, times)
        monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", dropper.send(send))
        return dropper

    return drop


@pytest.fixture
def service_principal(monkeypatch: pytest.MonkeyPatch) -> None:
    """A service principal's variables, with the fake ids and secret of the tests."""
    monkeypatch.setenv("AZURE_TENANT_ID", recording.TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", recording.CLIENT)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", recording.CLIENT_SECRET)


@dataclasses.dataclass
class Replayed:
    result: Outcome
    cassette: Any
    dropper: Dropping | None


@pytest.fixture
def meet(
    node: NodeArguments,
    fake_credential: FakeCredential,
    dropping: Callable[[str, int], Dropping],
    request: pytest.FixtureRequest,
) -> Callable[..., Replayed]:
    """Runs `ccm-azure [--debug] deploy` against a fault's cassette."""

    def run_fault(fault: Fault, *, debug: bool = False, **overrides: Any) -> Replayed:
        dropper = None
        if fault.drops:
            put = DEPLOYMENT_PUT.replace("ccm-fleet", _group(fault.arguments))
            dropper = dropping(put, fault.drops)
        credential = None
        if fault.service_principal:
            request.getfixturevalue("service_principal")
        else:
            credential = fake_credential
        with replay(fault.cassette, **overrides) as cassette:
            result = run(node(*fault.arguments), credential, debug=debug)
        return Replayed(result, cassette, dropper)

    return run_fault


def _group(arguments: tuple[str, ...]) -> str:
    return (
        arguments[arguments.index("-g") + 1]
        if "-g" in arguments
        else ("ccm-node-eastus")
    )


# --- the sweep: every fault, every channel --------------------------------------------


@pytest.mark.parametrize("fault", FAULTS.values(), ids=list(FAULTS))
def test_each_fault_is_one_line_with_its_exit_code_and_no_token(
    fault: Fault,
    meet: Callable[..., Replayed],
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    quiet = meet(fault)
    debug = meet(fault, debug=True)

    line = assert_one_line_error(quiet.result, fault.exit_code)
    assert quiet.result.stderr.count("ccm-azure: error:") == 1
    assert "WARNING" not in quiet.result.stderr
    position = 0
    for fragment in fault.says:
        found = line.find(fragment, position)
        assert found >= 0, f"{fragment!r} not in order in:\n{line}"
        position = found + len(fragment)
    assert " Next: " in line
    assert line.endswith(".")
    assert "\\r\\n" not in line
    assert all_played(quiet.cassette)
    # --debug shows the libraries' records (tracebacks included), never the token.
    assert debug.result.exit_code == fault.exit_code
    assert debug.result.stderr.strip().splitlines()[-1] == line
    assert all_played(debug.cassette)
    assert_no_canary(debug.result, debug_logs)
    assert_no_canary(quiet.result, debug_logs)
    text = (CASSETTES / fault.cassette).read_text()
    assert recording.cassette_leaks(text, [CANARY_TOKEN]) == []


@pytest.mark.parametrize("fault", RECOVERIES.values(), ids=list(RECOVERIES))
def test_each_recovered_fault_ends_in_success_without_the_token(
    fault: Fault,
    meet: Callable[..., Replayed],
    debug_logs: pytest.LogCaptureFixture,
) -> None:
    replayed = meet(fault, debug=True)

    assert replayed.result.exit_code == 0, replayed.result.stderr
    assert replayed.result.stdout.startswith("{")
    assert "error" not in replayed.result.stderr.lower().replace("errors", "")
    assert all_played(replayed.cassette)
    assert_no_canary(replayed.result, debug_logs)


def test_every_fault_cassette_is_in_the_sweep() -> None:
    swept = {fault.cassette for fault in [*FAULTS.values(), *RECOVERIES.values()]}

    assert {path.name for path in CASSETTES.glob("fault_*.yaml")} <= swept


# --- throttling and retries -----------------------------------------------------------


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """What azure-core asked to sleep, retries and polls alike; nothing sleeps."""
    from azure.core.pipeline.transport import RequestsTransport

    asked: list[float] = []
    monkeypatch.setattr(RequestsTransport, "sleep", lambda self, s: asked.append(s))
    return asked


# Without the hook that zeroes Retry-After as a cassette loads: Azure's own values.
KEEP_RETRY_AFTER: dict[str, Any] = {"after_load_interaction": None}


def test_persistent_throttling_waits_each_retry_after_then_gives_up(
    meet: Callable[..., Replayed], sleeps: list[float]
) -> None:
    from ccm_azure.deploy.clients import DEFAULT_RETRY_TOTAL

    replayed = meet(FAULTS["throttled persistently"], **KEEP_RETRY_AFTER)

    assert replayed.result.exit_code == ExitCode.AZURE_UNAVAILABLE
    puts = interactions(replayed.cassette).count(DEPLOYMENT_PUT)
    # The first try and azure-core's three status retries, within DEFAULT_RETRY_TOTAL.
    assert puts == 4
    assert puts - 1 <= DEFAULT_RETRY_TOTAL
    assert sleeps == [17, 17, 17]


def test_a_single_throttle_waits_its_retry_after_once(
    meet: Callable[..., Replayed], sleeps: list[float]
) -> None:
    replayed = meet(RECOVERIES["throttled once"], **KEEP_RETRY_AFTER)

    assert replayed.result.exit_code == 0, replayed.result.stderr
    assert sleeps[0] == 17
    assert [s for s in sleeps[1:] if s] == []  # the polls: polling_interval 0


def test_replay_zeroes_retry_after_so_nothing_waits(
    meet: Callable[..., Replayed], sleeps: list[float]
) -> None:
    replayed = meet(FAULTS["throttled persistently"])

    assert replayed.result.exit_code == ExitCode.AZURE_UNAVAILABLE
    assert interactions(replayed.cassette).count(DEPLOYMENT_PUT) == 4
    assert sleeps == []


def test_a_5xx_is_retried_on_the_put_and_on_the_status_poll(
    meet: Callable[..., Replayed],
) -> None:
    replayed = meet(RECOVERIES["5xx once"])

    own = replayed.cassette.responses[: len(interactions(replayed.cassette))]
    statuses = [response["status"]["code"] for response in own]
    assert statuses == [204, 200, 500, 201, 503, 200, 200]
    assert replayed.result.exit_code == 0, replayed.result.stderr


# --- dropped connections --------------------------------------------------------------


def test_a_dropped_connection_is_sent_again(meet: Callable[..., Replayed]) -> None:
    replayed = meet(RECOVERIES["connection dropped once"])

    assert replayed.result.exit_code == 0, replayed.result.stderr
    assert replayed.dropper is not None
    assert replayed.dropper.attempts == 2  # reset, then answered from the cassette


def test_a_connection_that_keeps_dropping_is_given_up_after_the_retries(
    meet: Callable[..., Replayed],
) -> None:
    replayed = meet(FAULTS["connection keeps dropping"])

    assert replayed.result.exit_code == ExitCode.AZURE_UNAVAILABLE
    assert replayed.dropper is not None
    assert replayed.dropper.attempts == 4  # the first try and three read retries
    assert interactions(replayed.cassette)[-1].endswith("/validate")


# --- what a refusal leaves behind -----------------------------------------------------


def test_a_capacity_refusal_deletes_the_resource_group_this_run_created(
    meet: Callable[..., Replayed],
) -> None:
    replayed = meet(FAULTS["validation quota refusal in a new group"])

    line = assert_one_line_error(replayed.result, ExitCode.NOT_AVAILABLE)
    assert line.endswith("is being deleted.")
    assert interactions(replayed.cassette)[-1] == (
        f"DELETE /subscriptions/{recording.SUBSCRIPTION}/resourcegroups/ccm-node-eastus"
    )


def test_a_capacity_failure_after_the_start_keeps_the_resource_group(
    meet: Callable[..., Replayed],
) -> None:
    replayed = meet(FAULTS["size unavailable while deploying"])

    line = assert_one_line_error(replayed.result, ExitCode.NOT_AVAILABLE)
    assert "deleted" not in line
    assert not any(
        path.startswith("DELETE") for path in interactions(replayed.cassette)
    )


# --- the bootstrap script's output ----------------------------------------------------


def test_a_failed_script_shows_only_the_meaningful_end_of_its_stderr(
    meet: Callable[..., Replayed],
) -> None:
    replayed = meet(FAULTS["bootstrap script failed"])

    line = assert_one_line_error(replayed.result, ExitCode.DEPLOYMENT_FAILED)
    tail = line.split("the script's stderr ends: ", 1)[1].split(". Failed:")[0]
    assert tail.split(" | ")[0] == (
        "installer.sh: attestation check passed (DCAP quote generated)"
    )
    assert tail.split(" | ")[2].endswith("[...]")  # the long ERROR line, shortened
    for noise in ("debconf", "% Total", "Dload", "41.3M", "[stdout]", "[stderr]"):
        assert noise not in line
    assert len(line) < 1500
