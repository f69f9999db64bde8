"""Template rules about tidiness: no blank values, no unused variables, and URIs built
with uri() rather than glued together as strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import Template, expressions

# Blanks

BLANK_ALLOWED = frozenset(
    name.lower()
    for name in (
        "resources",
        "outputs",
        "variables",
        "parameters",
        "functions",
        "properties",
        "template",
        "defaultValue",  # an optional parameter
        "accessPolicies",  # Microsoft.KeyVault/vaults requires the property
        "value",  # a nested deployment's parameter may be passed ""
        "promotionCode",  # Microsoft.OperationsManagement/solutions plan
        "inputs",  # Microsoft.Portal/dashboards parts
        "notEquals",  # policy rule conditions
        "clientId",  # managedClusters servicePrincipalProfile
        "allowedCallerIpAddresses",  # Microsoft.Logic/workflows access control
        "workerPools",  # Microsoft.Web/hostingEnvironments
        "AzureMonitor",  # Microsoft.Insights VM diagnostics settings
        "requiredDataConnectors",  # Microsoft.SecurityInsights alert rule templates
    )
)
"""Properties whose empty value means something, so a blank there is intended."""

BLANK_ALLOWED_UNDER = {
    "microsoft.web/sites/config": "properties",  # app settings may be empty
    "microsoft.web/sites/slots/config": "properties",
    "microsoft.insights/workbooks": "properties.serializedData",
}
"""Resource types in which everything under one property may be blank."""

_KEY_IS_RESOURCE = re.compile(r"^\s*(\[|/subscriptions/)", re.IGNORECASE)


def _template(context: Context) -> Template | None:
    data = context.data
    return Template(data) if isinstance(data, Mapping) else None


def _is_blank(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == {} or value == []


def _blanks(value: object, path: str) -> Iterator[tuple[str, str, object]]:
    """(path, name, value) of every property with a blank value under `value`."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            item_path = f"{path}.{key}"
            if _is_blank(item):
                yield item_path, key, item
            else:
                yield from _blanks(item, item_path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _blanks(item, f"{path}[{i}]")


def _blank_allowed_paths(template: Template) -> list[str]:
    """JSON paths under which resources of some types may hold blanks."""
    allowed = []
    for resource in template.resources():
        under = BLANK_ALLOWED_UNDER.get(resource.full_type.lower())
        if under is not None:
            allowed.append(f"{resource.path}.{under}")
    return allowed


def _shown(value: object) -> str:
    if isinstance(value, str):
        return '""'
    if isinstance(value, Mapping):
        return "{}"
    return "[]" if isinstance(value, list) else "null"


@rule(
    "template-no-blanks",
    family="template",
    summary=(
        'No property is blank ("", {}, [] or null), except those whose emptiness '
        "means something (defaultValue, resources, ...) and keys that are resource "
        "IDs or expressions."
    ),
    arm_ttk="Template-Should-Not-Contain-Blanks",
    blocking=False,
)
def no_blanks(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    allowed_under = _blank_allowed_paths(template)
    for path, name, value in _blanks(template.data, "$"):
        if name.lower() in BLANK_ALLOWED or _KEY_IS_RESOURCE.match(name):
            continue
        if any(path.startswith(f"{prefix}.") for prefix in allowed_under):
            continue
        yield (
            path,
            f"{name} is blank ({_shown(value)}); remove the property or give it a "
            "value, since an empty value tells Azure to clear the setting.",
        )


# Variables are referenced


def _declared_variables(template: Template) -> Iterator[tuple[str, str]]:
    """(name, JSON path) of every variable, copy-loop variables included."""
    for name, value in template.variables.items():
        if name.lower() != "copy":
            yield name, f"$.variables.{name}"
            continue
        for i, loop in enumerate(value if isinstance(value, list) else []):
            loop_name = loop.get("name") if isinstance(loop, Mapping) else None
            if isinstance(loop_name, str):
                yield loop_name, f"$.variables.copy[{i}].name"


def _read_variables(template: Template) -> tuple[set[str], list[str] | None]:
    """Variables read by name (lower case), and the prefixes of those read by a
    computed name (None when some computed name could be anything)."""
    names: set[str] = set()
    prefixes: list[str] | None = []
    for _, node in expressions(template.data):
        for call in ex.calls(node, "variables"):
            literal = ex.string_argument(call)
            if literal is not None:
                names.add(literal.lower())
                continue
            prefix = _known_prefix(call.args[0]) if call.args else None
            if prefix is None or prefixes is None:
                prefixes = None
            else:
                prefixes.append(prefix.lower())
    return names, prefixes


def _known_prefix(node: ex.Node) -> str | None:
    """The literal start of a name built with concat() or format(), if it has one."""
    if isinstance(node, ex.Call) and node.lower_name in ("concat", "format"):
        first = ex.string_argument(node)
        if first:
            return first.split("{")[0] if node.lower_name == "format" else first
    return None


@rule(
    "template-variables-referenced",
    family="template",
    summary="Every variable, copy-loop variables included, is read somewhere.",
    arm_ttk="Variables-Must-Be-Referenced",
    blocking=False,
)
def variables_referenced(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    read, prefixes = _read_variables(template)
    if prefixes is None:
        return  # a variable is read by a name computed at deployment time
    for name, path in _declared_variables(template):
        lowered = name.lower()
        if lowered in read or any(lowered.startswith(p) for p in prefixes):
            continue
        yield Problem(
            path,
            f"The variable '{name}' is never used; remove it, or read it with "
            f"variables('{name}').",
            error_id="Variables.Must.Be.Referenced",
        )


# URIs are built with uri()


_URI_NAME = re.compile(r"ur[il]$", re.IGNORECASE)


def _glued_outside_uri(node: ex.Node, inside_uri: bool = False) -> ex.Call | None:
    """The first concat() or format() call not within the arguments of uri()."""
    if isinstance(node, ex.Call):
        if node.lower_name in ("concat", "format") and not inside_uri:
            return node
        inside_uri = inside_uri or node.lower_name == "uri"
    for child in ex.children(node):
        found = _glued_outside_uri(child, inside_uri)
        if found is not None:
            return found
    return None


def _uri_properties(value: object, path: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            item_path = f"{path}.{key}"
            if _URI_NAME.search(key) and isinstance(item, str):
                yield item_path, key, item
            yield from _uri_properties(item, item_path)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _uri_properties(item, f"{path}[{i}]")


@rule(
    "template-uri-function",
    family="template",
    summary=(
        "Properties named *Uri or *Url that are expressions build the address with "
        "uri(), not with concat() or format() alone."
    ),
    arm_ttk="URIs-Should-Be-Properly-Constructed",
    blocking=False,
)
def uri_function(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for path, name, value in _uri_properties(template.data, "$"):
        node = ex.try_parse(value)
        glued = _glued_outside_uri(node) if node is not None else None
        if glued is not None:
            yield Problem(
                path,
                f"{name} is built with {glued.name}(), which gets slashes and "
                "escaping wrong; build it with uri(base, relativePath).",
                error_id="URI.Improperly.Constructed",
            )
