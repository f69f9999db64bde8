"""Deploy the node-agent offer into an Azure subscription.

`run_deployment` is the library: it creates the resource group if needed, lets Azure
Resource Manager validate the rendered template, deploys it and returns the outputs,
or raises one of the errors below. `command.deploy` is the `ccm-azure deploy` command
built on it. Importing this package imports no Azure SDK module; that happens only
when a deployment runs.

Errors, each a `ccm_azure.errors.CcmAzureError` with its exit code::

    AzureRejected      Azure refused the deployment before it started (3)
    DeploymentFailed   the deployment started, then failed or was canceled (4)
    SignInFailed       no credential got a token, Azure refused it, or an AZURE_*
                       sign-in setting is unusable (5)
    AzureUnavailable   Azure could not be reached, or kept throttling or failing (6)
    CapacityUnavailable  the size is not offered to the subscription in that region,
                       or its vCPU quota is short (7)
    Interrupted        Ctrl-C (130)
"""

from ccm_azure.deploy.errors import (
    AzureRejected,
    AzureUnavailable,
    CapacityUnavailable,
    DeploymentFailed,
    Interrupted,
    SignInFailed,
)
from ccm_azure.deploy.runner import DeploymentRequest, DeploymentResult, run_deployment

__all__ = [
    "AzureRejected",
    "AzureUnavailable",
    "CapacityUnavailable",
    "DeploymentFailed",
    "DeploymentRequest",
    "DeploymentResult",
    "Interrupted",
    "SignInFailed",
    "run_deployment",
]
