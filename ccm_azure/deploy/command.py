"""`ccm-azure deploy`: enrol CCM nodes in Azure from a terminal or a pipeline.

The command checks every input against the offer and the rules in `inputs` first, then
renders the same template the Marketplace listing uses and deploys it with `runner`:
one deployment per region, several regions side by side through `fleet`, or only
ARM's what-if of it. Results go to stdout (JSON by default, or a table); progress and
warnings go to stderr. Failures are raised as `CcmAzureError`, which
`ccm_azure.cli.main` prints as one line with the error's exit code. Importing this
module imports no Azure SDK module.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ccm_azure import logs
from ccm_azure import offer as offer_module
from ccm_azure.deploy import inputs
from ccm_azure.deploy.clients import DEFAULT_POLLING_INTERVAL, DEFAULT_RETRY_BACKOFF
from ccm_azure.deploy.runner import Change, DeploymentRequest, DeploymentResult
from ccm_azure.errors import UserInputError
from ccm_azure.offer import TemplateParameter

if TYPE_CHECKING:
    from ccm_azure.deploy.credentials import CredentialFactory
    from ccm_azure.deploy.progress import Progress

LOGGER = logging.getLogger(__name__)

CREATED_BY_TAG = ("created-by", "ccm-azure")
DEPLOYMENT_TAG = "ccm-azure-deployment"
"""Tags of a resource group that `deploy` created: `delete` removes such a group
whole when the deployment it names is the only one in it."""


@dataclasses.dataclass(frozen=True)
class DeploySettings:
    """How the command reaches Azure; tests put their own in the click context `obj`.

    Replayed tests set both waits to zero, so that no status poll and no retry of a
    throttled or failing request sleeps.
    """

    credential_factory: CredentialFactory | None = None
    polling_interval: float = DEFAULT_POLLING_INTERVAL
    retry_backoff: float = DEFAULT_RETRY_BACKOFF

    def connection(self) -> dict[str, Any]:
        """The runner's keyword arguments for reaching Azure: credential and pace."""
        factory = self.credential_factory
        return {
            "credential": factory() if factory is not None else None,
            "polling_interval": self.polling_interval,
            "retry_backoff": self.retry_backoff,
        }


@dataclasses.dataclass(frozen=True)
class _Choices:
    """The command's options, as click parsed them."""

    regions: tuple[str, ...]
    count: int
    what_if: bool
    no_wait: bool
    token: str | None
    token_file: Path | None
    resource_group: str | None
    subscription: str | None
    vm_name: str
    size: str | None
    os_key: str | None
    attestation: str | None
    ssh_key: Path | None
    admin_username: str | None
    admin_password: bool
    ssh_source: str
    public_ip: bool
    labels: Sequence[str]
    offer_file: Path | None
    installer_url: str | None
    output: str


def output_option(help_text: str) -> Callable[[Callable[..., Any]], Any]:
    """`-o/--output json|table`, as the az CLI spells it."""
    return click.option(
        "-o",
        "--output",
        type=click.Choice(["json", "table"]),
        default="json",
        show_default=True,
        help=help_text,
    )


