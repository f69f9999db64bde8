"""`ccm-azure delete`: remove what a node's deployment created, and nothing else.

When `deploy` created the resource group for this deployment (its tags say so) and no
other deployment lives there, the whole group goes: that is one request, and it takes
the OS disks and anything Azure added on the way. Otherwise only this deployment's
resources are deleted, in an order Azure accepts (VMs with their extensions and tags,
then NICs, then public IPs, then the virtual network, then the security group),
keeping every resource another deployment in the group also lists, such as a shared
virtual network; then the deployment record goes, and the Marketplace tracking
deployment (`pid-...`) when no other deployment remains.

The plan is printed on stderr and confirmed before the first delete. Importing this
module imports no Azure SDK module.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import click

from ccm_azure.deploy import errors, inputs, lookup, runner
from ccm_azure.deploy.command import CREATED_BY_TAG, DEPLOYMENT_TAG, DeploySettings
from ccm_azure.errors import CcmAzureError, UserInputError

if TYPE_CHECKING:
    from azure.core.polling import LROPoller

    from ccm_azure.deploy.progress import Progress

LOGGER = logging.getLogger(__name__)

_STAGES = (
    ("Microsoft.Compute/virtualMachines",),
    ("Microsoft.Network/networkInterfaces",),
    ("Microsoft.Network/publicIPAddresses",),
    ("Microsoft.Network/virtualNetworks",),
    ("Microsoft.Network/networkSecurityGroups",),
)
"""Delete order by resource type: each kind is in use by the kinds before it (a VM
holds its NIC, a NIC its public IP, subnet and security group). Child resources and
kinds not listed go before the VMs when their parent stays, after them otherwise."""

_API_FAMILIES = {
    "microsoft.compute": "compute",
    "microsoft.network": "network",
    "microsoft.resources": "resources",
}
"""Resource provider namespace -> its family in ccm_azure.render.API_VERSIONS."""


@dataclasses.dataclass(frozen=True)
class Resource:
    """A resource the deployment created, by its ARM id."""

    id: str
    namespace: str
    type: str
    name: str
    parent_id: str
    """The top-level resource a child (an extension, a tag set) belongs to, or ""."""

    @classmethod
    def of(cls, resource_id: str) -> Resource:
        from azure.mgmt.core.tools import parse_resource_id
        from azure.mgmt.core.tools import resource_id as build_id

        parts = {
            key: str(value) for key, value in parse_resource_id(resource_id).items()
        }
        top = f"{parts['namespace']}/{parts['type']}"
        last = int(parts.get("last_child_num") or "0")
        if not last:
            return cls(resource_id, parts["namespace"], top, parts["name"], "")
        parent = build_id(
            subscription=parts["subscription"],
            resource_group=parts["resource_group"],
            namespace=parts["namespace"],
            type=parts["type"],
            name=parts["name"],
        )
        child_type, child_name = (
            parts[f"child_type_{last}"],
            parts[f"child_name_{last}"],
        )
        extension_namespace = parts.get(f"child_namespace_{last}")
        if extension_namespace:
            # An extension resource (tags) of another provider, on the parent.
            kind = f"{extension_namespace}/{child_type}"
            return cls(resource_id, extension_namespace, kind, child_name, parent)
        kind = f"{top}/{child_type}"
        name = f"{parts['name']}/{child_name}"
        return cls(resource_id, parts["namespace"], kind, name, parent)

    @property
    def key(self) -> str:
        return self.id.lower()

    def __str__(self) -> str:
        return f"{self.type}/{self.name}"


@dataclasses.dataclass(frozen=True)
class Plan:
    """What `delete` will delete, in order, and what it keeps and why."""

    target: lookup.Target
    whole_group: bool
    group_resources: Sequence[str] = ()
    stages: Sequence[Sequence[Resource]] = ()
    with_parent: Sequence[Resource] = ()
    kept: Sequence[tuple[Resource, str]] = ()
    deployments: Sequence[str] = ()

    @property
    def resource_count(self) -> int:
        if self.whole_group:
            return len(self.group_resources)
        return sum(len(stage) for stage in self.stages) + len(self.with_parent)

    def describe(self) -> str:
        target = self.target
        where = (
            f"resource group '{target.resource_group}' (subscription "
            f"{target.subscription_id})"
        )
        if self.whole_group:
            lines = [
                f"This deletes {where}, which ccm-azure created for deployment "
                f"'{target.deployment_name}', and everything in it:"
            ]
            lines += [f"  {_short(resource)}" for resource in self.group_resources]
            if not self.group_resources:
                lines.append("  (no resources)")
            return "\n".join(lines)
        lines = [f"This deletes from {where}, in this order:"]
        for stage in self.stages:
            for resource in stage:
                lines.append(f"  {resource}")
                lines += [
                    f"    with {child}"
                    for child in self.with_parent
                    if child.parent_id.lower() == resource.key
                ]
        lines += [f"  deployment record {name}" for name in self.deployments]
        if self.kept:
            lines.append("It keeps:")
            lines += [f"  {resource} ({why})" for resource, why in self.kept]
        return "\n".join(lines)


@click.command("delete")
@lookup.target_options
@click.option("--yes", "-y", is_flag=True, help="Delete without asking.")
@click.option(
    "--no-wait",
    is_flag=True,
    help="Start deleting the resource group and return; only when the whole group "
    "goes.",
)
@click.pass_context
def delete(
    ctx: click.Context,
    /,
    name: str,
    resource_group: str | None,
    region: str | None,
    subscription: str | None,
    yes: bool,
    no_wait: bool,
) -> None:
    """Delete what a node's deployment created, after showing it and asking.

    NAME is the node's name as given to deploy -n (default ccm-node), or the
    deployment's name (ccm-azure-NODE). The resource group goes whole only when
    ccm-azure created it for this deployment and no other deployment is in it.
    Exit codes: 0 deleted; 2 bad input, no such deployment, not confirmed, or the
    deployment still running; 3 Azure refused a delete; 5 sign-in failed; 6 Azure
    unreachable or failing; 130 Ctrl-C.
    """
    from ccm_azure.deploy.progress import Progress

    target = lookup.resolve_target(name, resource_group, region, subscription)
    settings = ctx.find_object(DeploySettings) or DeploySettings()
    with lookup.Session(target, settings) as session:
        plan = make_plan(session)
        if no_wait and not plan.whole_group:
            raise UserInputError(
                "--no-wait works only when the whole resource group is deleted; here "
                "the deployment's resources go one kind after another (VMs before "
                "their NICs, NICs before the network), which needs waiting. Nothing "
                "was deleted; run the command without --no-wait."
            )
        click.echo(plan.describe(), err=True)
        _confirm(plan, yes)
        summary = carry_out(session, plan, wait=not no_wait, progress=Progress())
    click.echo(summary)


def _confirm(plan: Plan, yes: bool) -> None:
    if yes:
        return
    if not inputs.stdin_is_terminal():
        raise UserInputError(
            "Nothing was deleted: there is no terminal to confirm the deletion on; "
            "pass --yes to delete what is listed above without asking."
        )
    try:
        confirmed = click.confirm("Delete all of this?", default=False, err=True)
    except click.Abort:  # Ctrl-C, or Ctrl-D (end of input), at the question
        click.echo(err=True)  # end the question's line
        raise errors.Interrupted(
            "Stopped at the question; nothing was deleted."
        ) from None
    if not confirmed:
        raise UserInputError(
            "Nothing was deleted, since the deletion was not confirmed; run the "
            "command again and answer y, or pass --yes."
        )


# --- the plan -----------------------------------------------------------------------


def make_plan(session: lookup.Session) -> Plan:
    """Read the deployment, its resource group and its neighbours; delete nothing."""
    target = session.target
    deployment = session.deployment()
    if not lookup.is_final(deployment):
        raise UserInputError(
            f"Deployment '{target.deployment_name}' is still "
            f"{lookup.state(deployment)}; let it end first (`ccm-azure status "
            f"{target.deployment_name} -g {target.resource_group} --wait`), or cancel "
            f"it with `az deployment group cancel -g {target.resource_group} -n "
            f"{target.deployment_name}`, then run the command again."
        )
    others = [
        other
        for other in _deployments_in_group(session)
        if str(other.get("name", "")).lower() != target.deployment_name.lower()
        and not str(other.get("name", "")).lower().startswith(lookup.TRACKING_PREFIX)
    ]
    if not others and _created_for(_group_tags(session), target.deployment_name):
        return Plan(target, whole_group=True, group_resources=_group_contents(session))
    return _resource_plan(session, deployment, others)


def _created_for(tags: dict[str, str], deployment_name: str) -> bool:
    """Whether the resource group's tags say `deploy` created it for this deployment."""
    by_name = {key.lower(): value for key, value in tags.items()}
    created_by, tool = CREATED_BY_TAG
    return (
        by_name.get(created_by) == tool
        # ARM names ignore case: ccm-azure-NODE is the deployment ccm-azure-node.
        and str(by_name.get(DEPLOYMENT_TAG.lower(), "")).lower()
        == deployment_name.lower()
    )


