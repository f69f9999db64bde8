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
import contextlib
import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ccm_azure.deploy import clients, errors
from ccm_azure.deploy.clients import DEFAULT_POLLING_INTERVAL, DEFAULT_RETRY_BACKOFF
from ccm_azure.deploy.credentials import close_credential, default_credential
from ccm_azure.deploy.progress import FINAL_STATES
from ccm_azure.errors import CcmAzureError, UserInputError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.polling import LROPoller
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient
    from azure.mgmt.resource.deployments.models import DeploymentExtended
    from azure.mgmt.resource.resources import ResourceManagementClient

    from ccm_azure.deploy.progress import Poller, Progress

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
    vm_size: str = ""
    """The SGX size of the nodes; with it, the preflight checks that the subscription
    can have them in `location` before anything is written. Empty: no preflight."""
    vm_names: tuple[str, ...] = ()
    """The names of the deployment's VMs, whose vCPUs count as present on a re-run."""

    def status_command(self) -> str:
        """The command that follows this deployment from another terminal."""
        return (
            f"ccm-azure status {self.deployment_name} -g {self.resource_group} "
            f"--subscription {self.subscription_id} --wait"
        )

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
    state: str = "Succeeded"
    """ARM's provisioning state: "Succeeded", or where a --no-wait run left it."""


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


def _redact_strings(value: Any, redact: Callable[[str], str]) -> Any:
    """`value` with every string in it redacted, inside arrays and objects too."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_strings(item, redact) for item in value]
    if isinstance(value, Mapping):
        return {key: _redact_strings(item, redact) for key, item in value.items()}
    return value


def _secret_values(request: DeploymentRequest) -> list[str]:
    values: list[str] = []
    for name in request.declared_secure_parameters():
        value = request.parameters.get(name)
        if value is None:
            continue
        values.append(value if isinstance(value, str) else json.dumps(value))
    return values


def as_dict(model: Any) -> dict[str, Any]:
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


@dataclasses.dataclass(frozen=True)
class RunOptions:
    """How one run talks to Azure and reports; the defaults suit a terminal."""

    credential: TokenCredential | None = None
    """None: DefaultAzureCredential, built for the run and closed afterwards."""
    polling_interval: float = DEFAULT_POLLING_INTERVAL
    retry_backoff: float = DEFAULT_RETRY_BACKOFF
    progress: Progress | None = None
    wait: bool = True
    """False: return as soon as ARM has accepted the deployment (--no-wait)."""
    stop: threading.Event | None = None
    """Set by another thread to stop following (Ctrl-C during a fleet deployment)."""


def run_deployment(
    request: DeploymentRequest,
    *,
    credential: TokenCredential | None = None,
    polling_interval: float = DEFAULT_POLLING_INTERVAL,
    retry_backoff: float = DEFAULT_RETRY_BACKOFF,
    progress: Progress | None = None,
    wait: bool = True,
    stop: threading.Event | None = None,
) -> DeploymentResult:
    """Deploy `request` and return its outputs, or raise one CcmAzureError.

    `credential` defaults to DefaultAzureCredential, built here and closed afterwards.
    `polling_interval` and `retry_backoff` set how long to wait between status
    requests and before retrying a throttled or failed request. With `wait` False
    the run ends once ARM has accepted the deployment; `stop`, when set by another
    thread, ends the following as Ctrl-C does.
    """
    options = RunOptions(
        credential=credential,
        polling_interval=polling_interval,
        retry_backoff=retry_backoff,
        progress=progress,
        wait=wait,
        stop=stop,
    )
    with _running(request, options) as run:
        return run.deploy()


def run_what_if(
    request: DeploymentRequest,
    *,
    credential: TokenCredential | None = None,
    polling_interval: float = DEFAULT_POLLING_INTERVAL,
    retry_backoff: float = DEFAULT_RETRY_BACKOFF,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> list[Change]:
    """What deploying `request` would change, after the same preflight; no writes.

    A missing resource group is not created: ARM is asked at subscription scope what
    creating it and deploying into it would do. `stop` works as for run_deployment.
    """
    options = RunOptions(
        credential=credential,
        polling_interval=polling_interval,
        retry_backoff=retry_backoff,
        progress=progress,
        stop=stop,
    )
    with _running(request, options) as run:
        return run.what_if()


@contextlib.contextmanager
def _running(request: DeploymentRequest, options: RunOptions) -> Iterator[_Run]:
    check_parameters(request.template, request.parameters)
    progress = options.progress
    if progress is None:
        from ccm_azure.deploy.progress import Progress

        progress = Progress()
    credential = options.credential
    if credential is None:
        credential = default_credential()
    try:
        yield _Run(request, credential, dataclasses.replace(options, progress=progress))
    finally:
        if options.credential is None:
            close_credential(credential)


@dataclasses.dataclass(frozen=True)
class Change:
    """One resource in a what-if answer: what would happen to it."""

    change_type: str
    resource_id: str

    @property
    def resource_type(self) -> str:
        return resource_type_of(self.resource_id)

    @property
    def name(self) -> str:
        return resource_name_of(self.resource_id)


def _provider_sections(resource_id: str) -> list[list[str]]:
    """The `providers/NAMESPACE/type/name/...` sections of an ARM resource id."""
    sections: list[list[str]] = []
    for part in resource_id.strip("/").split("/"):
        if part.lower() == "providers":
            sections.append([])
        elif sections:
            sections[-1].append(part)
    return [section for section in sections if section]


def resource_type_of(resource_id: str) -> str:
    """E.g. `Microsoft.Compute/virtualMachines/extensions`: the id's last provider."""
    sections = _provider_sections(resource_id)
    if not sections:
        return "Microsoft.Resources/resourceGroups"
    namespace, *pairs = sections[-1]
    return "/".join([namespace, *pairs[0::2]])


