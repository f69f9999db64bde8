"""Finding a deployment that `deploy` made, for `status` and `delete`.

Both commands take the node's name (or the deployment's), a resource group (`-g`, or
the one `deploy` uses for `--region`) and a subscription, read the deployment and its
operations, and turn Azure's answers into one line each. What they share lives here:
the options, the names, the clients and the not-found and refused messages.

Importing this module imports no Azure SDK module; `Session` does, when it opens.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import click

from ccm_azure.deploy import clients, errors, inputs, runner
from ccm_azure.deploy.command import DeploySettings
from ccm_azure.deploy.credentials import close_credential, default_credential
from ccm_azure.deploy.progress import FINAL_STATES
from ccm_azure.errors import CcmAzureError, UserInputError

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient
    from azure.mgmt.resource.resources import ResourceManagementClient

LOGGER = logging.getLogger(__name__)

DEPLOYMENT_PREFIX = inputs.deployment_name("")
"""Every deployment `deploy` makes is named with this prefix and the VM's name."""
TRACKING_PREFIX = "pid-"
"""The Marketplace attribution deployment nested in every node deployment."""
"""ARM provisioning states after which a deployment changes no more."""


@dataclasses.dataclass(frozen=True)
class Target:
    """Which deployment a command is about, and where it is."""

    subscription_id: str
    resource_group: str
    deployment_name: str

    def situation(self) -> errors.Situation:
        return errors.Situation(
            resource_group=self.resource_group,
            deployment_name=self.deployment_name,
            started=True,
            subscription_id=self.subscription_id,
        )

    @property
    def list_hint(self) -> str:
        return f"`az deployment group list -g {self.resource_group} -o table`"


