"""What Azure answered, turned into one line a user can act on.

Azure reports a failed deployment as a tree: an outer code such as
`InvalidTemplateDeployment` or `DeploymentFailed`, inner details, and inner messages
that are sometimes the resource provider's whole JSON error as a string. This module
flattens that tree, names the resources that failed and adds the next step, so that
the CLI can print one line and exit with the code that says what kind of failure it was.

The Azure SDK is imported only inside `from_azure_error`, which runs only when a
deployment has already imported it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ccm_azure.errors import CcmAzureError, ExitCode


class AzureRejected(CcmAzureError):
    """Azure refused the deployment before it created anything."""

    exit_code = ExitCode.AZURE_REJECTED


class DeploymentFailed(CcmAzureError):
    """The deployment started and then failed or was canceled."""

    exit_code = ExitCode.DEPLOYMENT_FAILED


class SignInFailed(CcmAzureError):
    """No credential could sign in to Azure, or Azure refused the token it got."""

    exit_code = ExitCode.AUTHENTICATION


class AzureUnavailable(CcmAzureError):
    """Azure could not be reached, or kept answering with errors of its own."""

    exit_code = ExitCode.AZURE_UNAVAILABLE


class CapacityUnavailable(CcmAzureError):
    """The size cannot run in that region for this subscription: not offered to it,
    restricted, out of capacity, or short of vCPU quota. Another region or size, or a
    quota request, is the way out; running the same command again is not."""

    exit_code = ExitCode.NOT_AVAILABLE


class Interrupted(CcmAzureError):
    """The user pressed Ctrl-C."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(self, message: str, *, going_on: bool = False) -> None:
        super().__init__(message)
        self.going_on = going_on
        """True when a deployment had started and goes on in Azure."""


SIGN_IN_HELP = (
    "sign in with `az login` (and `az account set --subscription ID`), or set "
    "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for a service principal, "
    "then run the command again"
)

_MAX_MESSAGE = 400
_TAIL_LINES = 3
"""How many of the bootstrap script's last output lines an extension failure shows."""
_MAX_TAIL_LINE = 200

CAPACITY_CODES = frozenset(
    {
        "SkuNotAvailable",
        "QuotaExceeded",
        "AllocationFailed",
        "ZonalAllocationFailed",
        "OverconstrainedAllocationRequest",
        "OverconstrainedZonalAllocationRequest",
    }
)
"""Inner codes that mean the size cannot run in that region for this subscription:
another size, region or a quota request is the way out (exit 7), not a retry."""

_QUOTA_STEP = (
    "request more vCPU quota for the size's family in this region (Azure portal, "
    "Quotas) or choose a smaller --size or another --region"
)
_CAPACITY_STEP = (
    "choose another --size or --region, since Azure has no room for the size there "
    "now; or try again later"
)

_NEXT_STEPS: Mapping[str, str] = {
    "QuotaExceeded": _QUOTA_STEP,
    "AllocationFailed": _CAPACITY_STEP,
    "ZonalAllocationFailed": _CAPACITY_STEP,
    "OverconstrainedAllocationRequest": _CAPACITY_STEP,
    "OverconstrainedZonalAllocationRequest": _CAPACITY_STEP,
    "SkuNotAvailable": (
        "choose another --size or --region, since this subscription cannot use the "
        "size there now (`az vm list-skus -l {region} --size Standard_DC` shows why)"
    ),
    "AuthorizationFailed": (
        "ask for the Contributor role on the subscription or on resource group "
        "'{group}', or pass another --subscription"
    ),
    "RequestDisallowedByPolicy": (
        "ask the owner of the Azure Policy that forbids this deployment for an "
        "exemption, or choose values the policy allows"
    ),
    "MissingSubscriptionRegistration": (
        "register the resource provider with `az provider register --namespace "
        "{namespace}` (it needs the Contributor role on the subscription: ask its "
        "owner if Azure refused to register it for you) and run the command again"
    ),
    "DeploymentActive": (
        "wait for the running deployment of the same name (`{status} --wait`) and run "
        "the command again"
    ),
    "VMExtensionProvisioningError": (
        "the node agent did not install on the VM: fix what the script's last lines "
        "above say (often a join token that has expired or was used: create a new one "
        "in CCM, or an installer URL the VM cannot reach), then run the command again "
        "(it updates the same deployment)"
    ),
    "PropertyChangeNotAllowed": (
        "the VM exists with another value for that property, which Azure cannot "
        "change: deploy with the value it has, or a new node under another --name, "
        "or delete the VM first"
    ),
    "SubscriptionNotFound": (
        "check --subscription or AZURE_SUBSCRIPTION_ID against `az account list -o "
        "table`"
    ),
    "InvalidSubscriptionId": (
        "check --subscription or AZURE_SUBSCRIPTION_ID against `az account list -o "
        "table`"
    ),
    "InvalidTemplate": (
        "the rendered template is not valid, which is a bug in ccm-azure: please "
        "report it with this message"
    ),
}
"""The next step for the inner error codes a node deployment meets most often.

`{group}` and `{deployment}` stand for the resource group and the deployment at hand.
"""