def resource_name_of(resource_id: str) -> str:
    """The names along an id below its resource group, e.g. `ccm-node-1/default`
    for the tags of VM ccm-node-1."""
    sections = _provider_sections(resource_id)
    if not sections:
        return resource_id.rstrip("/").rsplit("/", 1)[-1]
    return "/".join(name for _, *pairs in sections for name in pairs[1::2])


class _Run:
    """One deployment in progress: its clients, and where it has got to."""

    def __init__(
        self,
        request: DeploymentRequest,
        credential: TokenCredential,
        options: RunOptions,
    ) -> None:
        client_options = clients.ClientOptions(
            polling_interval=options.polling_interval,
            retry_backoff=options.retry_backoff,
            raw_response_hook=self.read_answer,
        )
        self.request = request
        assert options.progress is not None
        self.progress: Progress = options.progress
        self.options = options
        self.credential = credential
        self.client_options = client_options
        self.resources: ResourceManagementClient = clients.resource_client(
            credential, request.subscription_id, client_options
        )
        self.deployments: DeploymentsMgmtClient = clients.deployments_client(
            credential, request.subscription_id, client_options
        )
        self.redact = redactor(_secret_values(request))
        self.started = False
        self.sending = False
        """The deployment's PUT went out: from then on Azure may be running it."""
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
            region=self.request.location,
        )

    def deploy(self) -> DeploymentResult:
        from azure.core.exceptions import AzureError, HttpResponseError

        request = self.request
        LOGGER.debug(
            "Deployment %s parameters: %s",
            request.deployment_name,
            self.redact(json.dumps(request.loggable_parameters(), sort_keys=True)),
        )
        stop = self.options.stop
        try:
            group_exists = self.group_exists()
            _stop_if_asked(stop)
            self.preflight(group_exists)
            _stop_if_asked(stop)
            self.created_group = self.ensure_resource_group(group_exists)
            _stop_if_asked(stop)
            self.validate()
            _stop_if_asked(stop)
            poller = self.start()
        except AzureError as error:
            mapped = errors.from_azure_error(error, self.situation())
            raise self.without_new_group(mapped) from error
        except (errors.AzureRejected, errors.CapacityUnavailable) as refused:
            raise self.without_new_group(refused) from None
        except KeyboardInterrupt:
            if self.sending:
                raise errors.Interrupted(
                    f"Interrupted while deployment '{request.deployment_name}' was "
                    "being sent: Azure may have started it, and then it goes on; see "
                    f"it with `{request.status_command()}`.",
                    going_on=True,
                ) from None
            raise errors.Interrupted(
                "Interrupted before the deployment started; nothing was deployed"
                + self.group_left_behind()
                + "."
            ) from None

        if not self.options.wait:
            state = _first_state(poller) or "Accepted"
            self.progress.step(
                f"Deployment {request.deployment_name} is {state} and goes on in "
                f"Azure; follow it with `{request.status_command()}`."
            )
            return self.result({}, state)
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
                f"on in Azure; follow it with `{request.status_command()}`.",
                going_on=True,
            ) from None
        return self.result(output_values(deployment), "Succeeded")

    def result(self, outputs: Mapping[str, Any], state: str) -> DeploymentResult:
        return DeploymentResult(
            resource_group=self.request.resource_group,
            resource_group_created=self.created_group,
            deployment_name=self.request.deployment_name,
            outputs={
                name: _redact_strings(value, self.redact)
                for name, value in outputs.items()
            },
            state=state,
        )

    def group_exists(self) -> bool:
        exists = bool(
            self.resources.resource_groups.check_existence(self.request.resource_group)
        )
        LOGGER.info(
            "Resource group %s %s",
            self.request.resource_group,
            "exists" if exists else "does not exist",
        )
        return exists

    def preflight(self, group_exists: bool) -> None:
        """Refuse, before any write, nodes the subscription cannot have there."""
        request = self.request
        if not request.vm_size:
            return
        from ccm_azure.deploy import preflight

        count = max(len(request.vm_names), 1)
        self.progress.step(
            f"Checking that {count} x {request.vm_size} can run in {request.location} "
            "for this subscription..."
        )
        compute = clients.compute_client(
            self.credential, request.subscription_id, self.client_options
        )
        present: dict[str, int] = {}
        if group_exists:
            self.check_node_names()
            present = preflight.present_vcpus(
                compute, request.resource_group, request.vm_names
            )
        capacity = preflight.check_capacity(
            compute,
            region=request.location,
            size=request.vm_size,
            node_count=count,
            present_vcpus=present,
            subscription_id=request.subscription_id,
        )
        for warning in capacity.warnings:
            self.progress.step(f"warning: {warning}")
        self.progress.step(f"Preflight passed: {capacity.summary()}")

    def check_node_names(self) -> None:
        """Refuse VM names another deployment in the group made, or that this one
        made with another count; warn about nodes a smaller count leaves behind.

        Deployments only add and update, so either would put two nodes under one
        name or leave nodes outside the deployment's outputs.
        """
        from ccm_azure.deploy import inputs

        request = self.request
        ours = request.vm_names
        listed = self.deployments.deployments.list_by_resource_group(
            request.resource_group
        )
        for deployment in (as_dict(item) for item in listed):
            parameters = (deployment.get("properties") or {}).get("parameters") or {}
            vm_name = (parameters.get("vmName") or {}).get("value")
            if not isinstance(vm_name, str):
                continue  # not a node deployment (e.g. the pid- tracking one)
            count = (parameters.get("nodeCount") or {}).get("value", 1)
            theirs = inputs.node_names(vm_name, count if isinstance(count, int) else 1)
            name = str(deployment.get("name") or "")
            # Azure compares resource and deployment names without case.
            if name.lower() != request.deployment_name.lower():
                clash = sorted({n.lower() for n in ours} & {n.lower() for n in theirs})
                if clash:
                    raise UserInputError(
                        f"VM {clash[0]} in resource group {request.resource_group} "
                        f"belongs to deployment '{name}' ({len(theirs)} node"
                        f"{'s' if len(theirs) > 1 else ''}: {', '.join(theirs)}); "
                        "choose another --name for these nodes."
                    )
            elif (len(theirs) == 1) != (len(ours) == 1):
                raise UserInputError(
                    f"Deployment '{name}' made {', '.join(theirs)}; deploying "
                    f"{', '.join(ours)} under the same name would add "
                    f"{'them' if len(ours) > 1 else 'it'} beside "
                    f"{'it' if len(theirs) == 1 else 'them'}, since deployments only "
                    "add. Next: deploy under another --name, or delete the existing "
                    f"nodes first (`ccm-azure delete {name} -g "
                    f"{request.resource_group}`)."
                )
            elif len(theirs) > len(ours):
                left = ", ".join(theirs[len(ours) :])
                self.progress.step(
                    f"warning: {left} stay{'s' if len(theirs) - len(ours) == 1 else ''}"
                    " in Azure: a smaller count does not delete nodes (`az vm delete "
                    f"-g {request.resource_group} -n NAME` does)."
                )

    def what_if(self) -> list[Change]:
        """ARM's what-if for the deployment, after the preflight; nothing is written."""
        from azure.core.exceptions import AzureError
        from azure.mgmt.resource.deployments.models import DeploymentWhatIf

        request = self.request
        try:
            group_exists = self.group_exists()
            _stop_if_asked(self.options.stop)
            self.preflight(group_exists)
            _stop_if_asked(self.options.stop)
            self.progress.step(
                f"Asking Azure what deploying {request.deployment_name} would change..."
            )
            operations = self.deployments.deployments
            if group_exists:
                poller = operations.begin_what_if(
                    request.resource_group,
                    request.deployment_name,
                    DeploymentWhatIf(
                        {"properties": _what_if_properties(request.body())}
                    ),
                )
            else:
                poller = operations.begin_what_if_at_subscription_scope(
                    _subscription_what_if_name(request),
                    DeploymentWhatIf(
                        {
                            "location": request.location,
                            "properties": _what_if_properties(_in_new_group(request)),
                        }
                    ),
                )
            answer = as_dict(poller.result())
        except AzureError as error:
            raise errors.from_azure_error(error, self.situation()) from error
        except KeyboardInterrupt:
            raise errors.Interrupted(
                "Interrupted while Azure was working out the changes; nothing was "
                "deployed."
            ) from None
        if answer.get("error"):
            raise errors.rejected(answer["error"], self.situation())
        changes = (answer.get("properties") or {}).get("changes") or []
        return [
            Change(
                str(change.get("changeType") or ""),
                self.redact(str(change.get("resourceId") or "")),
            )
            for change in changes
            if isinstance(change, Mapping)
        ]

    def ensure_resource_group(self, exists: bool) -> bool:
        """Create the resource group if it is missing; say whether it was created."""
        name = self.request.resource_group
        if exists:
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
        result = as_dict(poller.result())
        if result.get("error"):
            raise errors.rejected(result["error"], self.situation())
        LOGGER.info("Deployment %s passed validation", request.deployment_name)

    def start(self) -> LROPoller[DeploymentExtended]:
        """Send the deployment; without --no-wait, follow ARM's status in a thread."""
        from azure.mgmt.resource.deployments.models import Deployment

        request = self.request
        self.sending = True
        poller = self.deployments.deployments.begin_create_or_update(
            request.resource_group,
            request.deployment_name,
            Deployment(request.body()),
            polling=(
                _provisioning_state_polling(self.options.polling_interval)
                if self.options.wait
                else False
            ),
        )
        self.started = True
        LOGGER.info("Started deployment %s", request.deployment_name)
        return poller

    def follow(self, poller: LROPoller[DeploymentExtended]) -> dict[str, Any]:
        """Wait for the deployment to end, showing its state; its final body."""
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        name = self.request.deployment_name
        self.progress.follow(_ArmStatus(poller, self.options.stop), f"Deploying {name}")
        try:
            deployment = as_dict(poller.result())
        except HttpResponseError as error:
            if poller.status().lower() == "canceled":
                raise errors.canceled(self.situation()) from error
            # ARM's status endpoint now and then answers 404 DeploymentNotFound for a
            # deployment that goes on; the deployment itself still tells its state.
            if error.status_code != 404 or isinstance(error, ClientAuthenticationError):
                raise
            LOGGER.info("Status of %s not found; following the deployment itself", name)
            deployment = self.follow_by_get()
        LOGGER.info("Deployment %s ended: %s", name, provisioning_state(deployment))
        return deployment

    def follow_by_get(self) -> dict[str, Any]:
        """Read the deployment until it ends; its body, or DeploymentFailed."""
        request = self.request

        def read() -> dict[str, Any]:
            return as_dict(
                self.deployments.deployments.get(
                    request.resource_group, request.deployment_name
                )
            )

        reads = DeploymentReads(read, read(), self.options.polling_interval)
        self.progress.follow(
            _ArmStatus(reads, self.options.stop), f"Deploying {request.deployment_name}"
        )
        if reads.error is not None:
            raise reads.error
        deployment = reads.deployment
        properties = deployment.get("properties") or {}
        state = provisioning_state(deployment)
        if state.lower() == "canceled":
            raise errors.canceled(self.situation())
        if state.lower() == "failed":
            raise errors.failed(
                properties.get("error") or {"code": state},
                self.situation(),
                errors.failed_resources(self.operations()),
            )
        return deployment

    def operations(self) -> list[dict[str, Any]]:
        """The deployment's operations, to name what failed; empty if unreadable."""
        from azure.core.exceptions import AzureError

        request = self.request
        try:
            return [
                as_dict(operation)
                for operation in self.deployments.deployment_operations.list(
                    request.resource_group, request.deployment_name
                )
            ]
        except AzureError as error:
            LOGGER.debug("Could not list the deployment operations: %s", error)
            return []


