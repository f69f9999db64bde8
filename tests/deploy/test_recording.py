"""The recording hooks scrub every secret before a cassette is written."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import recording
import yaml
from conftest import CANARY_TOKEN
from vcr.request import Request

REAL_SUBSCRIPTION = "3f2b8c1d-9a4e-4f60-8b7d-2c5e1a9f0d43"
REAL_TENANT = "8e1c4a7b-2d3f-4b5a-9c6e-7f0a1b2c3d4e"
REAL_CLIENT = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"
REAL_IDS = {
    REAL_SUBSCRIPTION: recording.SUBSCRIPTION,
    REAL_TENANT: recording.TENANT,
    REAL_CLIENT: recording.CLIENT,
}
CANARY_SECRET = "CANARY-CLIENT-SECRET~q8Z.3f"
CANARY_ACCESS_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.CANARY-ACCESS-TOKEN.sig"
CANARY_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICANARYKEY operator@host"
ARM = "https://management.azure.com"


@pytest.fixture(autouse=True)
def recording_developer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ids a developer recording against a real subscription would have."""
    monkeypatch.setattr(recording, "REAL_IDS", REAL_IDS)


def test_the_vcr_config_uses_these_hooks() -> None:
    config = recording.vcr_config()

    assert config["before_record_request"] is recording.scrub_request
    assert config["before_record_response"] is recording.scrub_response
    assert config["after_load_interaction"] is recording.zero_retry_after
    assert "authorization" in config["filter_headers"]
    assert config["allow_playback_repeats"] is False


def deployment_body() -> dict[str, Any]:
    return {
        "properties": {
            "mode": "Incremental",
            "template": {
                "parameters": {
                    "joinToken": {"type": "secureString"},
                    "adminPasswordOrKey": {"type": "secureString"},
                    "apiKey": {"type": "SecureString"},
                    "settings": {"type": "secureObject"},
                    "vmName": {"type": "string"},
                }
            },
            "parameters": {
                "joinToken": {"value": CANARY_TOKEN},
                "adminPasswordOrKey": {"value": CANARY_KEY},
                "apiKey": {"value": "CANARY-API-KEY-77"},
                "settings": {"value": {"nested": CANARY_TOKEN}},
                "vmName": {"value": "ccm-node"},
            },
        }
    }


def test_secure_parameters_are_redacted_and_keep_their_shape() -> None:
    uri = (
        f"{ARM}/subscriptions/{REAL_SUBSCRIPTION}/resourcegroups/ccm-node-eastus/"
        "providers/Microsoft.Resources/deployments/ccm-azure-ccm-node?api-version=x"
    )
    request = Request(
        "PUT",
        uri,
        json.dumps(deployment_body()).encode(),
        {"Content-Type": "application/json", "Authorization": "Bearer " + "a" * 40},
    )

    scrubbed = recording.scrub_request(request)

    text = scrubbed.body.decode()
    for canary in (CANARY_TOKEN, CANARY_KEY, "CANARY-API-KEY-77", REAL_SUBSCRIPTION):
        assert canary not in text
        assert canary not in scrubbed.uri
    parameters = json.loads(text)["properties"]["parameters"]
    assert parameters["joinToken"] == {"value": recording.REDACTED}
    assert parameters["adminPasswordOrKey"] == {"value": recording.REDACTED}
    assert parameters["settings"] == {"value": recording.REDACTED}
    assert parameters["vmName"] == {"value": "ccm-node"}
    assert f"/subscriptions/{recording.SUBSCRIPTION}/" in scrubbed.uri
    assert "Authorization" not in scrubbed.headers


def test_secure_parameters_are_found_by_name_without_the_template() -> None:
    body = {"properties": {"parameters": {"joinToken": {"value": CANARY_TOKEN}}}}
    request = Request(
        "POST",
        f"{ARM}/x/validate",
        json.dumps(body),
        {"Content-Type": "application/json"},
    )

    scrubbed = recording.scrub_request(request)

    assert CANARY_TOKEN not in scrubbed.body.decode()
    assert '"joinToken": {"value": "REDACTED"}' in scrubbed.body.decode()


def test_client_secret_and_ids_leave_the_sign_in_request() -> None:
    body = (
        f"client_id={REAL_CLIENT}&grant_type=client_credentials&client_info=1"
        f"&client_secret={CANARY_SECRET}&scope=https%3A%2F%2Fmanagement.azure.com"
        "%2F.default"
    )
    request = Request(
        "POST",
        f"https://login.microsoftonline.com/{REAL_TENANT}/oauth2/v2.0/token",
        body.encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )

    scrubbed = recording.scrub_request(request)

    text = scrubbed.body.decode()
    assert CANARY_SECRET not in text
    assert "client_secret=REDACTED" in text
    assert REAL_CLIENT not in text
    assert REAL_TENANT not in scrubbed.uri
    assert recording.TENANT in scrubbed.uri


def test_tokens_leave_the_sign_in_answer() -> None:
    answer = {
        "token_type": "Bearer",
        "expires_in": 3599,
        "access_token": CANARY_ACCESS_TOKEN,
        "refresh_token": CANARY_ACCESS_TOKEN + "-refresh",
    }
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {
            "Content-Type": ["application/json; charset=utf-8"],
            "Date": ["Tue, 12 May 2026 09:14:02 GMT"],
            "x-ms-request-id": ["1d2c3b4a"],
        },
        "body": {"string": json.dumps(answer).encode()},
    }

    scrubbed = recording.scrub_response(response)

    text = scrubbed["body"]["string"].decode()
    assert "CANARY" not in text
    assert json.loads(text)["access_token"] == recording.REDACTED_TOKEN
    assert "Date" not in scrubbed["headers"]
    assert "x-ms-request-id" not in scrubbed["headers"]


