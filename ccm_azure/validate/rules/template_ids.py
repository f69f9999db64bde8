"""Template rules about resource IDs: IDs are built with resourceId() and its family,
and those functions get the arguments they were made for.

A resource ID written by hand (a literal, or concat() of its parts) breaks when the
template is deployed to another subscription, resource group or cloud; resourceId()
and its family build the same ID from the deployment's own scope.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import (
    UNRESOLVED,
    Template,
    expressions,
    generated_by_bicep,
)

DERIVING_FUNCTIONS = ex.RESOURCE_ID_FUNCTIONS | {
    "parameters",
    "variables",
    "reference",
    "if",
    "subscription",
    "guid",
}
"""Functions whose result may stand as a resource ID: arm-ttk's list, with
managementGroupResourceId() as one more of the resourceId() family."""

NOT_RESOURCE_IDS = (
    "appId",
    "clientId",
    "DataTypeId",
    "defaultMenuItemId",
    "keyVaultSecretId",
    "keyVaultId",
    "keyId",
    "objectId",
    "menuId",
    "nodeAgentSkuId",
    "policyDefinitionReferenceId",
    "servicePrincipalClientId",
    "StartingDeviceID",
    "subscriptionId",
    "SyntheticMonitorId",
    "targetProtectionContainerId",
    "targetWorkerSizeId",
    "tenantId",
    "timezoneId",
    "vlanId",
    "workerSizeId",
    "metricId",
    "requestedServiceObjectiveId",
    "groupId",
    "sid",
    "ruleId",
    "deploymentSpecId",
    "contentId",
    "connectorId",
    "parentId",
    "IllusiveIncidentId",
    "UniqueFindingId",
    "schemaId",
    "detection_id",
    "open_id",
    "TeamsChannelID",
    "SAPAuditLogMessageID",
    "roleDefinitionId",
    "principalId",
    "XDRCustomerID",
    "userAssignedIdentityResourceId",
    "channelId",
    "extendedAceItemObjectId",
    "ApplicationId",
    "IndicatorId",
    "contentProductId",
    "aws_iam_functionapp_id",
    "dataCollectionEndpointId",
    "dataCollectionRuleImmutableId",
    "firstPartyId",
)
"""Property names ending in "id" that hold something else than a resource ID (tenant
and object ids, SKU and size ids, ...); as in arm-ttk, a name that ends with one of
these is exempt, whatever comes before."""

# Resource types whose properties hold ids of their own kind, each with the JSON path
# fragment an exempt property must sit under ("" for anywhere in the resource).
EXEMPT_TYPES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), under)
    for pattern, under in (
        (r"^microsoft\.logic/workflows$", ""),  # workflow definition language
        (r"^microsoft\.portal/dashboards$", ""),  # part settings
        (r"backends$", ".properties."),  # API Management backends: URLs
        (r"^microsoft\.documentdb/databaseaccounts/\w*/collections$", ""),
        (r"^microsoft\.documentdb/databaseaccounts/sqldatabases", ".resource."),
        (r"^microsoft\.insights/webtests$", ".locations"),  # test location ids
        (r"(^|/)config$", ""),  # web app settings: any name the app reads
        (r"^microsoft\.apicenter/", ".properties."),  # catalog-relative ids
    )
)


def _template(context: Context) -> Template | None:
    data = context.data
    return Template(data) if isinstance(data, Mapping) else None


# IDs are derived from resourceId()


def _id_properties(
    value: object, path: str, types: tuple[str, ...]
) -> Iterator[tuple[str, str, object, tuple[str, ...]]]:
    """(path, name, value, enclosing types) of every property whose name ends in id."""
    if isinstance(value, Mapping):
        own_type = value.get("type")
        if isinstance(own_type, str):
            types = (*types, own_type)
        for key, item in value.items():
            item_path = f"{path}.{key}"
            if key.lower().endswith("id"):
                yield item_path, key, item, types
            yield from _id_properties(item, item_path, types)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _id_properties(item, f"{path}[{i}]", types)


def _exempt(path: str, name: str, types: tuple[str, ...]) -> bool:
    lowered = name.lower()
    if any(lowered.endswith(other.lower()) for other in NOT_RESOURCE_IDS):
        return True
    if path.lower().endswith(".detector.id"):
        return True
    if ".metadata." in path or re.search(r"\.tags\.[^.]+$", path):
        return True
    return any(
        pattern.search(kind) and under in path.lower()
        for kind in types
        for pattern, under in EXEMPT_TYPES
    )


def _derived(template: Template, node: ex.Node, depth: int = 0) -> bool:
    """Whether an expression is a resource ID the deployment computes."""
    if depth > 16:
        return True  # a variable loop; ARM rejects it anyway
    base = node
    while isinstance(base, ex.Member | ex.Index):
        base = base.target
    if not isinstance(base, ex.Call) or base.lower_name not in DERIVING_FUNCTIONS:
        return False
    if base.lower_name == "variables":
        held = template.resolve_variable(node)
        if held is UNRESOLVED or not isinstance(held, str):
            return True  # an object, a copy loop's array: not an ID written here
        inner = ex.try_parse(held)
        return inner is not None and _derived(template, inner, depth + 1)
    if base.lower_name == "if" and base is node and len(base.args) == 3:
        return all(_derived_or_none(template, arg, depth) for arg in base.args[1:])
    return True


def _derived_or_none(template: Template, node: ex.Node, depth: int) -> bool:
    if isinstance(node, ex.Literal) and node.value in (None, ""):
        return True
    if isinstance(node, ex.Call) and (
        node.lower_name == "null"
        or (node.lower_name == "json" and ex.string_argument(node) == "null")
    ):
        return True
    return _derived(template, node, depth + 1)


def _held_by_variables(template: Template, node: ex.Node) -> str | None:
    """The text a variables() reference comes to, through further variables."""
    text = None
    for _ in range(16):
        held = template.resolve_variable(node)
        if not isinstance(held, str):
            break
        text = held
        following = ex.try_parse(held)
        if following is None:
            break
        node = following
    return text


def _id_value(value: object) -> object:
    """The ID a property holds: itself, or the `value` of a nested deployment's
    parameter; None for other objects, arrays and null."""
    if isinstance(value, Mapping):
        held = value.get("value")
        return held if isinstance(held, str) and held else None
    return None if isinstance(value, list) else value


def _id_problem(
    template: Template, path: str, name: str, value: object
) -> Problem | None:
    held = _id_value(value)
    if held is None:
        return None
    if isinstance(value, Mapping):
        path = f"{path}.value"
    how = (
        "build it with resourceId(), subscriptionResourceId(), "
        "extensionResourceId() or tenantResourceId(), or take it from a parameter"
    )
    if not isinstance(held, str):
        return Problem(
            path,
            f"{name} is {json.dumps(held)}, not a resource ID; {how}.",
            error_id="ResourceId.Should.Contain.Proper.Expression",
        )
    if not held.strip():
        return Problem(
            path, f"{name} is blank; {how}.", error_id="ResourceId.Is.Missing"
        )
    # An escaped expression ([[...]) is evaluated later, by the deployment it is
    # passed to, e.g. a policy's deployIfNotExists template.
    text = held[1:] if held.startswith("[[") else held
    node = ex.try_parse(text)
    if ex.is_expression(text) and node is None:
        return None  # malformed: the expression rules report it
    if node is not None and _derived(template, node):
        return None
    shown = json.dumps(held)
    final = _held_by_variables(template, node) if node is not None else None
    if final is not None:
        shown += f", which its variable sets to {json.dumps(final)}"
    return Problem(
        path,
        f"{name} is {shown}: a resource ID written by hand; {how}.",
        error_id="ResourceId.Should.Contain.Proper.Expression",
    )


@rule(
    "template-ids-from-resource-id",
    family="template",
    summary=(
        "Properties of resources that hold resource IDs (names ending in id) get them "
        "from resourceId() and its family, reference() or parameters, not literals."
    ),
    arm_ttk="IDs-Should-Be-Derived-From-ResourceIDs",
    blocking=False,
)
def ids_from_resource_id(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None or generated_by_bicep(template.data):
        return
    resources = template.data.get("resources")
    for path, name, value, types in _id_properties(resources, "$.resources", ()):
        if _exempt(path, name, types):
            continue
        problem = _id_problem(template, path, name, value)
        if problem is not None:
            yield problem


# resourceId() gets a type and names


def _base_call(node: ex.Node) -> ex.Call | None:
    while isinstance(node, ex.Member | ex.Index):
        node = node.target
    return node if isinstance(node, ex.Call) else None


SCOPE_DEFAULTS = {
    "resourceid": ("resourcegroup", "subscription"),
    "subscriptionresourceid": ("subscription",),
}
"""The scope functions whose value a resourceId-family function already defaults to;
extensionResourceId() rightly takes resourceGroup().id as the resource it extends."""


def _misused_first_argument(call: ex.Call) -> str | None:
    """Why the first argument of a resource function is wrong, or None."""
    if not call.args:
        return None
    first = _base_call(call.args[0])
    if first is None:
        return None
    if call.lower_name in ex.RESOURCE_ID_FUNCTIONS:
        defaults = SCOPE_DEFAULTS.get(call.lower_name, ())
        if first.lower_name in defaults:
            return (
                f"{call.name}() is given {first.name}() for the scope it already "
                "defaults to; leave that argument out"
            )
        if first.lower_name in ("concat", "format"):
            return (
                f"{call.name}() is given a type built with {first.name}(); pass the "
                "literal resource type and each name as its own argument"
            )
    elif first.lower_name in ("concat", "format") and (
        call.lower_name == "reference" or call.lower_name.startswith("list")
    ):
        return (
            f"{call.name}() is given a resource ID built with {first.name}(); build "
            "it with resourceId()"
        )
    return None


@rule(
    "template-resource-id-arguments",
    family="template",
    summary=(
        "resourceId() and its family get a literal type and separate names, not the "
        "current scope or concat()/format(); reference() and list*() get a "
        "resourceId(), not concat()/format()."
    ),
    arm_ttk="ResourceIds-should-not-contain",
    blocking=False,
)
def resource_id_arguments(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None or generated_by_bicep(template.data):
        return
    for path, node in expressions(template.data):
        for item in ex.walk(node):
            if isinstance(item, ex.Call):
                why = _misused_first_argument(item)
                if why is not None:
                    yield Problem(
                        path,
                        f"{why}.",
                        error_id="ResourceId.Should.Not.Contain.Function",
                    )


# resourceId() names exactly one resource


def _name_segments(names: tuple[ex.Node, ...]) -> tuple[int, bool]:
    """How many name segments `names` give at least, and whether that is exact."""
    count, exact = 0, True
    for name in names:
        if isinstance(name, ex.Literal) and isinstance(name.value, str):
            count += len(name.value.strip("/").split("/"))
        else:
            count, exact = count + 1, False  # an expression may hold a '/'
    return count, exact


def _ambiguities(call: ex.Call) -> Iterator[tuple[str, str]]:
    found = ex.resource_type_argument(call)
    if found is None:
        return
    position, resource_type = found
    if resource_type.endswith("/"):
        yield (
            "ResourceID.Trailing.Slash",
            f"The resource type '{resource_type}' of {call.name}() ends with a slash; "
            "remove it.",
        )
    wanted = len(resource_type.strip("/").split("/")) - 1
    given, exact = _name_segments(call.args[position + 1 :])
    if given > wanted or (exact and given < wanted):
        yield (
            "ResourceID.Missing.Name",
            f"{call.name}() gives {given} name segment(s) for "
            f"'{resource_type.strip('/')}', which needs {wanted}; give one name per "
            "type segment after the namespace.",
        )


@rule(
    "template-resource-id-unambiguous",
    family="template",
    summary=(
        "resourceId() and its family give a type without a trailing slash and one "
        "name per type segment. Switched off in arm-ttk (its check was withdrawn), "
        "so this only warns and never blocks."
    ),
    arm_ttk="Resources-Should-Not-Be-Ambiguous",
    blocking=False,
)
def resource_id_unambiguous(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for path, node in expressions(template.data):
        for item in ex.walk(node):
            if isinstance(item, ex.Call):
                for error_id, message in _ambiguities(item):
                    yield Problem(path, message, level="warning", error_id=error_id)