_PERMISSION_STEP = (
    "ask an owner of the subscription for the Contributor role on the subscription "
    "(needed to create the resource group) or on resource group '{group}', or sign in "
    "as another identity or pass another --subscription"
)


@dataclasses.dataclass(frozen=True)
class ErrorItem:
    """One node of Azure's error tree: a code and its message on one line."""

    code: str
    message: str

    def __str__(self) -> str:
        if self.code and self.message:
            return f"{self.code}: {self.message}"
        return self.code or self.message


@dataclasses.dataclass(frozen=True)
class FailedResource:
    """A resource whose deployment operation failed, from the operations list."""

    resource_type: str
    name: str
    codes: tuple[str, ...]

    def __str__(self) -> str:
        codes = f" ({', '.join(self.codes)})" if self.codes else ""
        return f"{self.resource_type}/{self.name}{codes}"


def one_line(text: str) -> str:
    """`text` with line breaks and runs of white space folded into single spaces."""
    return " ".join(text.split())


def _nested_error(message: str) -> Mapping[str, Any] | None:
    """The error object when a message is itself a resource provider's JSON error."""
    stripped = message.strip()
    if not stripped.startswith("{"):
        return None
    try:
        document = json.loads(stripped)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    inner = document.get("error")
    if isinstance(inner, dict):
        return inner
    if "code" in document or "message" in document:
        return document
    return None


def flatten_error(error: Mapping[str, Any]) -> list[ErrorItem]:
    """Each code and message of Azure's error tree, outermost first, once."""
    items: list[ErrorItem] = []

    def visit(node: Mapping[str, Any]) -> None:
        code = str(node.get("code") or "")
        message = str(node.get("message") or "")
        children: list[Any] = list(node.get("details") or [])
        nested = _nested_error(message)
        if nested is not None:
            message = ""
            children.insert(0, nested)
        script = script_failure(message)
        message = script or _shorten(one_line(message)).rstrip(".")
        item = ErrorItem(code, message)
        if (code or message) and item not in items:
            items.append(item)
        for child in children:
            if isinstance(child, Mapping):
                visit(child)

    visit(error)
    return items


_SCRIPT_OUTPUT = re.compile(
    r"^(?P<what>.*?)\s*Error message:\s*'(?P<why>.*?)\s*\[stdout\]"
    r"(?P<stdout>.*?)\[stderr\](?P<stderr>.*?)(?:'\.\s*More information.*)?$",
    re.DOTALL,
)
"""The Custom Script extension's failure: what failed, why, then the script's
stdout and stderr, each cut to its last few kilobytes by the extension."""

_NOISE = re.compile(
    r"^(?:[\s\d.:%kKMG/-]*$"  # curl and apt progress meters
    r"|\s*% Total|\s*Dload|\s*\d+% \["  # and their headers, apt's "45% [Working]"
    r"|debconf: |dpkg-preconfigure: "
    r"|WARNING: apt does not have a stable CLI interface"
    r"|\+ )"  # shell trace lines
)


