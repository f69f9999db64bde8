"""Template rules about the environment a deployment lands in: the region comes from
the `location` parameter and cloud endpoints from `environment()`, never from text
written into the template, so that one template deploys to any region and any cloud.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import Template, expressions, typed_objects, walk

DEPLOYMENTS = "Microsoft.Resources/deployments"


def _template(context: Context) -> Template | None:
    data = context.data
    return Template(data) if isinstance(data, Mapping) else None


# Location-Should-Not-Be-Hardcoded

_LOCATION_SOURCES = ("resourcegroup", "deployment")


def _reads_scope_location(node: ex.Node) -> bool:
    """Whether `node` uses resourceGroup().location or deployment().location."""
    return any(
        isinstance(item, ex.Member)
        and item.name.lower() == "location"
        and isinstance(item.target, ex.Call)
        and item.target.lower_name in _LOCATION_SOURCES
        and not item.target.args
        for item in ex.walk(node)
    )


def _is_scope_location(value: object) -> bool:
    """Whether `value` is exactly `[resourceGroup().location]` or deployment()'s."""
    node = ex.try_parse(value)
    return (
        isinstance(node, ex.Member)
        and node.name.lower() == "location"
        and isinstance(node.target, ex.Call)
        and node.target.lower_name in _LOCATION_SOURCES
        and not node.target.args
    )


def _resource_objects(value: object, path: str) -> Iterator[tuple[str, Any]]:
    """Every member of a `resources` list or object under `value`, at any depth."""
    for item_path, item in walk(value, path):
        if not isinstance(item, Mapping):
            continue
        resources = item.get("resources")
        if isinstance(resources, list):
            yield from (
                (f"{item_path}.resources[{i}]", r) for i, r in enumerate(resources)
            )
        elif isinstance(resources, Mapping):
            yield from ((f"{item_path}.resources.{k}", r) for k, r in resources.items())


def _location_parameter(template: Template, is_main: bool) -> Iterator[Problem]:
    found = template.parameter("location")
    if found is None:
        return
    name, definition = found
    path = f"$.parameters.{name}"
    kind = definition.get("type")
    if not (isinstance(kind, str) and kind.lower() == "string"):
        yield Problem(
            path,
            f"The location parameter is of type '{kind}'; declare it as a string.",
            error_id="Location.Parameter.TypeMisMatch",
        )
    if "defaultValue" not in definition:
        return
    default = definition["defaultValue"]
    if is_main:
        allowed = _is_scope_location(default) or (
            isinstance(default, str) and default.strip().lower() == "global"
        )
        if default and not allowed:
            yield Problem(
                f"{path}.defaultValue",
                f"The location parameter defaults to {default!r}; default it to "
                "[resourceGroup().location], [deployment().location] or 'global', so "
                "the user's region is used.",
                error_id="Location.Parameter.Hardcoded",
            )
    elif default is not None:
        node = ex.try_parse(default)
        if node is None or not _reads_scope_location(node):
            yield Problem(
                f"{path}.defaultValue",
                "The location parameter of a template that is not the main template "
                f"defaults to {default!r}; remove the default, so the main template "
                "passes its location.",
                error_id="Location.Parameter.DefaultValuePresent",
            )


@rule(
    "template-location-not-hardcoded",
    family="template",
    summary="Regions come from the location parameter, never from literals.",
    arm_ttk="Location-Should-Not-Be-Hardcoded",
)
def location_not_hardcoded(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    yield from _location_parameter(template, context.document.is_main)

    # Nested deployments may take the scope's location: it is where they run.
    exempt = ["$.parameters"]
    exempt += [path for path, _ in typed_objects(template.data, DEPLOYMENTS)]
    for path, node in expressions(template.data):
        if any(path == e or path.startswith((e + ".", e + "[")) for e in exempt):
            continue
        if _reads_scope_location(node):
            yield Problem(
                path,
                "The template reads resourceGroup().location or "
                "deployment().location outside the parameters; use the location "
                "parameter instead, with that expression as its default.",
                error_id="Location.Parameter.Should.Be.Used",
            )

    # Only the resources section: a variable may hold other objects named so.
    only_resources = {"resources": template.data.get("resources")}
    for path, resource in _resource_objects(only_resources, "$"):
        location = resource.get("location") if isinstance(resource, Mapping) else None
        if location is None:
            continue
        if isinstance(location, str) and (
            location.lower() == "global" or ex.is_expression(location)
        ):
            continue
        yield Problem(
            f"{path}.location",
            f"The resource's location is the literal {location!r}; set it to "
            "[parameters('location')] (or 'global' for a global resource).",
            error_id="Location.Hardcoded",
        )


# DeploymentTemplate-Must-Not-Contain-Hardcoded-Uri

# Host names that differ between Azure clouds, with the environment() property that
# gives each one in the cloud deployed to, where there is one.
CLOUD_HOSTS = {
    "management.core.windows.net": "environment().management",
    "gallery.azure.com": "environment().gallery",
    "management.azure.com": "environment().resourceManager",
    "database.windows.net": "environment().suffixes.sqlServerHostname",
    "batch.core.windows.net": "environment().batch",
    "core.windows.net": "environment().suffixes.storage",
    "login.microsoftonline.com": "environment().authentication.loginEndpoint",
    "graph.windows.net": "environment().graph",
    "vault.azure.net": "environment().suffixes.keyvaultDns",
    "datalake.azure.net": "environment().activeDirectoryDataLake",
    "azuredatalakestore.net": "environment().suffixes.azureDatalakeStoreFileSystem",
    "azuredatalakeanalytics.net": (
        "environment().suffixes.azureDatalakeAnalyticsCatalogAndJob"
    ),
    "api.loganalytics.io": None,
    "asazure.windows.net": None,
}
_HOST = re.compile("|".join(re.escape(h) for h in CLOUD_HOSTS))
# A schema URL names its host on purpose, and the PowerShell Gallery's package store
# is the same in every cloud.
_EXEMPT_PREFIXES = re.compile(
    r"(?:https?://schema\.|https://devopsgallerystorage\.blob\.)$"
)


def _hard_coded_hosts(text: str) -> Iterator[str]:
    lowered = text.lower()  # host names are case-insensitive
    if "." not in lowered:
        return
    for match in _HOST.finditer(lowered):
        if not _EXEMPT_PREFIXES.search(lowered, 0, match.start()):
            yield match.group()


@rule(
    "template-no-hardcoded-hosts",
    family="template",
    summary="Cloud endpoints come from environment(), not hard-coded host names.",
    arm_ttk="DeploymentTemplate-Must-Not-Contain-Hardcoded-Uri",
)
def no_hardcoded_hosts(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for path, value in walk(template.data):
        if path == "$.parameters" or path.startswith(
            ("$.parameters.", "$.parameters[")
        ):
            continue
        texts = [value] if isinstance(value, str) else []
        if isinstance(value, Mapping):
            texts = [key for key in value if isinstance(key, str)]
        for text in texts:
            for host in _hard_coded_hosts(text):
                source = CLOUD_HOSTS[host]
                fix = f"use {source}" if source else "take it as a parameter"
                yield Problem(
                    path,
                    f"'{host}' is a hard-coded Azure endpoint, which differs between "
                    f"clouds; {fix} instead.",
                    error_id="Hardcoded.Url.Reference",
                )