def _resource_plan(
    session: lookup.Session, deployment: dict[str, Any], others: list[dict[str, Any]]
) -> Plan:
    target = session.target
    operations = session.operations()
    ids = [*lookup.resource_ids(deployment), *_operation_targets(operations)]
    resources = _unique(Resource.of(resource_id) for resource_id in ids)
    tracking = [
        resource.name
        for resource in resources
        if resource.type.lower() == "microsoft.resources/deployments"
        and resource.name.startswith(lookup.TRACKING_PREFIX)
    ]
    resources = [
        resource
        for resource in resources
        if resource.type.lower() != "microsoft.resources/deployments"
    ]

    users = _resources_of(session, others)
    kept: list[tuple[Resource, str]] = []
    deleting: list[Resource] = []
    for resource in resources:
        if resource.key in users:
            kept.append((resource, f"also in {', '.join(users[resource.key])}"))
        elif _api_version(resource) is None:
            kept.append(
                (resource, "a kind ccm-azure does not delete; delete it yourself")
            )
        else:
            deleting.append(resource)

    parents = {resource.key for resource in deleting if not resource.parent_id}
    with_parent = [r for r in deleting if r.parent_id.lower() in parents]
    alone = [r for r in deleting if r not in with_parent]
    return Plan(
        target,
        whole_group=False,
        stages=_stages(alone),
        with_parent=with_parent,
        kept=kept,
        deployments=[
            target.deployment_name,
            *(() if others else tracking),
        ],
    )


