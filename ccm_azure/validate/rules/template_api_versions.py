"""Template rules about apiVersions: each is a literal date, recent, and not a preview
that a released version has replaced.

"Recent" needs a table of each resource type's apiVersions and a date: the run's
settings give both (`--api-versions`, `--as-of`), else the table shipped with
ccm-azure and today. A type the table does not know is not judged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.api_versions import (
    MAX_AGE_DAYS,
    ApiVersions,
    Verdict,
    acceptable,
    is_preview,
    judge,
    shipped,
    version_date,
)
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import (
    Resource,
    Template,
    every_resource,
    expressions,
    generated_by_bicep,
)

OPT_OUT = "disable-apiversions-should-be-recent"
"""Resource metadata that exempts a resource, as arm-ttk allows."""


def _template(context: Context) -> Template | None:
    data = context.data
    return Template(data) if isinstance(data, Mapping) else None


def _table(context: Context) -> ApiVersions:
    return context.settings.api_versions or shipped()


def _suggestion(known: tuple[str, ...], context: Context) -> str:
    candidates = acceptable(known, context.settings.as_of)
    stable = [v for v in candidates if not is_preview(v)]
    return (stable or candidates or list(known))[0]


def _judged(
    context: Context,
    path: str,
    subject: str,
    version: str,
    resource_type: str,
    id_prefix: str,
) -> Iterator[Problem]:
    """Problems with `version` of `resource_type`, if the table knows the type."""
    table = _table(context)
    found = table.lookup(resource_type)
    if found is None:
        return
    known_type, known = found
    as_of = context.settings.as_of
    verdicts = judge(version, known, as_of)
    if not verdicts:
        return
    suggestion = _suggestion(known, context)
    # One finding per apiVersion: an old preview that a release replaced is
    # reported as the preview it is, not a second time for its age.
    verdict = verdicts[0]
    if verdict is Verdict.PREVIEW_SUPERSEDED:
        yield Problem(
            path,
            f"{subject} uses the preview apiVersion {version} although newer "
            f"released versions exist; use {suggestion}.",
            error_id=f"{id_prefix}.Preview.Not.Recent",
        )
    elif verdict is Verdict.PREVIEW_HAS_STABLE:
        released = version.strip()[:10]
        yield Problem(
            path,
            f"{subject} uses the preview apiVersion {version} although the "
            f"released {released} of the same date exists; use {released}.",
            error_id=f"{id_prefix}.Preview.Version.Has.NonPreview",
        )
    elif verdict is Verdict.OUT_OF_DATE:
        used = version_date(version)
        age = (as_of - used).days if used else 0
        yield Problem(
            path,
            f"{subject} uses apiVersion {version}, {age} days old on {as_of}, "
            f"and newer versions exist; use one under {MAX_AGE_DAYS} days old or "
            f"the newest, such as {suggestion}.",
            error_id=f"{id_prefix}.OutOfDate",
        )
    elif verdict is Verdict.NOT_LISTED:
        yield Problem(
            path,
            f"{subject} uses apiVersion {version}, which {table.source} does not "
            f"list for {known_type}; check that it exists, or give a newer table "
            "with --api-versions.",
            level="warning",
            error_id=f"{id_prefix}.Not.Valid",
        )


# Resources


def _resource_type(resource: Resource) -> str:
    """The full type; a child resource may give its own fully qualified type."""
    own = str(resource.data.get("type", ""))
    namespace = own.split("/")[0]
    return own if "." in namespace and "/" in own else resource.full_type


def _opted_out(resource: Resource) -> bool:
    metadata = resource.data.get("metadata")
    marks = metadata if isinstance(metadata, list) else [metadata]
    return any(isinstance(m, str) and m.lower() == OPT_OUT for m in marks)


@rule(
    "template-api-versions-recent",
    family="template",
    summary=(
        "Every resource's apiVersion is a literal date, is not a preview a released "
        "version has replaced, and is under two years old unless it is the newest."
    ),
    arm_ttk="apiVersions-Should-Be-Recent",
    blocking=False,
)
def api_versions_recent(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    from_bicep = generated_by_bicep(template.data)
    for resource in every_resource(template):
        if "apiVersion" not in resource.data or _opted_out(resource):
            continue
        if from_bicep and resource.is_type("Microsoft.Resources/deployments"):
            continue  # a Bicep module: Bicep chose its apiVersion
        path = f"{resource.path}.apiVersion"
        version = resource.data["apiVersion"]
        resource_type = _resource_type(resource)
        if not isinstance(version, str):
            yield Problem(
                path,
                f"The apiVersion of {resource_type} is {json.dumps(version)}; write "
                "it as a string such as '2025-04-01'.",
                error_id="ApiVersion.Not.String",
            )
            continue
        if version_date(version) is None:
            yield Problem(
                path,
                f"The apiVersion of {resource_type} is {json.dumps(version)}, not a "
                "date; write the literal version, such as '2025-04-01'.",
                error_id="ApiVersion.Not.Date",
            )
            continue
        # Limitation: an extension resource in the old `<parent>/providers/<type>`
        # form names its own type only in its name; arm-ttk leaves it unjudged too.
        if "/providers/" in resource_type.lower():
            continue
        yield from _judged(
            context, path, resource_type, version, resource_type, "ApiVersion"
        )


# reference() and list*()


def _is_resource_function(call: ex.Call) -> bool:
    return call.lower_name == "reference" or call.lower_name.startswith("list")


def _literal(template: Template, node: ex.Node) -> str | None:
    """The text of a literal string, directly or held by a variable."""
    if isinstance(node, ex.Literal):
        return node.value if isinstance(node.value, str) else None
    held = template.resolve_variable(node)
    return held if isinstance(held, str) and not ex.is_expression(held) else None


def _type_in_id(resource_id: str) -> str | None:
    """The resource type of a literal resource ID (`.../providers/Ns/a/x/b/y`)."""
    lowered = resource_id.lower()
    start = lowered.rfind("/providers/")
    if start < 0:
        return None
    segments = [s for s in resource_id[start + len("/providers/") :].split("/") if s]
    if len(segments) < 3:
        return None
    return "/".join([segments[0], *segments[1::2]])


def _named_with(template: Template, variable: str) -> str | None:
    """The type of the resources whose name is built from `variables(variable)`."""
    types = set()
    for resource in every_resource(template):
        name = ex.try_parse(resource.data.get("name"))
        if name is not None and variable.lower() in {
            n.lower() for n in ex.referenced(name, "variables")
        }:
            types.add(_resource_type(resource))
    return types.pop() if len(types) == 1 else None


def _referenced_type(template: Template, node: ex.Node, depth: int = 0) -> str | None:
    """The resource type the first argument of reference() or list*() points at."""
    if depth > 8:
        return None
    if isinstance(node, ex.Call):
        found = ex.resource_type_argument(node)
        if found is not None:
            return found[1].rstrip("/")
    if isinstance(node, ex.Literal) and isinstance(node.value, str):
        return _type_in_id(node.value)
    held = template.resolve_variable(node)
    if isinstance(held, str):
        inner = ex.try_parse(held)
        if inner is not None:
            return _referenced_type(template, inner, depth + 1)
        if held.lower().startswith("/subscriptions/") or held.startswith("/providers"):
            return _type_in_id(held)
    if isinstance(node, ex.Call) and node.lower_name == "variables":
        variable = ex.string_argument(node)
        return _named_with(template, variable) if variable is not None else None
    return None


@rule(
    "template-reference-api-versions-recent",
    family="template",
    summary=(
        "apiVersions given to reference() and list*() are not previews a released "
        "version has replaced, and are under two years old unless the newest."
    ),
    arm_ttk="apiVersions-Should-Be-Recent-In-Reference-Functions",
    blocking=False,
)
def reference_api_versions_recent(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None or generated_by_bicep(template.data):
        return
    for path, node in expressions(template.data):
        for item in ex.walk(node):
            if not isinstance(item, ex.Call) or not _is_resource_function(item):
                continue
            if len(item.args) < 2:
                continue
            version = _literal(template, item.args[1])
            if version is None or version_date(version) is None:
                continue
            resource_type = _referenced_type(template, item.args[0])
            if resource_type is None:
                continue
            subject = f"{item.name}() of {resource_type}"
            yield from _judged(
                context, path, subject, version, resource_type, "ApiReference.Version"
            )


@rule(
    "template-no-providers-api-versions",
    family="template",
    summary="No apiVersion is picked at deployment time with providers().apiVersions.",
    arm_ttk="providers_apiVersions-Is-Not-Permitted",
    blocking=False,
)
def no_providers_api_versions(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for path, node in expressions(template.data):
        for item in ex.walk(node):
            if (
                isinstance(item, ex.Member)
                and item.name.lower() == "apiversions"
                and isinstance(item.target, ex.Call)
                and item.target.lower_name == "providers"
            ):
                yield Problem(
                    path,
                    "providers().apiVersions picks whatever version Azure lists at "
                    "deployment time; write the literal apiVersion the template was "
                    "tested with.",
                    error_id="ApiVersion.Using.Providers",
                )
                break
