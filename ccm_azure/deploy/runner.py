"""Run one ARM template deployment into a resource group and return its outputs.

The steps are the ones `az deployment group create` takes: make sure the resource group
exists (creating it only when it is missing), let Azure Resource Manager validate the
deployment, start it in incremental mode, follow it until it ends, and read the
outputs. Whatever Azure answers on the way is turned into one `CcmAzureError` line.

Secure parameter values (the join token, the SSH key or password) are sent to Azure
and nowhere else: they are left out of every log record and removed from every error
message. Azure's network trace (`logging_enable`) is never switched on, because it
logs request bodies.

The Azure SDK is imported inside `run_deployment`, never at module level.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ccm_azure.deploy import clients, errors
from ccm_azure.deploy.clients import DEFAULT_POLLING_INTERVAL, DEFAULT_RETRY_BACKOFF
from ccm_azure.deploy.credentials import close_credential, default_credential
from ccm_azure.errors import CcmAzureError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.polling import LROPoller
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient
    from azure.mgmt.resource.deployments.models import DeploymentExtended
    from azure.mgmt.resource.resources import ResourceManagementClient

    from ccm_azure.deploy.progress import Progress

LOGGER = logging.getLogger(__name__)

SECURE_TYPES = frozenset({"securestring", "secureobject"})
REDACTED = "[secure]"


@dataclasses.dataclass(frozen=True)
class DeploymentRequest:
    """Everything one deployment needs; parameters hold plain values."""

    subscription_id: str
    resource_group: str
    location: str
    deployment_name: str
    template: Mapping[str, Any]
    parameters: Mapping[str, Any]
    secure_parameters: frozenset[str] = frozenset()
    resource_group_tags: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def declared_secure_parameters(self) -> frozenset[str]:
        """The secure parameters named by the caller or declared so by the template."""
        declared = self.template.get("parameters") or {}
        by_type = {
            name
            for name, spec in declared.items()
            if str(spec.get("type", "")).lower() in SECURE_TYPES
        }
        return self.secure_parameters | by_type

    def body(self) -> dict[str, Any]:
        """The deployment as ARM takes it: each parameter wrapped as {"value": ...}."""
        return {
            "properties": {
                "mode": "Incremental",
                "template": dict(self.template),
                "parameters": {
                    name: {"value": value} for name, value in self.parameters.items()
                },
            }
        }

    def loggable_parameters(self) -> dict[str, Any]:
        """The parameters with every secure value replaced by a marker."""
        secure = self.declared_secure_parameters()
        return {
            name: REDACTED if name in secure else value
            for name, value in self.parameters.items()
        }


@dataclasses.dataclass(frozen=True)
class DeploymentResult:
    """What a successful deployment produced."""

    resource_group: str
    resource_group_created: bool
    deployment_name: str
    outputs: dict[str, Any]


def check_parameters(
    template: Mapping[str, Any], parameters: Mapping[str, Any]
) -> None:
    """Refuse parameters the template does not declare, and missing required ones."""
    declared = template.get("parameters") or {}
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise CcmAzureError(
            f"The template declares no parameter {', '.join(unknown)}; the template "
            "and ccm-azure disagree, which is a bug: please report it."
        )
    missing = sorted(
        name
        for name, spec in declared.items()
        if "defaultValue" not in spec and name not in parameters
    )
    if missing:
        raise CcmAzureError(
            f"The template needs a value for {', '.join(missing)}; the template and "
            "ccm-azure disagree, which is a bug: please report it."
        )


def redactor(secrets: Iterable[str]) -> Callable[[str], str]:
    """A function that replaces every secret value in a text with a marker.

    Each secret is also looked for in base64, the form in which the template hands
    the join token to the VM's command line.
    """
    forms = set()
    for secret in secrets:
        forms |= {secret, base64.b64encode(secret.encode()).decode()}
    values = sorted({s for s in forms if len(s) >= 4}, key=len, reverse=True)

    def redact(text: str) -> str:
        for value in values:
            text = text.replace(value, REDACTED)
        return text

    return redact


def _secret_values(request: DeploymentRequest) -> list[str]:
    values: list[str] = []
    for name in request.declared_secure_parameters():
        value = request.parameters.get(name)
        if value is None:
            continue
        values.append(value if isinstance(value, str) else json.dumps(value))
    return values


def _as_dict(model: Any) -> dict[str, Any]:
    """A plain dict from an SDK model (hybrid models are mappings with `as_dict`)."""
    if model is None:
        return {}
    as_dict = getattr(model, "as_dict", None)
    if callable(as_dict):
        return dict(as_dict())
    return dict(model)


def output_values(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The deployment's outputs as {name: value}, dropping ARM's type wrappers."""
    outputs = (deployment.get("properties") or {}).get("outputs") or {}
    return {
        name: output.get("value") if isinstance(output, Mapping) else output
        for name, output in outputs.items()
    }


