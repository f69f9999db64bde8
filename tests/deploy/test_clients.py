"""Every Azure client the commands build: the same pace, and no network trace."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FakeCredential

from ccm_azure.deploy import clients

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
BUILDERS = [clients.resource_client, clients.deployments_client, clients.compute_client]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_no_client_switches_on_the_network_trace(build: Any) -> None:
    # azure-core's network trace logs request bodies, and a deployment's body holds
    # the join token: it stays off, whatever the environment asks.
    client = build(FakeCredential(), SUBSCRIPTION, clients.ClientOptions())

    assert client._config.logging_policy.enable_http_logger is False
    assert "logging_enable" not in clients.ClientOptions().as_kwargs()


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_every_client_retries_a_bounded_number_of_times(build: Any) -> None:
    options = clients.ClientOptions(polling_interval=0, retry_backoff=0)
    client = build(FakeCredential(), SUBSCRIPTION, options)

    retry = client._config.retry_policy
    assert retry.total_retries == clients.DEFAULT_RETRY_TOTAL == 3
    assert retry.backoff_factor == 0
    assert client._config.polling_interval == 0