def script_output_tail(output: str, lines: int = _TAIL_LINES) -> list[str]:
    """The last meaningful lines of a script's output, each on one line and short."""
    meaningful = [
        _shorten(one_line(line), _MAX_TAIL_LINE)
        for line in output.replace("\r", "\n").splitlines()
        if line.strip() and not _NOISE.match(line)
    ]
    return meaningful[-lines:]


def script_failure(message: str) -> str:
    """A Custom Script extension failure as one short line ending with its output.

    The extension puts the script's whole stdout and stderr into its error message;
    what says why it failed is at the end, so the end is what is kept: the last
    lines of stderr, or of stdout when stderr is empty. "" when `message` is no
    such failure.
    """
    match = _SCRIPT_OUTPUT.match(message.strip())
    if match is None:
        return ""
    what = one_line(match["what"]).rstrip(". ")
    why = one_line(match["why"]).rstrip(". ")
    stream, tail = "stderr", script_output_tail(match["stderr"])
    if not tail:
        stream, tail = "stdout", script_output_tail(match["stdout"])
    text = f"{what}: {why}" if why else what
    if tail:
        text += f"; the script's {stream} ends: " + " | ".join(tail)
    return text.rstrip(".")


def unregistered_provider(error: Mapping[str, Any]) -> str:
    """The namespace a MissingSubscriptionRegistration in Azure's error tree names."""
    details = [d for d in error.get("details") or [] if isinstance(d, Mapping)]
    if error.get("code") == "MissingSubscriptionRegistration":
        targets = [str(d["target"]) for d in [error, *details] if d.get("target")]
        quoted = re.findall(r"'([\w.]+)'", str(error.get("message") or ""))
        return (targets or quoted or [""])[0]
    for detail in details:
        namespace = unregistered_provider(detail)
        if namespace:
            return namespace
    return ""


def is_capacity(item: ErrorItem) -> bool:
    """Whether an error says the size cannot run there for this subscription."""
    if item.code in CAPACITY_CODES:
        return True
    # Older quota refusals: OperationNotAllowed "... exceeding quota limits of Core".
    return item.code == "OperationNotAllowed" and "quota" in item.message.lower()


def operation_error(properties: Mapping[str, Any]) -> Mapping[str, Any]:
    """The error of a deployment operation's `statusMessage`, as an error object.

    ARM usually sends `{"status": ..., "error": {...}}`, but the field is free-form:
    a string (sometimes JSON text) is read as the error's message.
    """
    message = properties.get("statusMessage")
    if isinstance(message, str):
        nested = _nested_error(message)
        return nested if nested is not None else {"message": message}
    if not isinstance(message, Mapping):
        return {}
    error = message.get("error")
    return error if isinstance(error, Mapping) else {}


def failed_resources(operations: Iterable[Mapping[str, Any]]) -> list[FailedResource]:
    """The resources of a deployment's operations list whose operation failed."""
    failed: list[FailedResource] = []
    for operation in operations:
        properties = operation.get("properties") or {}
        if str(properties.get("provisioningState", "")).lower() != "failed":
            continue
        target = properties.get("targetResource") or {}
        error = operation_error(properties)
        codes = tuple(item.code for item in flatten_error(error) if item.code)
        resource = FailedResource(
            resource_type=str(target.get("resourceType") or "deployment"),
            name=str(target.get("resourceName") or operation.get("operationId", "")),
            codes=codes[-1:],
        )
        if resource not in failed:
            failed.append(resource)
    return failed


def _shorten(message: str, limit: int = _MAX_MESSAGE) -> str:
    """`message`, cut at a word boundary when it is very long (quota links are)."""
    if len(message) <= limit:
        return message
    cut = message[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" .,;:") + " [...]"


