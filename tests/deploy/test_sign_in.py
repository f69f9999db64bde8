"""Sign-in settings that azure-identity refuses while building the credential chain.

These fail before any request, so they need no cassette: each must end in one line
that names the variable at fault and says how to fix it, with exit code 5.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import recording
from conftest import PREFLIGHT_PASSES, NodeArguments
from deploying import assert_one_line_error, run

from ccm_azure.deploy.credentials import setting_at_fault
from ccm_azure.deploy.errors import sign_in_failed
from ccm_azure.errors import ExitCode

pytestmark = PREFLIGHT_PASSES

SERVICE_PRINCIPAL = {
    "AZURE_TENANT_ID": recording.TENANT,
    "AZURE_CLIENT_ID": recording.CLIENT,
}


def not_a_certificate(tmp_path: Path) -> str:
    path = tmp_path / "principal.pem"
    path.write_text("this is not a certificate\n")
    return str(path)


SETTINGS = {
    "unknown chain": (
        {"AZURE_TOKEN_CREDENTIALS": "bogus"},
        "AZURE_TOKEN_CREDENTIALS is 'bogus'",
        "AzureCliCredential",
    ),
    "missing certificate": (
        {**SERVICE_PRINCIPAL, "AZURE_CLIENT_CERTIFICATE_PATH": "/nonexistent.pem"},
        "AZURE_CLIENT_CERTIFICATE_PATH names /nonexistent.pem, which cannot be read",
        "PEM or PKCS12",
    ),
    "not a certificate": (
        {**SERVICE_PRINCIPAL, "AZURE_CLIENT_CERTIFICATE_PATH": not_a_certificate},
        "which is not a PEM or PKCS12 certificate",
        "the service principal's certificate",
    ),
    "malformed tenant": (
        {
            **SERVICE_PRINCIPAL,
            "AZURE_TENANT_ID": "bad/tenant",
            "AZURE_CLIENT_SECRET": recording.CLIENT_SECRET,
        },
        "AZURE_TENANT_ID is 'bad/tenant', which is not a tenant id",
        "az account show",
    ),
    "plain-http authority": (
        {"AZURE_AUTHORITY_HOST": "http://login.example.com"},
        "AZURE_AUTHORITY_HOST is 'http://login.example.com'",
        "https://login.microsoftonline.com",
    ),
}


@pytest.mark.parametrize(
    ("variables", "names", "fix"), SETTINGS.values(), ids=list(SETTINGS)
)
def test_a_bad_sign_in_setting_is_one_line_naming_it(
    variables: dict[str, object],
    names: str,
    fix: str,
    node: NodeArguments,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value(tmp_path) if callable(value) else str(value))

    result = run(node())  # no credential given: the command builds the real chain

    line = assert_one_line_error(result, ExitCode.AUTHENTICATION)
    assert len(result.stderr.splitlines()) == 1
    assert names in line
    assert fix in line
    assert line.index(names) < line.index(" Next: ") < line.index(fix)
    assert recording.CLIENT_SECRET not in line


def test_an_unexpected_refusal_still_points_at_the_environment() -> None:
    line = setting_at_fault(ValueError("something new\nand more"), {})

    assert "(something new)" in line
    assert "AZURE_*" in line
    assert "az login" in line


# --- Microsoft Entra ID refuses the service principal ---------------------------------

CHAIN_REPORT = (
    "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
    "Attempted credentials:\n"
    "\tEnvironmentCredential: Authentication failed: {code}: {why}. Trace ID: 4b7e\n"
    "\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable"
)


@pytest.mark.parametrize(
    ("code", "why", "step"),
    [
        ("AADSTS7000215", "Invalid client secret provided", "client secret's value"),
        ("AADSTS7000222", "The provided client secret keys are expired", "expired"),
        ("AADSTS700016", "Application not found in the directory", "AZURE_CLIENT_ID"),
        ("AADSTS90002", "Tenant not found", "check AZURE_TENANT_ID"),
        ("AADSTS50059", "No tenant-identifying information found", "az login"),
    ],
)
def test_a_refused_service_principal_names_the_credential_and_the_fix(
    code: str, why: str, step: str
) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    error = ClientAuthenticationError(message=CHAIN_REPORT.format(code=code, why=why))

    line = str(sign_in_failed(error))

    assert line.startswith(
        f"Could not sign in to Azure: EnvironmentCredential got no token (Microsoft "
        f"Entra ID answered {code}: {why}). Next: "
    )
    assert step in line.split(" Next: ")[1]
    assert "Trace ID" not in line
    assert "\n" not in line