def test_subscription_leaves_answer_bodies_and_polling_urls() -> None:
    status_url = (
        f"{ARM}/subscriptions/{REAL_SUBSCRIPTION}/resourcegroups/rg/providers/"
        "Microsoft.Resources/deployments/d/operationStatuses/1?api-version=x"
    )
    response = {
        "status": {"code": 201, "message": "Created"},
        "headers": {"Azure-AsyncOperation": [status_url]},
        "body": {"string": json.dumps({"id": f"/subscriptions/{REAL_SUBSCRIPTION}/x"})},
    }

    scrubbed = recording.scrub_response(response)

    assert REAL_SUBSCRIPTION not in scrubbed["headers"]["Azure-AsyncOperation"][0]
    assert REAL_SUBSCRIPTION not in scrubbed["body"]["string"].decode()


def test_real_ids_are_replaced_wherever_they_appear() -> None:
    text = f"tenant {REAL_TENANT.upper()} client {REAL_CLIENT} sub {REAL_SUBSCRIPTION}"

    replaced = recording.replace_ids(text, REAL_IDS)

    assert replaced == (
        f"tenant {recording.TENANT} client {recording.CLIENT} "
        f"sub {recording.SUBSCRIPTION}"
    )


def test_retry_after_becomes_zero_when_a_cassette_loads() -> None:
    response = {
        "headers": {"Retry-After": ["15"], "x-ms-retry-after-ms": ["900"], "A": ["x"]}
    }

    _, loaded = recording.zero_retry_after(None, response)

    assert loaded["headers"] == {
        "Retry-After": ["0"],
        "x-ms-retry-after-ms": ["0"],
        "A": ["x"],
    }


REAL_OBJECT = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"


def test_the_principal_leaves_the_operation_identifier_header() -> None:
    identifier = (
        f"tenantId={REAL_TENANT},objectId={REAL_OBJECT}/uksouth/"
        "5d1c0a8e-3b7f-4e2a-9c61-0f4b8d2e7a35"
    )
    response = {
        "status": {"code": 201, "message": "Created"},
        "headers": {"x-ms-operation-identifier": [identifier]},
        "body": {"string": b""},
    }

    scrubbed = recording.scrub_response(response)

    header = scrubbed["headers"]["x-ms-operation-identifier"][0]
    assert REAL_OBJECT not in header
    assert REAL_TENANT not in header
    assert header.startswith(
        f"tenantId={recording.TENANT},objectId={recording.PRINCIPAL}/uksouth/"
    )


# --- the sweep ------------------------------------------------------------------------

LEAKED_TOKEN = "LEAKED-JOIN-TOKEN-3c9a51"


def leaky_cassette() -> str:
    """A cassette as a careless recording would write it: compact JSON and all."""
    body = json.dumps(
        {"properties": {"parameters": {"joinToken": {"value": LEAKED_TOKEN}}}},
        separators=(",", ":"),
    )
    answer = json.dumps({"access_token": "eyJ0eXAi.real.token"}, separators=(",", ":"))
    echoed = base64.b64encode(LEAKED_TOKEN.encode()).decode()
    cassette = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "PUT",
                    "uri": f"{ARM}/subscriptions/x/deployments/d",
                    "body": body,
                    "headers": {"Authorization": ["Bearer " + "a" * 40]},
                },
                "response": {
                    "status": {"code": 400, "message": "Bad Request"},
                    "headers": {},
                    "body": {"string": f'{{"error":{{"message":"{echoed}"}}}}'},
                },
            },
            {
                "request": {
                    "method": "POST",
                    "uri": "https://login.microsoftonline.com/t/oauth2/v2.0/token",
                    "body": "client_id=c&client_secret=s3cret&grant_type=x",
                    "headers": {},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {},
                    "body": {"string": answer},
                },
            },
        ],
    }
    return yaml.safe_dump(cassette)


def test_the_sweep_finds_every_kind_of_leak(tmp_path: Path) -> None:
    path = tmp_path / "leaky.yaml"
    path.write_text(leaky_cassette())

    leaks = recording.cassette_leaks(path.read_text(), [LEAKED_TOKEN])

    text = "\n".join(leaks)
    assert "holds a secret (LEAKED" in text  # the token in a compact JSON body
    assert "holds a secret (TEVBS0" in text  # and in base64, in the answer
    assert "secure parameter joinToken is not" in text
    assert "keeps its Authorization header" in text
    assert "form field client_secret is not REDACTED" in text
    assert "answer field access_token is not 'redacted'" in text


def test_the_sweep_passes_a_scrubbed_cassette(tmp_path: Path) -> None:
    request = Request(
        "PUT",
        f"{ARM}/x",
        json.dumps(deployment_body(), separators=(",", ":")).encode(),
        {"Content-Type": "application/json", "Authorization": "Bearer " + "a" * 40},
    )
    scrubbed = recording.scrub_request(request)
    cassette = {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "PUT",
                    "uri": scrubbed.uri,
                    "body": scrubbed.body,
                    "headers": {k: [v] for k, v in scrubbed.headers.items()},
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {},
                    "body": {"string": ""},
                },
            }
        ],
    }

    leaks = recording.cassette_leaks(yaml.safe_dump(cassette), [CANARY_TOKEN])

    assert leaks == []
