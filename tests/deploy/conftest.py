"""Fixtures of the deploy tests: cassettes, a fake credential, a node's inputs."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import recording

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "deploy"
CANARY_TOKEN = "CANARY-JOIN-TOKEN-9f27c1"
# Read when the tests are collected, before `clean_environment` clears the variable:
# after a recording, the real join token is here, and no cassette may hold it.
RECORDING_TOKEN = os.environ.get("CCM_JOIN_TOKEN", "")
INSTALLER_URL = "https://downloads.example.com/ccm/node-agent-4.31.tar.gz"
# Well-formed ed25519 public key whose 32 key bytes are a hash: no private key exists.
SSH_PUBLIC_KEY = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIC67V9qrHmYfIfbtBEKFpYmOx9y7VxvNnJwNbhGy8drK "
    "operator@ccm-tests"
)
PREFLIGHT_PASSES = pytest.mark.vcr("preflight_passes.yaml")
"""The preflight's reads when the subscription can have the nodes: played alongside
each test's own cassette by the tests that run the whole deploy command for another
reason than the preflight."""
NodeArguments = Callable[..., list[str]]
"""Builds the arguments of `ccm-azure deploy` for a node, plus extra ones."""

AZURE_VARIABLES = (
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_TOKEN_CREDENTIALS",
    "AZURE_REGIONAL_AUTHORITY_NAME",
    "IDENTITY_ENDPOINT",
    "MSI_ENDPOINT",
    "CCM_JOIN_TOKEN",
    "CCM_ADMIN_PASSWORD",
)


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def vcr_config() -> dict[str, Any]:
    return recording.vcr_config()


@pytest.fixture
def replaying(record_mode: str) -> bool:
    """True unless a developer is recording cassettes against a real subscription."""
    return record_mode == "none"


@pytest.fixture(autouse=True)
def clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, replaying: bool
) -> None:
    """On replay no test sees the developer's Azure sign-in, home or join token.

    A developer recording keeps them: the recording tests sign in for real.
    """
    if not replaying:
        return
    for name in AZURE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519.pub").write_text(SSH_PUBLIC_KEY + "\n")
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture
def ssh_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "node.pub"
    path.write_text(SSH_PUBLIC_KEY + "\n")
    return path


@pytest.fixture
def token_file(tmp_path: Path, replaying: bool) -> Path:
    """The canary token on replay; a real one (CCM_JOIN_TOKEN) to record with."""
    path = tmp_path / "join-token"
    path.write_text(
        (CANARY_TOKEN if replaying else os.environ["CCM_JOIN_TOKEN"]) + "\n"
    )
    return path


@pytest.fixture
def installer_url(replaying: bool) -> str:
    """A made-up URL on replay; a real installer (CCM_INSTALLER_URL) to record with."""
    return INSTALLER_URL if replaying else os.environ["CCM_INSTALLER_URL"]


class FakeCredential:
    """A credential that hands out a short fake token without any HTTP."""

    def __init__(self) -> None:
        self.closed = False

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("fake-token", 4_102_444_800)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("fake-token", 4_102_444_800)

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def node(token_file: Path, ssh_key_file: Path, installer_url: str) -> NodeArguments:
    """The arguments of a node deployment in eastus, plus `extra`."""

    def arguments(
        *extra: str,
        subscription: str = recording.SUBSCRIPTION,
        token: Path = token_file,
    ) -> list[str]:
        return [
            "--region",
            "eastus",
            "--token-file",
            str(token),
            "--subscription",
            subscription,
            "--ssh-key",
            str(ssh_key_file),
            "--installer-url",
            installer_url,
            "--label",
            "env:prod",
            *extra,
        ]

    return arguments


@pytest.fixture
def fake_credential() -> FakeCredential:
    return FakeCredential()


@pytest.fixture
def recording_subscription(replaying: bool) -> str:
    """The all-zeros id on replay; the developer's AZURE_SUBSCRIPTION_ID on record."""
    if replaying:
        return recording.SUBSCRIPTION
    return os.environ["AZURE_SUBSCRIPTION_ID"]


@pytest.fixture
def recording_credential(replaying: bool, fake_credential: FakeCredential) -> Any:
    """The fake credential on replay; None (DefaultAzureCredential) on record."""
    return fake_credential if replaying else None


@pytest.fixture
def polling_interval(replaying: bool) -> float:
    """No waiting on replay; the runner's default pace against real Azure."""
    from ccm_azure.deploy.clients import DEFAULT_POLLING_INTERVAL

    return 0 if replaying else DEFAULT_POLLING_INTERVAL


@pytest.fixture
def one_request_at_a_time(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Send one request at a time, as vcrpy replays safely only that way; the list
    fills with each request sent, as `METHOD path`, in the order sent.

    Threads (regions side by side, pollers of parallel deletes) still run side by
    side; only their HTTP sends take turns, which a real network never needs.
    """
    from urllib.parse import urlsplit

    from azure.core.pipeline.transport import RequestsTransport

    send = RequestsTransport.send
    lock = threading.Lock()
    sent: list[str] = []

    def send_in_turn(self: Any, request: Any, **kwargs: Any) -> Any:
        with lock:
            sent.append(f"{request.method} {urlsplit(request.url).path}")
            return send(self, request, **kwargs)

    monkeypatch.setattr(RequestsTransport, "send", send_in_turn)
    return sent


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record of ccm_azure, azure and the libraries below, down to DEBUG.

    The capturing handler sits on those loggers themselves, so it keeps working when
    the CLI replaces the root logger's handlers, and it sees each record as logged,
    before the CLI's redacting filter.
    """
    names = ("ccm_azure", "azure", "msal", "urllib3", "vcr")
    caplog.set_level(logging.DEBUG)
    for name in names:
        caplog.set_level(logging.DEBUG, logger=name)
        logging.getLogger(name).addHandler(caplog.handler)
    yield caplog
    for name in names:
        logging.getLogger(name).removeHandler(caplog.handler)