@dataclasses.dataclass(frozen=True)
class Situation:
    """Where a deployment was when Azure answered with an error."""

    resource_group: str
    deployment_name: str
    started: bool
    redact: Callable[[str], str] = str
    subscription_id: str = ""
    region: str = ""

    def fill(self, advice: str, namespace: str = "") -> str:
        """`advice` with the group, deployment, region and provider names put in."""
        return advice.format(
            group=self.resource_group,
            deployment=self.deployment_name,
            region=self.region or "REGION",
            namespace=namespace or "NAMESPACE",
            status=self.status_command(),
        )

    def status_command(self) -> str:
        """`ccm-azure status` for this deployment, which shows it and its operations."""
        command = f"ccm-azure status {self.deployment_name} -g {self.resource_group}"
        if self.subscription_id:
            command += f" --subscription {self.subscription_id}"
        return command

    def goes_on(self) -> str:
        """What to tell about a deployment that started and that Azure still runs."""
        return (
            f"the deployment '{self.deployment_name}' was started and goes on in "
            f"Azure: follow it with `{self.status_command()} --wait`"
        )


_UNNAMED = Situation("RESOURCE_GROUP", "DEPLOYMENT", started=False)


def next_step(
    codes: Sequence[str],
    default: str,
    situation: Situation = _UNNAMED,
    namespace: str = "",
) -> str:
    """The advice for each code that has some, innermost first, else `default`."""
    advice: list[str] = []
    for code in reversed(codes):
        text = _NEXT_STEPS.get(code)
        if text is not None and situation.fill(text, namespace) not in advice:
            advice.append(situation.fill(text, namespace))
    return "; or ".join(advice) if advice else default


def describe(
    headline: str,
    error: Mapping[str, Any],
    *,
    resources: Sequence[FailedResource] = (),
    default_step: str,
    situation: Situation = _UNNAMED,
    aftermath: str = "",
) -> str:
    """One line: what happened, Azure's codes and messages, what failed, where that
    leaves the deployment (`aftermath`), what to do."""
    items = flatten_error(error)
    outer = items[0].code if items and items[0].code else ""
    inner = items[1:] if outer else items
    text = f"{headline} ({outer})" if outer else headline
    if inner:
        text += ": " + "; ".join(str(item) for item in inner)
    elif outer and items[0].message:
        # Without inner errors the outer message is all Azure said about the cause.
        text += ": " + items[0].message
    if resources:
        text = text.rstrip(".") + ". Failed: " + ", ".join(map(str, resources))
    if aftermath:
        text = text.rstrip(".") + ". " + aftermath[0].upper() + aftermath[1:]
    codes = [_advice_code(item) for item in items]
    codes += [code for resource in resources for code in resource.codes]
    step = next_step(codes, default_step, situation, unregistered_provider(error))
    return text.rstrip(".") + ". Next: " + step + "."


def _advice_code(item: ErrorItem) -> str:
    """The code whose advice fits `item`: an old-style quota refusal is a quota one."""
    if item.code == "OperationNotAllowed" and is_capacity(item):
        return "QuotaExceeded"
    return item.code


def capacity_problem(
    error: Mapping[str, Any], resources: Sequence[FailedResource] = ()
) -> bool:
    """Whether Azure's error, or a failed operation, says the size cannot run there."""
    if any(is_capacity(item) for item in flatten_error(error)):
        return True
    return any(code in CAPACITY_CODES for r in resources for code in r.codes)


def error_body(error: Any) -> Mapping[str, Any] | None:
    """The `error` object of an Azure exception, from its body or its model.

    None when Azure said nothing beyond the status: an empty body (HEAD requests never
    have one), a gateway's HTML page, or JSON without an error code.
    """
    response = getattr(error, "response", None)
    if response is not None:
        try:
            body = json.loads(response.text())
        except (ValueError, TypeError, AttributeError):
            body = None
        if isinstance(body, dict):
            inner = body.get("error")
            if isinstance(inner, dict) and (inner.get("code") or inner.get("message")):
                return inner
            if body.get("code"):
                return body
    model = getattr(error, "error", None)
    if model is not None and getattr(model, "code", None):
        return _model_as_dict(model)
    if response is not None:
        return None
    text = str(getattr(error, "message", "") or error)
    return {"message": (text.splitlines() or [type(error).__name__])[0]}


