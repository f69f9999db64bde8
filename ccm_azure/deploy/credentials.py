"""How `deploy` signs in to Azure: DefaultAzureCredential, created only when needed.

DefaultAzureCredential tries, in order, the AZURE_* environment variables (a service
principal), workload identity, managed identity, then the developer tools (`az login`,
`azd`, PowerShell). `AZURE_TOKEN_CREDENTIALS` narrows the chain. Building it imports
azure-identity, which costs a noticeable part of a second, so that happens here and
only when a deployment runs; tests pass their own credential instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

CredentialFactory = Callable[[], "TokenCredential"]


def default_credential() -> TokenCredential:
    """The credential chain the Azure SDKs and the az CLI conventionally use."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def close_credential(credential: object) -> None:
    """Release what a credential holds open (HTTP sessions, token caches)."""
    close = getattr(credential, "close", None)
    if callable(close):
        close()