def _stages(resources: Sequence[Resource]) -> list[list[Resource]]:
    """The resources grouped into delete rounds, each round after the one before."""
    orphans = [resource for resource in resources if resource.parent_id]
    ordered = [orphans]
    listed = {kind.lower() for stage in _STAGES for kind in stage}
    for stage in _STAGES:
        kinds = {kind.lower() for kind in stage}
        ordered.append(
            [r for r in resources if not r.parent_id and r.type.lower() in kinds]
        )
    ordered.append(
        [r for r in resources if not r.parent_id and r.type.lower() not in listed]
    )
    return [stage for stage in ordered if stage]


def _unique(resources: Iterable[Resource]) -> list[Resource]:
    seen: dict[str, Resource] = {}
    for resource in resources:
        seen.setdefault(resource.key, resource)
    return list(seen.values())


def _operation_targets(operations: Iterable[dict[str, Any]]) -> Iterable[str]:
    for operation in operations:
        found = operation.get("properties") or {}
        target = found.get("targetResource") or {}
        if target.get("id"):
            yield str(target["id"])


def _resources_of(
    session: lookup.Session, deployments: Iterable[dict[str, Any]]
) -> dict[str, list[str]]:
    """Resource id (lower case) -> the other deployments that list it.

    A deployment that has not succeeded has no complete `outputResources`; its
    operations name what it created or meant to.
    """
    users: dict[str, list[str]] = {}
    for deployment in deployments:
        name = str(deployment.get("name") or "")
        ids = list(lookup.resource_ids(deployment))
        if lookup.state(deployment) != "Succeeded":
            ids += _operation_targets(session.operations(name))
        for resource_id in ids:
            names = users.setdefault(resource_id.lower(), [])
            if name not in names:
                names.append(name)
    return users


def _deployments_in_group(session: lookup.Session) -> list[dict[str, Any]]:
    from azure.core.exceptions import AzureError

    try:
        listed = session.deployments.deployments.list_by_resource_group(
            session.target.resource_group
        )
        return [runner.as_dict(deployment) for deployment in listed]
    except AzureError as error:
        raise session.failure(error, "list the deployments beside") from error


def _group_tags(session: lookup.Session) -> dict[str, str]:
    from azure.core.exceptions import AzureError

    try:
        group = session.resources.resource_groups.get(session.target.resource_group)
    except AzureError as error:
        raise session.failure(error, "read the resource group of") from error
    return dict(runner.as_dict(group).get("tags") or {})


def _group_contents(session: lookup.Session) -> list[str]:
    from azure.core.exceptions import AzureError

    try:
        listed = session.resources.resources.list_by_resource_group(
            session.target.resource_group
        )
        return [str(runner.as_dict(resource).get("id")) for resource in listed]
    except AzureError as error:
        raise session.failure(error, "list the resources beside") from error


def _api_version(resource: Resource) -> str | None:
    from ccm_azure.render import API_VERSIONS

    family = _API_FAMILIES.get(resource.namespace.lower())
    return API_VERSIONS.get(family) if family else None