def _model_as_dict(model: Any) -> dict[str, Any]:
    details = [_model_as_dict(child) for child in getattr(model, "details", None) or []]
    return {
        "code": getattr(model, "code", "") or "",
        "message": getattr(model, "message", "") or "",
        "details": details,
    }


_SIGN_IN_STEPS: Mapping[str, str] = {
    "AADSTS7000215": (
        "set AZURE_CLIENT_SECRET to the client secret's value (not its secret id), "
        "or create a new secret with `az ad sp credential reset --id "
        "AZURE_CLIENT_ID`, then run the command again"
    ),
    "AADSTS7000222": (
        "the client secret has expired: create a new one with `az ad sp credential "
        "reset --id AZURE_CLIENT_ID`, put it in AZURE_CLIENT_SECRET and run the "
        "command again"
    ),
    "AADSTS700016": (
        "check AZURE_CLIENT_ID and AZURE_TENANT_ID: the application is not in that "
        "tenant"
    ),
    "AADSTS90002": "check AZURE_TENANT_ID: Microsoft Entra ID knows no such tenant",
}
"""The next step for the Microsoft Entra ID errors a service principal meets most."""

_REFUSED_TOKEN_STEPS: Mapping[str, str] = {
    "ExpiredAuthenticationToken": (
        "check that this computer's clock is right (a clock that runs behind makes "
        "an expired token look valid), sign in again (`az login`) and run the "
        "command again"
    ),
}
_SIGN_IN_AGAIN = (
    "sign in again in the subscription's tenant (`az login --tenant TENANT`, or the "
    "AZURE_* variables of a service principal of that tenant) and run the command "
    "again"
)
_AADSTS = re.compile(r"(AADSTS\d+):\s*([^.]*)")
_CHALLENGE_FIELD = re.compile(r'(\w+)="([^"]*)"')


_UNREACHABLE = re.compile(
    r"^\s*(?P<credential>\w+Credential): .*?HTTPSConnection\(host='(?P<host>[^']+)'"
    r"[^)]*\): (?P<why>.*)$",
    re.MULTILINE,
)
"""A credential of the chain that could not reach its sign-in endpoint at all."""


def sign_in_failed(
    error: BaseException, situation: Situation | None = None
) -> CcmAzureError:
    """The error for a credential that got no token, or a token Azure refused.

    A credential that could not reach Microsoft Entra ID is a network problem, not a
    sign-in one: it says so, with exit code 6.
    """
    response = getattr(error, "response", None)
    if response is not None and getattr(response, "status_code", 0) in (401, 403):
        return _token_refused(error, response, situation)
    text = str(getattr(error, "message", "") or error)
    found = dict(_AADSTS.findall(text))
    unreachable = None if found else _UNREACHABLE.search(text)
    if unreachable is not None:
        why = one_line(unreachable["why"]).rstrip(".")
        return AzureUnavailable(
            _redacted(
                f"Could not sign in to Azure: {unreachable['credential']} could not "
                f"reach {unreachable['host']} ({why}). Next: check the network, DNS "
                "and proxy settings (HTTPS_PROXY), then run the command again.",
                situation,
            )
        )
    who = f"{_failed_credential(text)} got no token" if found else ""
    who = who or "no credential got a token"
    why = "; ".join(f"{code}: {one_line(what)}" for code, what in found.items())
    step = next(
        (_SIGN_IN_STEPS[code] for code in found if code in _SIGN_IN_STEPS),
        SIGN_IN_HELP,
    )
    headline = f"Could not sign in to Azure: {who}"
    if why:
        headline += f" (Microsoft Entra ID answered {why})"
    return SignInFailed(_redacted(f"{headline}. Next: {step}.", situation))


def _failed_credential(text: str) -> str:
    """The credential of a chain's report that Microsoft Entra ID refused."""
    attempts = re.findall(r"^\s*(\w+Credential): (.*)$", text, re.MULTILINE)
    refused = [str(name) for name, why in attempts if "AADSTS" in why]
    named = re.match(r"\s*(\w+Credential)\b", text)
    return (refused or [str(named[1]) if named else "the credential"])[0]