def _what_if_properties(body: Mapping[str, Any]) -> dict[str, Any]:
    """A deployment body's properties as what-if takes them: only changes shown."""
    properties = dict(body["properties"])
    properties["whatIfSettings"] = {"resultFormat": "ResourceIdOnly"}
    return properties


SUBSCRIPTION_TEMPLATE_SCHEMA = (
    "https://schema.management.azure.com/schemas/2018-05-01/"
    "subscriptionDeploymentTemplate.json#"
)


def _subscription_what_if_name(request: DeploymentRequest) -> str:
    """The name of the subscription-scope what-if for a group that does not exist.

    Subscription deployments are one namespace for all regions, so the region is in
    the name: a fleet's regions ask side by side without meeting. ARM allows 64
    characters.
    """
    return f"{request.location}-{request.deployment_name}"[:64]


def _in_new_group(request: DeploymentRequest) -> dict[str, Any]:
    """A subscription deployment that creates the resource group and deploys into it.

    What-if needs an existing resource group at resource-group scope; at subscription
    scope it can show the group's creation and the nested deployment's resources
    without creating anything. Each parameter is passed through a parameter of the
    same type, so secure values stay secure parameters.
    """
    from ccm_azure.render import API_VERSIONS

    declared = request.template.get("parameters") or {}
    outer = {
        name: {"type": (declared.get(name) or {}).get("type", "string")}
        for name in request.parameters
    }
    group = request.resource_group
    template = {
        "$schema": SUBSCRIPTION_TEMPLATE_SCHEMA,
        "contentVersion": "1.0.0.0",
        "parameters": outer,
        "resources": [
            {
                "type": "Microsoft.Resources/resourceGroups",
                "apiVersion": API_VERSIONS["resources"],
                "name": group,
                "location": request.location,
                "tags": dict(request.resource_group_tags),
            },
            {
                "type": "Microsoft.Resources/deployments",
                "apiVersion": API_VERSIONS["deployments"],
                "name": request.deployment_name,
                "resourceGroup": group,
                "dependsOn": [
                    f"[subscriptionResourceId('Microsoft.Resources/resourceGroups', "
                    f"'{group}')]"
                ],
                "properties": {
                    "mode": "Incremental",
                    "expressionEvaluationOptions": {"scope": "inner"},
                    "template": dict(request.template),
                    "parameters": {
                        name: {"value": f"[parameters('{name}')]"}
                        for name in request.parameters
                    },
                },
            },
        ],
    }
    body = request.body()
    body["properties"]["template"] = template
    return body


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