def run_deployment(
    request: DeploymentRequest,
    *,
    credential: TokenCredential | None = None,
    polling_interval: float = DEFAULT_POLLING_INTERVAL,
    retry_backoff: float = DEFAULT_RETRY_BACKOFF,
    progress: Progress | None = None,
) -> DeploymentResult:
    """Deploy `request` and return its outputs, or raise one CcmAzureError.

    `credential` defaults to DefaultAzureCredential, built here and closed afterwards.
    `polling_interval` and `retry_backoff` set how long to wait between status
    requests and before retrying a throttled or failed request.
    """
    check_parameters(request.template, request.parameters)
    if progress is None:
        from ccm_azure.deploy.progress import Progress

        progress = Progress()

    owns_credential = credential is None
    if credential is None:
        credential = default_credential()
    try:
        run = _Run(request, credential, polling_interval, retry_backoff, progress)
        return run.deploy()
    finally:
        if owns_credential:
            close_credential(credential)


class _Run:
    """One deployment in progress: its clients, and where it has got to."""

    def __init__(
        self,
        request: DeploymentRequest,
        credential: TokenCredential,
        polling_interval: float,
        retry_backoff: float,
        progress: Progress,
    ) -> None:
        options = clients.ClientOptions(
            polling_interval=polling_interval,
            retry_backoff=retry_backoff,
            raw_response_hook=self.read_answer,
        )
        self.request = request
        self.progress = progress
        self.polling_interval = polling_interval
        self.resources: ResourceManagementClient = clients.resource_client(
            credential, request.subscription_id, options
        )
        self.deployments: DeploymentsMgmtClient = clients.deployments_client(
            credential, request.subscription_id, options
        )
        self.redact = redactor(_secret_values(request))
        self.started = False
        self.created_group = False

    def read_answer(self, response: Any) -> None:
        """azure-core's raw_response_hook: read each answer's body as it arrives.

        azure-mgmt-core registers a resource provider the subscription has never
        used when a call answers 409 MissingSubscriptionRegistration, reads the
        provider until it is registered, and repeats the call. It parses those
        answers' bodies, but validate and the deployment PUT are sent streamed (and
        its own requests inherit that), so the bodies are still unread when it looks
        and it gives up. This hook runs closer to the network than that policy, so
        reading here lets it work. Every body is read in full afterwards anyway.
        """
        from azure.core.exceptions import AzureError

        answer = response.http_response
        try:
            answer.read()
        except AzureError as error:
            LOGGER.debug("Could not read an answer: %s", error)
            return
        namespace = _unregistered_provider(answer) if answer.status_code == 409 else ""
        if namespace:
            self.progress.step(
                f"Registering resource provider {namespace} in the subscription, "
                "which Azure asks for once; this can take a few minutes..."
            )

    def situation(self) -> errors.Situation:
        return errors.Situation(
            resource_group=self.request.resource_group,
            deployment_name=self.request.deployment_name,
            started=self.started,
            redact=self.redact,
            subscription_id=self.request.subscription_id,
        )

    def deploy(self) -> DeploymentResult:
        from azure.core.exceptions import AzureError, HttpResponseError

        request = self.request
        LOGGER.debug(
            "Deployment %s parameters: %s",
            request.deployment_name,
            self.redact(json.dumps(request.loggable_parameters(), sort_keys=True)),
        )
        try:
            self.created_group = self.ensure_resource_group()
            self.validate()
            poller = self.start()
        except AzureError as error:
            mapped = errors.from_azure_error(error, self.situation())
            raise self.without_new_group(mapped) from error
        except (errors.AzureRejected, errors.CapacityUnavailable) as refused:
            raise self.without_new_group(refused) from None
        except KeyboardInterrupt:
            raise errors.Interrupted(
                "Interrupted before the deployment started; nothing was deployed"
                + self.group_left_behind()
                + "."
            ) from None

        try:
            deployment = self.follow(poller)
        except HttpResponseError as error:
            operations = self.operations() if error.response is not None else []
            raise errors.from_azure_error(
                error, self.situation(), operations=operations
            ) from error
        except AzureError as error:
            raise errors.from_azure_error(error, self.situation()) from error
        except KeyboardInterrupt:
            raise errors.Interrupted(
                f"Stopped following deployment '{request.deployment_name}', which goes "
                "on in Azure; see it with `az deployment group show -g "
                f"{request.resource_group} -n {request.deployment_name}`."
            ) from None

        outputs = output_values(deployment)
        return DeploymentResult(
            resource_group=request.resource_group,
            resource_group_created=self.created_group,
            deployment_name=request.deployment_name,
            outputs={
                name: self.redact(value) if isinstance(value, str) else value
                for name, value in outputs.items()
            },
        )

    def ensure_resource_group(self) -> bool:
        """Create the resource group if it is missing; say whether it was created."""
        name = self.request.resource_group
        if self.resources.resource_groups.check_existence(name):
            LOGGER.info("Resource group %s exists", name)
            self.progress.step(f"Using resource group {name}.")
            return False
        self.resources.resource_groups.create_or_update(
            name,
            {
                "location": self.request.location,
                "tags": dict(self.request.resource_group_tags),
            },
        )
        LOGGER.info("Created resource group %s in %s", name, self.request.location)
        self.progress.step(f"Created resource group {name} in {self.request.location}.")
        return True

    def without_new_group(self, error: CcmAzureError) -> CcmAzureError:
        """`error`, after deleting the resource group this run created for nothing.

        Only a refusal before the start (exit 3, or 7 for a size that cannot run
        there) promises that nothing is left behind. The delete is started, not
        waited for: Azure takes minutes to delete a resource group. Whatever goes
        wrong with it is reported after the refusal, never instead.
        """
        refusal = isinstance(error, errors.AzureRejected | errors.CapacityUnavailable)
        if not (self.created_group and refusal):
            return error
        name = self.request.resource_group
        try:
            self.resources.resource_groups.begin_delete(name, polling=False)
        except Exception as delete_error:
            LOGGER.info("Could not delete resource group %s: %s", name, delete_error)
            note = (
                f" Resource group '{name}', created by this run, could not be deleted "
                f"({_short_reason(delete_error)}); delete it with `az group delete -n "
                f"{name} --yes`."
            )
        else:
            LOGGER.info("Deleting resource group %s, created by this run", name)
            note = f" Resource group '{name}', created by this run, is being deleted."
        return type(error)(error.message + note)

    def group_left_behind(self) -> str:
        if not self.created_group:
            return ""
        name = self.request.resource_group
        return (
            f"; resource group '{name}', created by this run, is left (`az group "
            f"delete -n {name} --yes` deletes it)"
        )

    def validate(self) -> None:
        """Let ARM check the deployment; a 400 raises from `begin_validate` itself."""
        from azure.mgmt.resource.deployments.models import Deployment

        request = self.request
        self.progress.step(f"Validating deployment {request.deployment_name}...")
        poller = self.deployments.deployments.begin_validate(
            request.resource_group, request.deployment_name, Deployment(request.body())
        )
        result = _as_dict(poller.result())
        if result.get("error"):
            raise errors.rejected(result["error"], self.situation())
        LOGGER.info("Deployment %s passed validation", request.deployment_name)

    def start(self) -> LROPoller[DeploymentExtended]:
        from azure.mgmt.resource.deployments.models import Deployment

        request = self.request
        poller = self.deployments.deployments.begin_create_or_update(
            request.resource_group,
            request.deployment_name,
            Deployment(request.body()),
            polling=_provisioning_state_polling(self.polling_interval),
        )
        self.started = True
        LOGGER.info("Started deployment %s", request.deployment_name)
        return poller

    def follow(self, poller: LROPoller[DeploymentExtended]) -> dict[str, Any]:
        """Wait for the deployment to end, showing its state; its final body."""
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        name = self.request.deployment_name
        self.progress.follow(_ArmStatus(poller), f"Deploying {name}")
        try:
            deployment = _as_dict(poller.result())
        except HttpResponseError as error:
            if poller.status().lower() == "canceled":
                raise errors.canceled(self.situation()) from error
            # ARM's status endpoint now and then answers 404 DeploymentNotFound for a
            # deployment that goes on; the deployment itself still tells its state.
            if error.status_code != 404 or isinstance(error, ClientAuthenticationError):
                raise
            LOGGER.info("Status of %s not found; following the deployment itself", name)
            deployment = self.follow_by_get()
        state = (deployment.get("properties") or {}).get("provisioningState")
        LOGGER.info("Deployment %s ended: %s", name, state)
        return deployment

    def follow_by_get(self) -> dict[str, Any]:
        """Read the deployment until it ends; its body, or DeploymentFailed."""
        request = self.request
        last = ""
        while True:
            deployment = _as_dict(
                self.deployments.deployments.get(
                    request.resource_group, request.deployment_name
                )
            )
            properties = deployment.get("properties") or {}
            state = str(properties.get("provisioningState") or "")
            if state.lower() == "succeeded":
                self.progress.step(f"Deploying {request.deployment_name}: {state}")
                return deployment
            if state.lower() == "canceled":
                raise errors.canceled(self.situation())
            if state.lower() == "failed":
                raise errors.failed(
                    properties.get("error") or {"code": state},
                    self.situation(),
                    errors.failed_resources(self.operations()),
                )
            if state != last:
                self.progress.step(f"Deploying {request.deployment_name}: {state}")
                last = state
            time.sleep(self.polling_interval)

    def operations(self) -> list[dict[str, Any]]:
        """The deployment's operations, to name what failed; empty if unreadable."""
        from azure.core.exceptions import AzureError

        request = self.request
        try:
            return [
                _as_dict(operation)
                for operation in self.deployments.deployment_operations.list(
                    request.resource_group, request.deployment_name
                )
            ]
        except AzureError as error:
            LOGGER.debug("Could not list the deployment operations: %s", error)
            return []