@click.command("deploy")
@click.option(
    "--region",
    "-l",
    "--location",
    "regions",
    required=True,
    multiple=True,
    metavar="REGION[:COUNT]",
    help="Azure region of the nodes, e.g. eastus; repeat it to deploy to several "
    "regions side by side, and add :COUNT to give a region its own number of nodes.",
)
@click.option(
    "--count",
    type=click.IntRange(1, offer_module.MAX_NODES),
    default=1,
    show_default=True,
    help="Nodes to deploy in each region, in one deployment; more than one are "
    "named NAME-1, NAME-2, ...",
)
@click.option(
    "--what-if",
    is_flag=True,
    help="Check the subscription and show what would be created, then stop.",
)
@click.option(
    "--no-wait",
    is_flag=True,
    help="Return once Azure has accepted the deployment; follow it with "
    "`ccm-azure status`.",
)
@click.option(
    "--token",
    help="Join token from the CCM console. Prefer --token-file or CCM_JOIN_TOKEN: "
    "a token on the command line stays in the shell history.",
)
@click.option(
    "--token-file",
    # Not dir_okay=False: click's message would quote the path, which may be a
    # token pasted by mistake; inputs.read_join_token words it without the path.
    type=click.Path(path_type=Path),
    help="File holding the join token.",
)
@click.option(
    "-g",
    "--resource-group",
    help="Resource group, created if missing.  [default: ccm-node-REGION]",
)
@click.option(
    "--subscription",
    help="Subscription id.  [default: AZURE_SUBSCRIPTION_ID]",
)
@click.option(
    "-n",
    "--name",
    "vm_name",
    default=inputs.DEFAULT_VM_NAME,
    show_default=True,
    help="Name of the VM; the deployment is named after it, so running the command "
    "again updates the same node.",
)
@click.option("--size", help="SGX VM size (DCsv3/DCdsv3).  [default: the offer's]")
@click.option(
    "--os", "os_key", help="OS image, e.g. ubuntu-22.04.  [default: the offer's]"
)
@click.option(
    "--attestation", help="Attestation type: DCAP or EPID.  [default: the offer's]"
)
@click.option(
    "--ssh-key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="OpenSSH public key file.  [default: ~/.ssh/id_ed25519.pub, then "
    "~/.ssh/id_rsa.pub]",
)
@click.option(
    "--admin-username", help="Administrator user on the VM.  [default: azureuser]"
)
@click.option(
    "--admin-password",
    is_flag=True,
    help="Sign in with a password instead of an SSH key; it is read from "
    "CCM_ADMIN_PASSWORD or asked for.",
)
@click.option(
    "--ssh-source",
    default="",
    metavar="PREFIX",
    help="IPv4 address or prefix allowed to reach SSH.  [default: SSH closed]",
)
@click.option(
    "--public-ip/--no-public-ip",
    default=False,
    show_default=True,
    help="Give the node a Standard static public IP, e.g. for SSH from --ssh-source. "
    "Without one the node still reaches CCM through its subnet's outbound access.",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY:VALUE",
    help="Node label, repeatable.",
)
@click.option(
    "--offer",
    "offer_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Offer TOML file laid over the embedded offer.",
)
@click.option(
    "--installer-url",
    metavar="URL",
    help="https URL of the node-agent installer, instead of the offer's.",
)
@output_option("Format of the outputs, the fleet summary or the changes on stdout.")
@click.pass_context
def deploy(ctx: click.Context, /, **options: Any) -> None:
    """Deploy Intel SGX VMs in Azure that run the CCM node agent and enrol it.

    Before anything is written, checks that the subscription can have the nodes in
    each region (size offered, vCPU quota). -o shapes the outputs, the fleet summary
    and --what-if's changes alike. Exit codes: 0 done; 2 bad input; 3 Azure refused
    the deployment; 4 it failed or was canceled; 5 sign-in failed; 6 Azure
    unreachable or failing; 7 size not offered or quota short; 130 Ctrl-C.
    """
    choices = _Choices(**options)
    settings = ctx.find_object(DeploySettings) or DeploySettings()
    requests = _prepare(choices)
    _warn_unused(ctx, choices)
    if len(requests) == 1:
        _one_region(requests[0], settings, choices)
    else:
        _regions_side_by_side(requests, settings, choices)


def _warn_unused(ctx: click.Context, choices: _Choices) -> None:
    """Warn about options that the other options make pointless, on stderr."""
    from click.core import ParameterSource

    given = ctx.get_parameter_source("count") is not ParameterSource.DEFAULT
    if given and all(":" in region for region in choices.regions):
        click.echo(
            f"warning: --count {choices.count} is not used: every --region gives its "
            "own :COUNT.",
            err=True,
        )
    if choices.ssh_source.strip() and not choices.public_ip:
        click.echo(
            "warning: --ssh-source opens SSH in the network security group, but "
            "without --public-ip the nodes have private addresses only, reachable "
            "through a VPN or a peered network.",
            err=True,
        )


def _one_region(
    request: DeploymentRequest, settings: DeploySettings, choices: _Choices
) -> None:
    if choices.what_if:
        changes = _what_if(request, settings)
        click.echo(format_changes([(request, changes)], choices.output))
        return
    result = _run(request, settings, wait=not choices.no_wait)
    if result.state == "Succeeded":
        click.echo(format_outputs(result.outputs, choices.output))
    else:
        click.echo(format_accepted(result, choices.output))


def _regions_side_by_side(
    requests: Sequence[DeploymentRequest], settings: DeploySettings, choices: _Choices
) -> None:
    """Every region at once; each region's result, and then its error if it had one.

    The regions share one credential, signed in before any region starts.
    """
    from ccm_azure.deploy.credentials import (
        close_credential,
        default_credential,
        signed_in,
    )

    factory = settings.credential_factory
    credential = factory() if factory is not None else default_credential()
    try:
        signed_in(credential)
        shared = dataclasses.replace(settings, credential_factory=lambda: credential)
        _each_region(requests, shared, choices)
    finally:
        if factory is None:
            close_credential(credential)


def _each_region(
    requests: Sequence[DeploymentRequest], settings: DeploySettings, choices: _Choices
) -> None:
    from ccm_azure.deploy import fleet

    if choices.what_if:
        outcomes = fleet.in_regions(
            requests,
            lambda request, progress, stop: _what_if(request, settings, progress, stop),
        )
        answers = [(o.request, o.result) for o in outcomes if o.error is None]
        if answers:
            click.echo(format_changes(answers, choices.output, several=True))
        fleet.raise_for_failures(outcomes)
        return
    outcomes = fleet.in_regions(
        requests,
        lambda request, progress, stop: _run(
            request,
            settings,
            wait=not choices.no_wait,
            progress=progress,
            stop=stop,
        ),
    )
    if choices.output != "table":
        # The table is for people watching; scripts read the JSON on stdout.
        click.echo(fleet.format_summary(outcomes, "table"), err=True)
    click.echo(fleet.format_summary(outcomes, choices.output))
    fleet.raise_for_failures(outcomes)


def _prepare(choices: _Choices) -> list[DeploymentRequest]:
    """Check every input and build one deployment per region; no request is made."""
    from ccm_azure.render import render_offer

    _refuse_empty(choices)
    _refuse_contradictions(choices)
    offer = _offer(choices)
    regions = _regions(offer, choices)
    size = offer.check_size(_or_default(choices.size, offer.default_size))
    image = offer.check_image(_or_default(choices.os_key, offer.default_image.key))
    attestation = offer.check_attestation(
        _or_default(choices.attestation, offer.default_attestation)
    )
    labels = offer_module.parse_labels(choices.labels)
    _require_installer(offer)
    vm_name = inputs.check_vm_name(choices.vm_name)
    admin_username = offer.check_admin_username(
        _or_default(choices.admin_username, offer.admin_username)
    )
    groups = [
        inputs.check_resource_group(
            _or_default(choices.resource_group, inputs.default_resource_group(region))
        )
        for region, _ in regions
    ]
    ssh_source = inputs.check_ssh_source(choices.ssh_source)
    subscription = inputs.resolve_subscription(choices.subscription)

    authentication, password_or_key = _vm_sign_in(choices)
    token = inputs.read_join_token(choices.token, choices.token_file)
    logs.register_secret(token)

    if attestation == "EPID":
        click.echo(f"warning: {offer_module.EPID_WARNING}", err=True)

    template = render_offer(offer).main_template
    deployment_name = inputs.deployment_name(vm_name)
    p = TemplateParameter
    common: dict[str, Any] = {
        p.VM_NAME: vm_name,
        p.VM_SIZE: size,
        p.OS_IMAGE: image.key,
        p.ADMIN_USERNAME: admin_username,
        p.AUTHENTICATION_TYPE: authentication,
        p.ADMIN_PASSWORD_OR_KEY: password_or_key,
        p.JOIN_TOKEN: token,
        p.ATTESTATION_TYPE: attestation,
        p.SSH_SOURCE_ADDRESS_PREFIX: ssh_source,
        p.PUBLIC_IP_NEW_OR_NONE: "new" if choices.public_ip else "none",
        p.NODE_LABELS: [{"key": k, "value": v} for k, v in labels.items()],
    }
    return [
        DeploymentRequest(
            subscription_id=subscription,
            resource_group=group,
            location=region,
            deployment_name=deployment_name,
            template=template,
            parameters={p.LOCATION: region, p.NODE_COUNT: count, **common},
            secure_parameters=TemplateParameter.SECURE,
            resource_group_tags=dict(
                [CREATED_BY_TAG, (DEPLOYMENT_TAG, deployment_name)]
            ),
            vm_size=size,
            vm_names=inputs.node_names(vm_name, count),
        )
        for (region, count), group in zip(regions, groups, strict=True)
    ]


def _regions(offer: offer_module.Offer, choices: _Choices) -> list[tuple[str, int]]:
    """The regions asked for, each once and checked, with its number of nodes.

    `--region uksouth:1` gives that region its own count; the others take --count.
    """
    regions: list[tuple[str, int]] = []
    for given in choices.regions:
        name, separator, count_text = given.partition(":")
        region = offer.check_region(name)
        count = _node_count(given, count_text) if separator else choices.count
        if region in [known for known, _ in regions]:
            raise UserInputError(
                f"--region {region} is given twice; give each region once (use "
                f"--count, or --region {region}:COUNT, for more nodes in a region)."
            )
        regions.append((region, count))
    if len(regions) > 1 and choices.resource_group is not None:
        raise UserInputError(
            "-g/--resource-group names one resource group, but several regions are "
            "given; leave -g out to use ccm-node-REGION in each region, or deploy "
            "one region at a time."
        )
    return regions


def _node_count(given: str, text: str) -> int:
    limit = offer_module.MAX_NODES
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= limit):
        raise UserInputError(
            f"In --region {given} the number of nodes after ':' must be a whole "
            f"number from 1 to {limit}, e.g. --region eastus:2."
        )
    return int(text)