def _stop_if_asked(stop: threading.Event | None) -> None:
    """Stop following as Ctrl-C does, when another thread has asked for it.

    Only the main thread receives Ctrl-C; during a fleet deployment it sets `stop`
    and each region's thread ends its following here, leaving ARM working.
    """
    if stop is not None and stop.is_set():
        raise KeyboardInterrupt


def _first_state(poller: LROPoller[Any]) -> str:
    """ARM's provisioning state in the answer that accepted the deployment."""
    try:
        return provisioning_state(as_dict(poller.result()))
    except Exception as error:  # only a state for a progress line is at stake
        LOGGER.debug("Could not read the accepted deployment: %s", error)
        return ""


def provisioning_state(deployment: Mapping[str, Any]) -> str:
    """properties.provisioningState of a deployment's JSON, or "" if it has none."""
    properties = deployment.get("properties")
    state = (
        properties.get("provisioningState") if isinstance(properties, Mapping) else ""
    )
    return state if isinstance(state, str) else ""


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
    return provisioning_state(body) if isinstance(body, dict) else ""


class DeploymentReads:
    """A deployment read every `interval` seconds, followed as a poller is.

    This is how a deployment is followed without ARM's status endpoint: by `status
    --wait`, and by `deploy` when that endpoint answers 404. Progress calls `wait`
    with short timeouts and swallows what it raises, so an error of a read is kept
    in `error`, ends the reading, and is for the caller to raise.
    """

    def __init__(
        self,
        read: Callable[[], dict[str, Any]],
        deployment: dict[str, Any],
        interval: float,
    ) -> None:
        self.read = read
        self.deployment = deployment
        self.interval = interval
        self.next_read = time.monotonic() + interval
        self.error: BaseException | None = None

    def done(self) -> bool:
        return self.error is not None or self.status().lower() in FINAL_STATES

    def status(self) -> str:
        return provisioning_state(self.deployment) or "Unknown"

    def wait(self, timeout: float | None = None) -> None:
        delay = max(0.0, self.next_read - time.monotonic())
        if timeout is not None and delay > timeout:
            time.sleep(timeout)
            return
        time.sleep(delay)
        try:
            self.deployment = self.read()
        except Exception as error:
            self.error = error
        self.next_read = time.monotonic() + self.interval


class _ArmStatus:
    """The poller as progress sees it: ARM's state names, not azure-core's."""

    def __init__(self, poller: Poller, stop: threading.Event | None = None) -> None:
        self.poller = poller
        self.stop = stop

    def done(self) -> bool:
        _stop_if_asked(self.stop)
        return self.poller.done()

    def wait(self, timeout: float | None = None) -> None:
        self.poller.wait(timeout)

    def status(self) -> str:
        state = self.poller.status()
        method = getattr(self.poller, "polling_method", None)
        first = getattr(method(), "first_state", "") if callable(method) else ""
        return first if state == "InProgress" and first else state
