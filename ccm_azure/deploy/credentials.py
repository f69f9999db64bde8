"""How `deploy` signs in to Azure: DefaultAzureCredential, created only when needed.

DefaultAzureCredential tries, in order, the AZURE_* environment variables (a service
principal), workload identity, managed identity, then the developer tools (`az login`,
`azd`, PowerShell). `AZURE_TOKEN_CREDENTIALS` narrows the chain. Building it imports
azure-identity, which costs a noticeable part of a second, so that happens here and
only when a deployment runs; tests pass their own credential instead.

Building the chain already reads some of those variables, and a bad one (an unknown
`AZURE_TOKEN_CREDENTIALS`, a certificate file that is missing or is no certificate, a
malformed tenant id, a plain-http authority) makes azure-identity raise a bare
ValueError or OSError. `default_credential` turns that into one line naming the
variable at fault.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ccm_azure.deploy.errors import SignInFailed, one_line

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

CredentialFactory = Callable[[], "TokenCredential"]

PUBLIC_AUTHORITY = "https://login.microsoftonline.com"


def default_credential(
    environ: Mapping[str, str] = os.environ,
) -> TokenCredential:
    """The credential chain the Azure SDKs and the az CLI conventionally use."""
    from azure.identity import DefaultAzureCredential

    try:
        return DefaultAzureCredential()
    except (ValueError, OSError) as error:
        raise SignInFailed(setting_at_fault(error, environ)) from None


def setting_at_fault(error: Exception, environ: Mapping[str, str]) -> str:
    """One line naming the sign-in setting that made building the credential fail."""
    text = str(error)
    lower = text.lower()
    certificate = environ.get("AZURE_CLIENT_CERTIFICATE_PATH", "")
    if "AZURE_TOKEN_CREDENTIALS" in text:
        value = environ.get("AZURE_TOKEN_CREDENTIALS", "")
        return (
            f"AZURE_TOKEN_CREDENTIALS is '{value}', which names no credential. Next: "
            "set it to dev, prod or one credential such as AzureCliCredential or "
            "EnvironmentCredential, or unset it."
        )
    if "authority" in lower:
        value = environ.get("AZURE_AUTHORITY_HOST", "")
        return (
            f"AZURE_AUTHORITY_HOST is '{value}', which is not an https:// address. "
            f"Next: set it to your cloud's sign-in host ({PUBLIC_AUTHORITY} for the "
            "public cloud), or unset it."
        )
    if "tenant" in lower:
        value = environ.get("AZURE_TENANT_ID", "")
        return (
            f"AZURE_TENANT_ID is '{value}', which is not a tenant id. Next: set it to "
            "the tenant's GUID (`az account show --query tenantId -o tsv`) or its "
            "domain, or unset it."
        )
    if certificate and isinstance(error, OSError):
        reason = error.strerror or type(error).__name__
        return (
            f"AZURE_CLIENT_CERTIFICATE_PATH names {certificate}, which cannot be read "
            f"({reason}). Next: point it at the service principal's PEM or PKCS12 "
            "certificate, or unset it."
        )
    if certificate and "certificate" in lower:
        return (
            f"AZURE_CLIENT_CERTIFICATE_PATH names {certificate}, which is not a PEM or "
            "PKCS12 certificate with its private key (or "
            "AZURE_CLIENT_CERTIFICATE_PASSWORD does not open it). Next: point it at "
            "the service principal's certificate, or unset it."
        )
    reason = one_line(text.splitlines()[0] if text else type(error).__name__)
    return (
        f"The Azure sign-in settings in the environment are not usable ({reason}). "
        "Next: check the AZURE_* variables, or unset them and sign in with `az login`."
    )


def close_credential(credential: object) -> None:
    """Release what a credential holds open (HTTP sessions, token caches)."""
    close = getattr(credential, "close", None)
    if callable(close):
        close()


ARM_SCOPE = "https://management.azure.com/.default"


def signed_in(credential: TokenCredential) -> TokenCredential:
    """`credential`, once it has got a token for Azure Resource Manager.

    Several regions deployed side by side share one credential; signing in first
    reports a failure once, as one line, instead of once per region.
    """
    from azure.core.exceptions import ClientAuthenticationError

    from ccm_azure.deploy.errors import sign_in_failed

    try:
        credential.get_token(ARM_SCOPE)
    except ClientAuthenticationError as error:
        raise sign_in_failed(error) from None
    return credential
