"""The Azure SDK clients every command that talks to Azure builds the same way.

One place decides how a client waits between status requests, how it retries a
throttled or failing request, and how it names itself to Azure. The SDK is imported
inside each function, never at module level, so that offline commands stay fast.
Azure's network trace (`logging_enable`) is never switched on: it logs request
bodies, and a deployment's body holds the join token.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ccm_azure import __version__

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient
    from azure.mgmt.resource.resources import ResourceManagementClient

DEFAULT_POLLING_INTERVAL = 5.0
"""Seconds between status requests when Azure sends no Retry-After."""
DEFAULT_RETRY_BACKOFF = 0.8
"""azure-core's backoff factor: a request that was throttled or failed with a 5xx
status is sent again at once, then after 1.6 s, 3.2 s and so on, unless Azure says
how long to wait with Retry-After."""
DEFAULT_RETRY_TOTAL = 3
"""How many times one request is sent again (after a 408, 429 or 5xx answer, or a
dropped connection) before its failure is reported: at most 4 attempts, which is also
where azure-core's own per-kind limits stop."""


@dataclasses.dataclass(frozen=True)
class ClientOptions:
    """How a command's clients wait and retry; replayed tests set the waits to 0."""

    polling_interval: float = DEFAULT_POLLING_INTERVAL
    retry_backoff: float = DEFAULT_RETRY_BACKOFF
    retry_total: int = DEFAULT_RETRY_TOTAL
    raw_response_hook: Callable[[Any], None] | None = None

    def as_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "polling_interval": self.polling_interval,
            "retry_backoff_factor": self.retry_backoff,
            "retry_total": self.retry_total,
            "user_agent": f"ccm-azure/{__version__}",
        }
        if self.raw_response_hook is not None:
            kwargs["raw_response_hook"] = self.raw_response_hook
        return kwargs


def resource_client(
    credential: TokenCredential, subscription_id: str, options: ClientOptions
) -> ResourceManagementClient:
    """Resource groups and resources by id."""
    from azure.mgmt.resource.resources import ResourceManagementClient

    return ResourceManagementClient(credential, subscription_id, **options.as_kwargs())


def deployments_client(
    credential: TokenCredential, subscription_id: str, options: ClientOptions
) -> DeploymentsMgmtClient:
    """Deployments, their validation, what-if and operations."""
    from azure.mgmt.resource.deployments import DeploymentsMgmtClient

    return DeploymentsMgmtClient(credential, subscription_id, **options.as_kwargs())


def compute_client(
    credential: TokenCredential, subscription_id: str, options: ClientOptions
) -> ComputeManagementClient:
    """Resource SKUs and vCPU usage, for the preflight."""
    from azure.mgmt.compute import ComputeManagementClient

    return ComputeManagementClient(credential, subscription_id, **options.as_kwargs())