def _token_refused(
    error: BaseException, response: Any, situation: Situation | None
) -> SignInFailed:
    """Azure Resource Manager refused the access token the credential got."""
    body = error_body(error) or {}
    code = str(body.get("code") or "")
    message = one_line(str(body.get("message") or "")).rstrip(".")
    if not code:
        # HEAD answers have no body; the challenge header says why instead.
        challenge = dict(
            _CHALLENGE_FIELD.findall(_header(response, "WWW-Authenticate"))
        )
        code = challenge.get("error", "")
        message = one_line(challenge.get("error_description", "")).rstrip(".")
    status = _http(int(response.status_code), str(getattr(response, "reason", "")))
    cause = ", ".join(part for part in (status, code) if part)
    text = f"Azure Resource Manager refused the access token ({cause})"
    if message:
        text += f": {message}"
    if situation is not None and situation.started:
        text += f"; {situation.goes_on()}"
    step = _REFUSED_TOKEN_STEPS.get(code, _SIGN_IN_AGAIN)
    return SignInFailed(_redacted(f"{text}. Next: {step}.", situation))


def _header(response: Any, name: str) -> str:
    headers = getattr(response, "headers", None) or {}
    return str(headers.get(name) or "")


def _redacted(text: str, situation: Situation | None) -> str:
    return situation.redact(text) if situation is not None else text


def network_reason(error: BaseException) -> str:
    """Why a connection failed, in the operating system's words when it gave some."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror.lower()
        pending += [arg for arg in current.args if isinstance(arg, BaseException)]
        for inner in (getattr(current, "inner_exception", None), current.__cause__):
            if isinstance(inner, BaseException):
                pending.append(inner)
    text = str(error)
    return one_line(text.splitlines()[0] if text else type(error).__name__)


def unreachable(error: BaseException, situation: Situation) -> AzureUnavailable:
    """Azure could not be reached, or the connection broke, even after retries."""
    from azure.core.exceptions import ServiceResponseError

    text = (
        f"Could not reach Azure Resource Manager ({network_reason(error)}) while "
        f"handling the deployment '{situation.deployment_name}', even after retries"
    )
    if situation.started:
        text += f"; {situation.goes_on()}"
    elif isinstance(error, ServiceResponseError):
        # The request went out and its answer was lost: it may have been carried out.
        text += (
            "; the last request was sent and its answer lost, so check whether the "
            f"deployment started with `{situation.status_command()}`"
        )
    return AzureUnavailable(
        situation.redact(
            f"{text}. Next: check the network, DNS and proxy settings (HTTPS_PROXY) "
            "and run the command again."
        )
    )


def from_azure_error(
    error: BaseException,
    situation: Situation,
    *,
    operations: Iterable[Mapping[str, Any]] = (),
) -> CcmAzureError:
    """The one-line error for an exception the Azure SDK raised during a deployment."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    redact = situation.redact
    if isinstance(error, ClientAuthenticationError):
        return sign_in_failed(error, situation)
    if isinstance(error, ServiceRequestError | ServiceResponseError):
        return unreachable(error, situation)
    if not isinstance(error, HttpResponseError):
        return AzureUnavailable(
            redact(
                f"Azure SDK error: {one_line(str(error))}. Next: run the command again "
                "with --debug and report what it shows."
            )
        )

    status = error.status_code or 0
    body = error_body(error)
    if status == 401:
        # The poller reports a refused token as a plain HttpResponseError.
        return sign_in_failed(error, situation)
    if status == 429 or status >= 500:
        return unavailable(status, _reason(error), body, situation)
    if body is None and status >= 400:
        return _status_only(status, _reason(error), situation)
    if not situation.started:
        return rejected(body or {}, situation)
    return failed(body or {}, situation, failed_resources(operations))


def _reason(error: Any) -> str:
    """The HTTP reason phrase of an Azure exception's response, if it has one."""
    response = getattr(error, "response", None)
    return str(getattr(response, "reason", "") or "")


def _http(status: int, reason: str) -> str:
    return f"HTTP {status} {reason}".rstrip()