_DEFAULTED_OPTIONS = {
    "size": "--size",
    "os_key": "--os",
    "attestation": "--attestation",
    "resource_group": "-g/--resource-group",
    "admin_username": "--admin-username",
    "installer_url": "--installer-url",
}
"""Options whose absence means a default: an empty value is a mistake, not a choice."""


def _refuse_empty(choices: _Choices) -> None:
    for field, option in _DEFAULTED_OPTIONS.items():
        value = getattr(choices, field)
        if value is not None and not value.strip():
            raise UserInputError(
                f"{option} is empty; give a value, or leave the option out to use "
                "the default."
            )


def _refuse_contradictions(choices: _Choices) -> None:
    if choices.what_if and choices.no_wait:
        raise UserInputError(
            "--what-if and --no-wait contradict each other: --what-if deploys nothing "
            "to wait for; give only one of them."
        )
    if choices.admin_password and choices.ssh_key is not None:
        raise UserInputError(
            "--admin-password and --ssh-key contradict each other: the VM signs in "
            "with a password or with an SSH key; give only one of them."
        )


def _or_default(value: str | None, default: str) -> str:
    return default if value is None else value


def _offer(choices: _Choices) -> offer_module.Offer:
    """The offer to deploy, with the installer the node will fetch."""
    offer = offer_module.load_offer(choices.offer_file)
    if choices.installer_url is not None:
        offer = offer.with_installer(url=choices.installer_url)
    return offer