def _short(resource_id: str) -> str:
    return str(Resource.of(resource_id))


# --- carrying it out ----------------------------------------------------------------


def carry_out(
    session: lookup.Session, plan: Plan, *, wait: bool, progress: Progress
) -> str:
    """Delete what `plan` lists; the summary line for stdout."""
    if plan.whole_group:
        return _delete_group(session, plan, wait, progress)
    deleted: list[Resource] = []
    for stage in plan.stages:
        _delete_stage(session, plan, stage, deleted, progress)
        deleted += stage
    for name in plan.deployments:
        _delete_deployment(session, name, progress)
    return _summary(plan)


def _delete_group(
    session: lookup.Session, plan: Plan, wait: bool, progress: Progress
) -> str:
    from azure.core.exceptions import AzureError

    group = plan.target.resource_group
    count = f"{plan.resource_count} resource{'s' if plan.resource_count != 1 else ''}"
    try:
        poller = session.resources.resource_groups.begin_delete(group, polling=wait)
        if not wait:
            return (
                f"Deleting resource group '{group}' with its {count} has started; "
                f"Azure takes a few minutes (`az group wait --deleted -n {group}` "
                "waits for it)."
            )
        progress.follow(poller, f"Deleting resource group {group}")
        poller.result()
    except AzureError as error:
        raise lookup.refused(
            error, plan.target.situation(), "delete the resource group of"
        ) from error
    except KeyboardInterrupt:
        raise _interrupted(f"Deleting resource group '{group}'") from None
    return (
        f"Deleted resource group '{group}' with its {count} and deployment "
        f"'{plan.target.deployment_name}'."
    )


def _delete_stage(
    session: lookup.Session,
    plan: Plan,
    stage: Sequence[Resource],
    deleted: Sequence[Resource],
    progress: Progress,
) -> None:
    """Start deleting every resource of `stage`, then wait for all of them."""
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    started: list[tuple[Resource, LROPoller[None]]] = []
    resource: Resource | None = None
    try:
        for resource in stage:
            version = _api_version(resource)
            assert version is not None  # the plan keeps the kinds without one
            try:
                poller = session.resources.resources.begin_delete_by_id(
                    resource.id, api_version=version
                )
            except ResourceNotFoundError:
                progress.step(f"{resource} is already gone.")
                continue
            started.append((resource, poller))
        for resource, poller in started:
            progress.follow(poller, f"Deleting {resource}")
            poller.result()
    except AzureError as error:
        assert resource is not None
        raise _stage_failed(error, plan, resource, deleted) from error
    except KeyboardInterrupt:
        raise _interrupted(
            f"Deleting the resources of '{plan.target.deployment_name}'"
        ) from None


def _delete_deployment(session: lookup.Session, name: str, progress: Progress) -> None:
    from azure.core.exceptions import AzureError, ResourceNotFoundError

    group = session.target.resource_group
    try:
        poller = session.deployments.deployments.begin_delete(group, name)
        progress.follow(poller, f"Deleting deployment record {name}")
        poller.result()
    except ResourceNotFoundError:
        progress.step(f"Deployment record {name} is already gone.")
    except AzureError as error:
        raise lookup.refused(
            error, session.target.situation(), "delete the record of"
        ) from error


def _stage_failed(
    error: BaseException,
    plan: Plan,
    resource: Resource,
    deleted: Sequence[Resource],
) -> CcmAzureError:
    situation = plan.target.situation()
    mapped = lookup.refused(error, situation, f"delete {resource}, made by deployment")
    done = ", ".join(map(str, deleted)) if deleted else "nothing"
    target = plan.target
    command = f"ccm-azure delete {target.deployment_name} -g {target.resource_group}"
    return type(mapped)(
        f"{mapped.message} Deleted before it: {done}. The deployment record stays, "
        f"so `{command}` deletes the rest later."
    )


def _interrupted(doing: str) -> errors.Interrupted:
    return errors.Interrupted(
        f"{doing} goes on in Azure, but ccm-azure stopped waiting and deleted nothing "
        "after it; run the same command again to finish."
    )


def _summary(plan: Plan) -> str:
    target = plan.target
    count = plan.resource_count
    text = (
        f"Deleted {count} resource{'s' if count != 1 else ''} of deployment "
        f"'{target.deployment_name}' from resource group '{target.resource_group}', "
        f"and the deployment record{'s' if len(plan.deployments) > 1 else ''} "
        f"{', '.join(plan.deployments)}."
    )
    if plan.kept:
        kept = "; ".join(f"{resource} ({why})" for resource, why in plan.kept)
        text += f" Kept: {kept}."
    return text