def unavailable(
    status: int,
    reason: str,
    body: Mapping[str, Any] | None,
    situation: Situation,
) -> AzureUnavailable:
    """Azure throttled the requests (429) or failed itself (5xx), even after retries."""
    name = situation.deployment_name
    if status == 429:
        headline = (
            f"Azure Resource Manager throttled the requests for the deployment "
            f"'{name}' ({_http(status, reason)}) and kept doing so after retries"
        )
        step = (
            "wait a few minutes, since other work in the subscription is using up its "
            "request limit, and run the command again"
        )
    else:
        headline = (
            f"Azure Resource Manager is unavailable ({_http(status, reason)}) and kept "
            f"failing after retries while handling the deployment '{name}'"
        )
        step = (
            "wait a few minutes (https://azure.status.microsoft lists outages) and run "
            "the command again"
        )
    aftermath = ""
    if situation.started:
        aftermath = situation.goes_on()
        step += " if it failed"
    return AzureUnavailable(
        situation.redact(
            describe(
                headline,
                body or {},
                default_step=step,
                situation=situation,
                aftermath=aftermath,
            )
        )
    )


def _status_only(status: int, reason: str, situation: Situation) -> CcmAzureError:
    """The error for an answer that gives a status and nothing else."""
    group = situation.resource_group
    kind = DeploymentFailed if situation.started else AzureRejected
    if status == 403:
        where = f"resource group '{group}'"
        if situation.subscription_id:
            where += f" or subscription {situation.subscription_id}"
        return kind(
            f"Azure refused access ({_http(status, reason)}): the signed-in identity "
            f"has no permission on {where}. Next: {situation.fill(_PERMISSION_STEP)}."
        )
    return kind(
        f"Azure answered {_http(status, reason)} for the deployment "
        f"'{situation.deployment_name}' in resource group '{group}' without saying "
        "why. Next: run the command again with --debug to see the requests, and "
        "correct what they show."
    )


def rejected(
    error: Mapping[str, Any], situation: Situation
) -> AzureRejected | CapacityUnavailable:
    """Azure refused the deployment before it started; nothing was deployed.

    A refusal because the size cannot run there (quota, SKU restrictions, no
    capacity) is a CapacityUnavailable: the way out is another size or region.
    """
    kind = CapacityUnavailable if capacity_problem(error) else AzureRejected
    return kind(
        situation.redact(
            describe(
                f"Azure rejected the deployment '{situation.deployment_name}' in "
                f"resource group '{situation.resource_group}'",
                error,
                default_step=(
                    "correct the cause above and run the command again; nothing was "
                    "deployed"
                ),
                situation=situation,
            )
        )
    )


def canceled(situation: Situation) -> DeploymentFailed:
    """The deployment started, and then someone or something canceled it."""
    group, name = situation.resource_group, situation.deployment_name
    return DeploymentFailed(
        f"The deployment '{name}' in resource group '{group}' was canceled before it "
        "finished; Azure does not say by whom (anyone allowed to manage the resource "
        "group can cancel it, e.g. with `az deployment group cancel` or in the "
        "portal), and what it had created so far stays. Next: find out who canceled "
        f"it (`az monitor activity-log list -g {group}`), then run the command again "
        "(it updates the same deployment)."
    )


def failed(
    error: Mapping[str, Any],
    situation: Situation,
    resources: Sequence[FailedResource] = (),
) -> DeploymentFailed | CapacityUnavailable:
    """The deployment started, and then failed; `resources` are the failed ones.

    A failure because the size cannot run there is a CapacityUnavailable.
    """
    group, name = situation.resource_group, situation.deployment_name
    kind = (
        CapacityUnavailable if capacity_problem(error, resources) else DeploymentFailed
    )
    return kind(
        situation.redact(
            describe(
                f"The deployment '{name}' in resource group '{group}' failed",
                error,
                resources=resources,
                default_step=(
                    "see the operations with `"
                    f"{situation.status_command()} -o table`, fix the cause and run "
                    "the command again (it updates the same deployment)"
                ),
                situation=situation,
            )
        )
    )