def _short_reason(error: Exception) -> str:
    status = getattr(error, "status_code", None)
    text = errors.one_line(str(error).splitlines()[0] if str(error) else "").rstrip(".")
    return f"HTTP {status}" if status else text or type(error).__name__


def _unregistered_provider(answer: Any) -> str:
    """The namespace a MissingSubscriptionRegistration answer names, or ""."""
    try:
        error = json.loads(answer.text()).get("error") or {}
    except (ValueError, TypeError, AttributeError):
        return ""
    return errors.unregistered_provider(error) if isinstance(error, dict) else ""


def _provisioning_state_polling(interval: float) -> Any:
    """azure-mgmt-core's ARM polling that also remembers ARM's first answer.

    Until the first status request returns, azure-core knows the deployment only as
    "InProgress"; ARM's own provisioning state (usually "Accepted") is in the body of
    the PUT that started it.
    """
    from azure.mgmt.core.polling.arm_polling import ARMPolling

    class ProvisioningStatePolling(ARMPolling):
        first_state = ""

        def initialize(self, client: Any, initial_response: Any, callback: Any) -> None:
            self.first_state = _provisioning_state(initial_response.http_response)
            super().initialize(client, initial_response, callback)

    return ProvisioningStatePolling(interval)


def _provisioning_state(response: Any) -> str:
    """properties.provisioningState of an ARM answer, or "" if it has none."""
    try:
        body = json.loads(response.text())
    except (ValueError, TypeError, AttributeError):
        return ""
    properties = body.get("properties") if isinstance(body, dict) else None
    state = properties.get("provisioningState") if isinstance(properties, dict) else ""
    return state if isinstance(state, str) else ""


class _ArmStatus:
    """The poller as progress sees it: ARM's state names, not azure-core's."""

    def __init__(self, poller: LROPoller[Any]) -> None:
        self.poller = poller

    def done(self) -> bool:
        return self.poller.done()

    def wait(self, timeout: float | None = None) -> None:
        self.poller.wait(timeout)

    def status(self) -> str:
        state = self.poller.status()
        first = getattr(self.poller.polling_method(), "first_state", "")
        return first if state == "InProgress" and first else state