def _require_installer(offer: offer_module.Offer) -> None:
    if not offer.installer.is_set:
        raise UserInputError(
            f"The {offer.origin} names no node-agent installer; pass --installer-url "
            "URL, or an --offer FILE that sets installer.url."
        )


def _vm_sign_in(choices: _Choices) -> tuple[str, str]:
    """The template's authenticationType and the SSH public key or password."""
    if choices.admin_password:
        authentication, secret = "password", inputs.read_admin_password()
    else:
        authentication, secret = "sshPublicKey", inputs.read_ssh_key(choices.ssh_key)
    logs.register_secret(secret)
    return authentication, secret


def _run(
    request: DeploymentRequest,
    settings: DeploySettings,
    *,
    wait: bool = True,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> DeploymentResult:
    from ccm_azure.deploy.runner import run_deployment

    LOGGER.info(
        "Deploying %s into resource group %s (subscription %s)",
        request.deployment_name,
        request.resource_group,
        request.subscription_id,
    )
    return run_deployment(
        request, **settings.connection(), progress=progress, wait=wait, stop=stop
    )


def _what_if(
    request: DeploymentRequest,
    settings: DeploySettings,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> list[Change]:
    from ccm_azure.deploy.runner import run_what_if

    return run_what_if(request, **settings.connection(), progress=progress, stop=stop)


_CHANGE_SYMBOLS: Mapping[str, str] = {
    "Create": "+",
    "Delete": "-",
    "Modify": "~",
    "Deploy": "!",
    "NoChange": "=",
    "Ignore": "*",
    "Unsupported": "?",
}


def format_changes(
    answers: Sequence[tuple[DeploymentRequest, Sequence[Change]]],
    output: str,
    *,
    several: bool = False,
) -> str:
    """What-if's answer for each region: one line per resource and a count per kind.

    JSON is one object for one region, and a list for `several` regions (also when
    only some of them answered).
    """
    if output == "json":
        documents = [
            {
                "region": request.location,
                "resourceGroup": request.resource_group,
                "deployment": request.deployment_name,
                "changes": [
                    {"changeType": change.change_type, "resourceId": change.resource_id}
                    for change in changes
                ],
            }
            for request, changes in answers
        ]
        return json.dumps(documents if several else documents[0], indent=2)
    return "\n\n".join(_changes_text(request, changes) for request, changes in answers)


def _changes_text(request: DeploymentRequest, changes: Sequence[Change]) -> str:
    lines = [
        f"Changes in {request.location}, resource group {request.resource_group}, "
        f"deployment {request.deployment_name} (incremental: nothing is deleted):"
    ]
    width = max([len(c.resource_type) for c in changes] or [0])
    for change in changes:
        symbol = _CHANGE_SYMBOLS.get(change.change_type, "?")
        lines.append(
            f"  {symbol} {change.change_type:<9} {change.resource_type:<{width}}  "
            f"{change.name}"
        )
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.change_type] = counts.get(change.change_type, 0) + 1
    summary = ", ".join(f"{n} {kind.lower()}" for kind, n in counts.items())
    lines.append(f"{len(changes)} resources: {summary or 'no changes'}.")
    return "\n".join(lines)


def format_accepted(result: DeploymentResult, output: str) -> str:
    """What --no-wait leaves the user: where the deployment is."""
    row = {
        "resourceGroup": result.resource_group,
        "deployment": result.deployment_name,
        "state": result.state,
    }
    if output == "json":
        return json.dumps(row, indent=2)
    return f"{row['deployment']} in {row['resourceGroup']}: {row['state']}"


def format_outputs(outputs: Mapping[str, Any], output: str) -> str:
    """The deployment's outputs as JSON, or as a table with one row per node.

    Columns empty for every node (the public address of private nodes) are left out.
    Outputs of another shape are shown as a two-column Name/Value table.
    """
    if output == "json":
        return json.dumps(outputs, indent=2, ensure_ascii=False)
    nodes = _nodes(outputs)
    if nodes is None:
        return table(("Name", "Value"), [(k, _cell(v)) for k, v in outputs.items()])
    columns = [
        (heading, key)
        for heading, key in _NODE_COLUMNS
        if any(node.get(key) not in (None, "") for node in nodes)
    ]
    rows = [tuple(_cell(node.get(key, "")) for _, key in columns) for node in nodes]
    return table(tuple(heading for heading, _ in columns), rows)


_NODE_COLUMNS = (
    ("Node", "vmName"),
    ("Private IP", "privateIpAddress"),
    ("Public IP", "publicIpAddress"),
    ("FQDN", "fqdn"),
    ("SSH command", "sshCommand"),
)
"""Table headings of the fields of each element of the `nodes` output."""


def _nodes(outputs: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """The elements of the `nodes` output, when it is the only output and a list."""
    nodes = outputs.get("nodes")
    if set(outputs) != {"nodes"} or not isinstance(nodes, list) or not nodes:
        return None
    if not all(isinstance(node, Mapping) for node in nodes):
        return None
    return nodes


def table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns two spaces apart under a dashed rule, as `az -o table` prints them."""
    widths = [
        max([len(heading), *(len(row[i]) for row in rows)])
        for i, heading in enumerate(headings)
    ]
    lines = [headings, ["-" * width for width in widths], *rows]
    return "\n".join(
        "  ".join(
            f"{cell:<{width}}" for cell, width in zip(line, widths, strict=True)
        ).rstrip()
        for line in lines
    )


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
