"""Template rules about the shape of a template: the schema it declares, how
dependencies and variable references are written, and settings that Marketplace
refuses in a published template (deployment debug logging, the retired managed
identity VM extension).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import Template, expressions, typed_objects, walk

SCHEMAS = (
    "https://schema.management.azure.com/schemas/2015-01-01/deploymentTemplate.json#",
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "https://schema.management.azure.com/schemas/2018-05-01/"
    "subscriptionDeploymentTemplate.json#",
    "https://schema.management.azure.com/schemas/2019-08-01/"
    "tenantDeploymentTemplate.json#",
    "https://schema.management.azure.com/schemas/2019-08-01/"
    "managementGroupDeploymentTemplate.json#",
)
DEPRECATED_SCHEMA = SCHEMAS[0]


def _template(context: Context) -> Template | None:
    data = context.data
    return Template(data) if isinstance(data, Mapping) else None


@rule(
    "template-schema",
    family="template",
    summary="The template declares one of the deployment template schemas.",
    arm_ttk="DeploymentTemplate-Schema-Is-Correct",
    blocking=False,
)
def schema(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    declared = template.data.get("$schema")
    if not declared:
        yield Problem(
            "$",
            "The template has no $schema; set it to "
            f"'{SCHEMAS[1]}' (or the schema of its deployment scope).",
            error_id="Template.Missing.Schema",
        )
        return
    known = {url.lower() for url in SCHEMAS}
    if not isinstance(declared, str) or declared.lower() not in known:
        yield Problem(
            "$.$schema",
            f"$schema is {declared!r}, not a deployment template schema; set it to "
            f"'{SCHEMAS[1]}' (or the schema of its deployment scope).",
            error_id="Template.Bad.Schema",
        )
    elif declared.lower() == DEPRECATED_SCHEMA.lower():
        yield Problem(
            "$.$schema",
            "The 2015-01-01 template schema is deprecated; set $schema to "
            f"'{SCHEMAS[1]}'.",
            level="warning",
            error_id="Template.Deprecated.Schema",
        )


def _base(node: ex.Node) -> ex.Node:
    """The leftmost part of an expression: `concat` in `concat(...).x[0]`."""
    while isinstance(node, ex.Member | ex.Index):
        node = node.target
    return node


@rule(
    "template-depends-on-plain",
    family="template",
    summary="dependsOn entries are resource ids, not conditions or concatenations.",
    arm_ttk="DependsOn-Best-Practices",
    blocking=False,
)
def depends_on_plain(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for path, item in walk(template.data.get("resources"), "$.resources"):
        if not isinstance(item, Mapping):
            continue
        for key, entries in item.items():
            if key.lower() != "dependson":
                continue
            for entry_path, node in expressions(entries, f"{path}.{key}"):
                base = _base(node)
                if not isinstance(base, ex.Call):
                    continue
                if base.lower_name == "if":
                    yield Problem(
                        entry_path,
                        "A dependsOn entry starts with if(); depend on the resource "
                        "unconditionally, since a dependency on a resource that is "
                        "not deployed is ignored.",
                        error_id="Resource.DependsOn.Conditional",
                    )
                elif base.lower_name == "concat" and not any(
                    True for _ in ex.calls(node, "copyIndex")
                ):
                    yield Problem(
                        entry_path,
                        "A dependsOn entry builds a name with concat(); use "
                        "resourceId() (or the resource's plain name) instead.",
                        error_id="Resource.DependsOn.StartsWithConcat",
                    )


@rule(
    "template-deployment-not-debug",
    family="template",
    summary="Nested deployments do not log request or response content.",
    arm_ttk="Deployment-Resources-Must-Not-Be-Debug",
)
def deployment_not_debug(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    deployments = typed_objects(
        template.data.get("resources"), "Microsoft.Resources/deployments", "$.resources"
    )
    for path, deployment in deployments:
        properties = deployment.get("properties")
        setting = (
            properties.get("debugSetting") if isinstance(properties, Mapping) else None
        )
        if not isinstance(setting, Mapping):
            continue
        level = setting.get("detailLevel")
        if level is None or (isinstance(level, str) and level.lower() == "none"):
            continue
        yield Problem(
            f"{path}.properties.debugSetting.detailLevel",
            f"The nested deployment logs {level!r}, which keeps parameters and "
            "responses (secrets included) in the deployment history; remove "
            "debugSetting or set its detailLevel to 'None'.",
            error_id="Deployment.Resource.Has.DebugSetting",
        )


def _concat_suggestion(call: ex.Call) -> str:
    """How to write `variables(concat('a', parameters('b')))` with an index."""
    parts = list(call.args)
    if parts and isinstance(parts[0], ex.Call) and parts[0].lower_name == "concat":
        parts = [*parts[0].args, *parts[1:]]
    match parts:
        case [
            ex.Literal(value=str(prefix)),
            ex.Call(args=(ex.Literal(value=str(name)),)) as selector,
        ] if selector.lower_name == "parameters":
            return f"variables('{prefix}')[parameters('{name}')]"
    return "variables('choices')[parameters('choice')]"


@rule(
    "template-no-dynamic-variable-concat",
    family="template",
    summary="Variables are chosen by indexing an object, not by concat() names.",
    arm_ttk="Dynamic-Variable-References-Should-Not-Use-Concat",
    blocking=False,
)
def no_dynamic_variable_concat(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for path, node in expressions(template.data):
        for call in ex.calls(node, "variables"):
            name = call.args[0] if call.args else None
            if not (isinstance(name, ex.Call) and name.lower_name == "concat"):
                continue
            yield Problem(
                path,
                "variables() is given a name built with concat(); put the choices in "
                "one object variable and index it, as in "
                f"{_concat_suggestion(call)}.",
                error_id="DynamicVariable.Reference.Using.Concat",
            )


@rule(
    "template-no-managed-identity-extension",
    family="template",
    summary="Resources do not use the retired ManagedIdentityExtension.",
    arm_ttk="ManagedIdentityExtension-must-not-be-used",
    blocking=False,
)
def no_managed_identity_extension(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for path, value in walk(template.data.get("resources"), "$.resources"):
        texts = [value] if isinstance(value, str) else []
        if isinstance(value, Mapping):
            texts = [key for key in value if isinstance(key, str)]
        if any("managedidentityextension" in text.lower() for text in texts):
            yield Problem(
                path,
                "The resource uses the ManagedIdentityExtension, which is retired; "
                "remove it and use the VM's managed identity through the Instance "
                "Metadata Service.",
                error_id="ManagedIdentityExtension.Was.Used",
            )
