"""How the deploy cassettes are recorded and replayed.

Replay (the default, and what CI does) needs nothing: the cassettes in
tests/cassettes/deploy/ hold every answer, `Retry-After` is dropped as they load so
the pollers never sleep, and the network is blocked.

Recording against a real subscription runs every request through `scrub_request`
and every answer through `scrub_response` before it is written:

- the Authorization header and the client request ids are dropped;
- the subscription id becomes the all-zeros id, the tenant and client ids become the
  fake ones the replayed tests use;
- the client secret of a service-principal sign-in becomes REDACTED;
- every secure parameter (declared `secureString`/`secureObject` in the template, or
  named in SECURE_PARAMETERS) keeps its `{"value": ...}` shape with the value
  REDACTED;
- access, refresh and id tokens in sign-in answers become "redacted".

The same request hook also runs on replay before matching, which is harmless: replay
already uses the placeholder ids.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"
CLIENT_SECRET = "fake-client-secret"  # the fake one replay uses
REDACTED = "REDACTED"
REDACTED_TOKEN = "redacted"

SIGN_IN_HOSTS = ["login.microsoftonline.com", "169.254.169.254"]
"""Microsoft Entra ID and the managed-identity endpoint: kept out of the cassettes of
tests that replay with a fake credential (only the credential-chain test records them).
"""

SECURE_PARAMETERS = frozenset({"joinToken", "adminPasswordOrKey"})
SECURE_TYPES = frozenset({"securestring", "secureobject"})
SECRET_FORM_FIELDS = ("client_secret", "client_assertion", "password", "refresh_token")
TOKEN_FIELDS = ("access_token", "refresh_token", "id_token")
DROPPED_REQUEST_HEADERS = (
    "authorization",
    "x-ms-client-request-id",
    "client-request-id",
    "user-agent",
    "x-client-sku",
    "x-client-ver",
    "x-client-os",
    "x-client-cpu",
    "x-client-current-telemetry",
    "x-client-last-telemetry",
)
DROPPED_RESPONSE_HEADERS = (
    "date",
    "x-ms-request-id",
    "x-ms-correlation-request-id",
    "x-ms-routing-request-id",
    "client-request-id",
    "set-cookie",
    "x-ms-ests-server",
    "x-ms-clitelem",
)

_GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_SUBSCRIPTION_PATH = re.compile(f"(/subscriptions/){_GUID}", re.IGNORECASE)


def _real_ids(environ: Mapping[str, str]) -> dict[str, str]:
    """Real identifiers of the recording developer -> their placeholders."""
    pairs = {
        environ.get("AZURE_SUBSCRIPTION_ID", ""): SUBSCRIPTION,
        environ.get("AZURE_TENANT_ID", ""): TENANT,
        environ.get("AZURE_CLIENT_ID", ""): CLIENT,
    }
    return {real: fake for real, fake in pairs.items() if len(real) >= 8}


# Read once, when the tests are collected: later fixtures replace these variables
# with the fake values the replayed tests use.
REAL_IDS = _real_ids(os.environ)


def replace_ids(text: str, ids: Mapping[str, str] | None = None) -> str:
    """`text` with every subscription in a path and every known real id replaced."""
    text = _SUBSCRIPTION_PATH.sub(rf"\g<1>{SUBSCRIPTION}", text)
    for real, fake in (REAL_IDS if ids is None else ids).items():
        text = re.sub(re.escape(real), fake, text, flags=re.IGNORECASE)
    return text


def _text(body: Any) -> str | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return str(body)


def scrub_deployment_body(document: Any) -> Any:
    """A deployment body with each secure parameter's value replaced, shape kept."""
    if not isinstance(document, dict):
        return document
    properties = document.get("properties")
    if not isinstance(properties, dict):
        return document
    parameters = properties.get("parameters")
    if not isinstance(parameters, dict):
        return document
    declared = (properties.get("template") or {}).get("parameters") or {}
    secure = set(SECURE_PARAMETERS) | {
        name
        for name, spec in declared.items()
        if isinstance(spec, dict) and str(spec.get("type", "")).lower() in SECURE_TYPES
    }
    for name in secure & set(parameters):
        parameter = parameters[name]
        if isinstance(parameter, dict) and "value" in parameter:
            parameter["value"] = REDACTED
        elif isinstance(parameter, dict) and "reference" in parameter:
            continue
        else:
            parameters[name] = {"value": REDACTED}
    return document


def scrub_form(text: str) -> str:
    """A form-encoded sign-in request with its secrets replaced."""
    fields = parse_qsl(text, keep_blank_values=True)
    return urlencode(
        [
            (key, REDACTED if key in SECRET_FORM_FIELDS else value)
            for key, value in fields
        ]
    )


def scrub_request(request: Any) -> Any:
    """vcrpy `before_record_request`: ids, secrets and auth headers out of a request."""
    request.uri = replace_ids(request.uri)
    for header in list(request.headers):
        if header.lower() in DROPPED_REQUEST_HEADERS:
            del request.headers[header]
    text = _text(request.body)
    if text:
        content_type = request.headers.get("Content-Type", "")
        if "x-www-form-urlencoded" in content_type or (
            "=" in text and not text.lstrip().startswith(("{", "["))
        ):
            text = scrub_form(text)
        else:
            with contextlib.suppress(ValueError):
                text = json.dumps(scrub_deployment_body(json.loads(text)))
        request.body = replace_ids(text).encode("utf-8")
    return request


def scrub_token_answer(document: Any) -> Any:
    if isinstance(document, dict):
        for field in TOKEN_FIELDS:
            if field in document:
                document[field] = REDACTED_TOKEN
    return document


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy `before_record_response`: ids, tokens and volatile headers out."""
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in DROPPED_RESPONSE_HEADERS:
            del headers[name]
        else:
            headers[name] = [replace_ids(str(value)) for value in headers[name]]
    body = response.get("body") or {}
    text = _text(body.get("string"))
    if text:
        with contextlib.suppress(ValueError):
            text = json.dumps(scrub_token_answer(json.loads(text)))
        body["string"] = replace_ids(text).encode("utf-8")
    return response


def without_retry_after(request: Any, response: dict[str, Any]) -> tuple[Any, Any]:
    """vcrpy `after_load_interaction`: replayed answers never make a poller sleep."""
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in ("retry-after", "retry-after-ms", "x-ms-retry-after-ms"):
            del headers[name]
    return request, response


def vcr_config() -> dict[str, Any]:
    """The keyword arguments for vcrpy's use_cassette, shared by every deploy test."""
    return {
        "filter_headers": list(DROPPED_REQUEST_HEADERS),
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "after_load_interaction": without_retry_after,
        "decode_compressed_response": True,
        "match_on": ("method", "scheme", "host", "port", "path", "query"),
        "allow_playback_repeats": False,
    }