def target_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """NAME, -g/--resource-group, -l/--location/--region and --subscription."""
    decorators = [
        click.argument("name"),
        click.option(
            "-g",
            "--resource-group",
            help="Resource group of the deployment.  [default: ccm-node-REGION]",
        ),
        click.option(
            "--region",
            "-l",
            "--location",
            "region",
            help="Region given to deploy; names the default resource group.",
        ),
        click.option(
            "--subscription",
            help="Subscription id.  [default: AZURE_SUBSCRIPTION_ID]",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def resolve_target(
    name: str,
    resource_group: str | None,
    region: str | None,
    subscription: str | None,
) -> Target:
    """The deployment NAME means, in the resource group and subscription given."""
    deployment = deployment_name(name)
    group = _resource_group(resource_group, region)
    return Target(
        subscription_id=inputs.resolve_subscription(subscription),
        resource_group=group,
        deployment_name=deployment,
    )


def deployment_name(name: str) -> str:
    """The deployment for NAME: a node's name, or the deployment's own name.

    A name that starts with `ccm-azure-` is taken as the deployment's: the node
    `ccm-azure-x`, if there is one, is `ccm-azure-ccm-azure-x`.
    """
    name = name.strip()
    node = name.removeprefix(DEPLOYMENT_PREFIX)
    if not node:
        raise UserInputError(
            f"'{name}' names no node; give the node's name as given to deploy -n "
            f"(default {inputs.DEFAULT_VM_NAME}) or its deployment's name "
            f"({DEPLOYMENT_PREFIX}NODE)."
        )
    return inputs.deployment_name(inputs.check_vm_name(node))


def _resource_group(resource_group: str | None, region: str | None) -> str:
    if resource_group is not None and region is not None:
        raise UserInputError(
            "-g/--resource-group and --region both name the resource group; give only "
            "one of them."
        )
    if resource_group is not None:
        if not resource_group.strip():
            raise UserInputError(
                "-g/--resource-group is empty; give the resource group of the "
                "deployment."
            )
        return inputs.check_resource_group(resource_group)
    if region is not None and region.strip():
        if ":" in region:
            raise UserInputError(
                f"--region {region.strip()}: give the region alone (e.g. --region "
                f"{region.partition(':')[0].strip() or 'eastus'}); the :COUNT of "
                "deploy sets a number of nodes, which one deployment holds together."
            )
        from ccm_azure.offer import load_offer

        known = load_offer(None).check_region(region.strip())
        return inputs.check_resource_group(inputs.default_resource_group(known))
    raise UserInputError(
        "Give the resource group of the deployment with -g RESOURCE_GROUP, or the "
        "region given to deploy with --region REGION (its resource group is "
        "ccm-node-REGION)."
    )


class Session:
    """The credential and clients of one command; closes what it opened."""

    def __init__(self, target: Target, settings: DeploySettings) -> None:
        self.target = target
        self.settings = settings
        self.owns_credential = settings.credential_factory is None
        self.credential: TokenCredential | None = None

    def __enter__(self) -> Session:
        factory = self.settings.credential_factory
        self.credential = default_credential() if factory is None else factory()
        options = clients.ClientOptions(
            polling_interval=self.settings.polling_interval,
            retry_backoff=self.settings.retry_backoff,
        )
        subscription = self.target.subscription_id
        self.resources: ResourceManagementClient = clients.resource_client(
            self.credential, subscription, options
        )
        self.deployments: DeploymentsMgmtClient = clients.deployments_client(
            self.credential, subscription, options
        )
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.owns_credential and self.credential is not None:
            close_credential(self.credential)

    def deployment(self) -> dict[str, Any]:
        """The deployment as ARM shows it, or a not-found / refused error."""
        from azure.core.exceptions import AzureError

        target = self.target
        try:
            found = self.deployments.deployments.get(
                target.resource_group, target.deployment_name
            )
        except AzureError as error:
            raise self.failure(error, "read") from error
        return runner.as_dict(found)

    def operations(self, deployment_name: str | None = None) -> list[dict[str, Any]]:
        """A deployment's operations, newest first as ARM lists them."""
        from azure.core.exceptions import AzureError

        name = deployment_name or self.target.deployment_name
        try:
            listed = self.deployments.deployment_operations.list(
                self.target.resource_group, name
            )
            return [runner.as_dict(operation) for operation in listed]
        except AzureError as error:
            raise self.failure(error, "read the operations of") from error

    def failure(self, error: BaseException, action: str) -> CcmAzureError:
        """One line for an error Azure answered while we `action` the deployment."""
        target = self.target
        code = _error_code(error)
        if code == "ResourceGroupNotFound":
            return UserInputError(
                f"Resource group '{target.resource_group}' does not exist in "
                f"subscription {target.subscription_id}, so it holds no deployment "
                f"'{target.deployment_name}'; give the node's resource group with -g "
                "(`az group list -o table` lists them), or the --subscription it is in."
            )
        if code in {"DeploymentNotFound", "ResourceNotFound"} or (
            getattr(error, "status_code", None) == 404 and not code
        ):
            return UserInputError(
                f"No deployment '{target.deployment_name}' in resource group "
                f"'{target.resource_group}' (subscription {target.subscription_id}); "
                f"list the deployments with {target.list_hint} and give the node's "
                "name or its deployment's name"
                + _fleet_hint(target.deployment_name)
                + "."
            )
        return refused(error, target.situation(), f"{action} the deployment")


def refused(
    error: BaseException, situation: errors.Situation, action: str
) -> CcmAzureError:
    """errors.from_azure_error, said as what this command was doing.

    from_azure_error words a refusal with a code (403 AuthorizationFailed, 409
    ScopeLocked) as a deployment that was rejected or failed, which is what it is for
    `deploy`. Here nothing was deployed: Azure refused a read or a delete (exit 3).
    """
    # These commands start nothing: no answer of theirs means a deployment goes on.
    situation = dataclasses.replace(situation, started=False)
    mapped = errors.from_azure_error(error, situation)
    if not isinstance(mapped, errors.AzureRejected | errors.DeploymentFailed):
        return mapped
    body = errors.error_body(error) or {}
    group, name = situation.resource_group, situation.deployment_name
    return errors.AzureRejected(
        errors.describe(
            f"Azure refused to {action} '{name}' in resource group '{group}'",
            body,
            default_step="correct the cause above and run the command again",
            situation=situation,
        )
    )


def _error_code(error: BaseException) -> str:
    model = getattr(error, "error", None)
    return str(getattr(model, "code", "") or "")


def properties(deployment: dict[str, Any]) -> dict[str, Any]:
    found = deployment.get("properties")
    return found if isinstance(found, dict) else {}


def state(deployment: dict[str, Any]) -> str:
    return runner.provisioning_state(deployment) or "Unknown"


def is_final(deployment: dict[str, Any]) -> bool:
    return state(deployment).lower() in FINAL_STATES


def resource_ids(deployment: dict[str, Any]) -> Iterator[str]:
    """The ids of the deployment's `outputResources`."""
    for resource in properties(deployment).get("outputResources") or []:
        if isinstance(resource, dict) and resource.get("id"):
            yield str(resource["id"])


def _fleet_hint(deployment: str) -> str:
    """For a name like a fleet's node (NAME-2): the fleet's deployment, to try."""
    node = deployment.removeprefix(DEPLOYMENT_PREFIX)
    base, dash, number = node.rpartition("-")
    if not (dash and base and number.isdigit()):
        return ""
    return (
        f"; a node of a fleet (deploy --count) is in the fleet's deployment, "
        f"{DEPLOYMENT_PREFIX}{base}: give {base} as NAME"
    )
