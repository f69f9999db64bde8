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
- access, refresh and id tokens in sign-in answers become "redacted";
- the tenant and object ids of the signed-in principal that ARM reports in answer
  headers (`x-ms-operation-identifier: tenantId=...,objectId=...`) become fakes.

The same request hook also runs on replay before matching, which is harmless: replay
already uses the placeholder ids. As a cassette loads, every Retry-After becomes 0:
azure-core still retries and polls as the header tells it, but without sleeping.

`cassette_leaks` is the sweep that proves the scrubbing worked: the tests run it on
every cassette in the repository.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT = "22222222-2222-2222-2222-222222222222"
PRINCIPAL = "33333333-3333-3333-3333-333333333333"
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
_PRINCIPAL_IDS = re.compile(f"\\b(tenantId|objectId)=({_GUID})", re.IGNORECASE)
_FAKE_PRINCIPAL_IDS = {"tenantid": TENANT, "objectid": PRINCIPAL}


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


def replace_principal_ids(text: str) -> str:
    """`text` with each `tenantId=GUID` and `objectId=GUID` given a fake GUID."""
    return _PRINCIPAL_IDS.sub(
        lambda match: f"{match.group(1)}={_FAKE_PRINCIPAL_IDS[match.group(1).lower()]}",
        text,
    )


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """vcrpy `before_record_response`: ids, tokens and volatile headers out."""
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in DROPPED_RESPONSE_HEADERS:
            del headers[name]
        else:
            headers[name] = [
                replace_principal_ids(replace_ids(str(value)))
                for value in headers[name]
            ]
    body = response.get("body") or {}
    text = _text(body.get("string"))
    if text:
        with contextlib.suppress(ValueError):
            text = json.dumps(scrub_token_answer(json.loads(text)))
        body["string"] = replace_ids(text).encode("utf-8")
    return response


RETRY_AFTER_HEADERS = ("retry-after", "retry-after-ms", "x-ms-retry-after-ms")


def zero_retry_after(request: Any, response: dict[str, Any]) -> tuple[Any, Any]:
    """vcrpy `after_load_interaction`: replayed answers never make anything sleep.

    The header stays, with the value 0, because its presence matters: azure-core
    retries any refused request that carries one, whatever its method.
    """
    headers = response.get("headers") or {}
    for name in list(headers):
        if name.lower() in RETRY_AFTER_HEADERS:
            headers[name] = ["0"]
    return request, response


def vcr_config() -> dict[str, Any]:
    """The keyword arguments for vcrpy's use_cassette, shared by every deploy test."""
    return {
        "filter_headers": list(DROPPED_REQUEST_HEADERS),
        "before_record_request": scrub_request,
        "before_record_response": scrub_response,
        "after_load_interaction": zero_retry_after,
        "decode_compressed_response": True,
        "match_on": ("method", "scheme", "host", "port", "path", "query"),
        "allow_playback_repeats": False,
    }


# --- the sweep ------------------------------------------------------------------------


def cassette_leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """What a cassette's YAML `text` holds that recording should have scrubbed.

    Each secret is looked for as written and in base64, in the file and in every
    request and answer it parses into; secure deployment parameters, form secrets
    and tokens in sign-in answers must hold their placeholders; no request may keep
    an Authorization header. An empty list means the cassette is clean.
    """
    from vcr.serializers import yamlserializer

    forms = {form for secret in secrets if secret for form in _forms(secret)}
    found: list[str] = []
    for form in sorted(forms):
        if form in text:
            found.append(f"a secret is written in the file: {form[:6]}...")
    for number, interaction in enumerate(
        yamlserializer.deserialize(text)["interactions"]
    ):
        request, response = interaction["request"], interaction["response"]
        where = f"interaction {number} ({request['method']} {request['uri']})"
        strings = [request["uri"], _text(request.get("body")) or ""]
        strings += [_text((response.get("body") or {}).get("string")) or ""]
        for headers in (request.get("headers") or {}, response.get("headers") or {}):
            strings += [str(value) for values in headers.values() for value in values]
        for form in sorted(forms):
            if any(form in string for string in strings):
                found.append(f"{where}: holds a secret ({form[:6]}...)")
        if any(
            name.lower() == "authorization" for name in request.get("headers") or {}
        ):
            found.append(f"{where}: the request keeps its Authorization header")
        found += [f"{where}: {leak}" for leak in _request_body_leaks(request)]
        body = _text((response.get("body") or {}).get("string"))
        found += [f"{where}: {leak}" for leak in _token_leaks(_json(body))]
    return found


def _forms(secret: str) -> set[str]:
    return {secret, base64.b64encode(secret.encode()).decode()}


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _request_body_leaks(request: Mapping[str, Any]) -> list[str]:
    """Secure parameters and form secrets of a request body not at their placeholder."""
    text = _text(request.get("body"))
    if not text:
        return []
    document = _json(text)
    if document is None:
        fields = parse_qsl(text, keep_blank_values=True)
        return [
            f"form field {key} is not {REDACTED}"
            for key, value in fields
            if key in SECRET_FORM_FIELDS and value != REDACTED
        ]
    parameters = ((document or {}).get("properties") or {}).get("parameters") or {}
    declared = ((document.get("properties") or {}).get("template") or {}).get(
        "parameters"
    ) or {}
    secure = set(SECURE_PARAMETERS) | {
        name
        for name, spec in declared.items()
        if isinstance(spec, dict) and str(spec.get("type", "")).lower() in SECURE_TYPES
    }
    return [
        f'secure parameter {name} is not {{"value": "{REDACTED}"}}'
        for name in sorted(secure & set(parameters))
        if parameters[name] != {"value": REDACTED}
    ]


def _token_leaks(document: Any) -> list[str]:
    """Token fields anywhere in an answer body that do not hold the placeholder."""
    leaks: list[str] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key in TOKEN_FIELDS and value != REDACTED_TOKEN:
                leaks.append(f"answer field {key} is not {REDACTED_TOKEN!r}")
            leaks += _token_leaks(value)
    elif isinstance(document, list):
        for item in document:
            leaks += _token_leaks(item)
    return leaks
