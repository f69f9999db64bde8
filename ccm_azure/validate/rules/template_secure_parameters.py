"""Template rules about secure parameters: they carry no secret in the template, and
no nested deployment writes them where Azure keeps them in plain text.

A nested deployment whose inline template is evaluated in the outer scope (the
default) is stored with every expression already resolved, so a secure parameter or
a list*() result used inside it can be read back from the deployment's history.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import Resource, Template, expressions


def _template(context: Context) -> Template | None:
    data = context.data
    return Template(data) if isinstance(data, Mapping) else None


def _type(definition: Mapping[str, Any]) -> str:
    kind = definition.get("type")
    return kind.lower() if isinstance(kind, str) else ""


# Nested deployments in the outer scope


def _outer_scope_template(resource: Resource) -> Mapping[str, Any] | None:
    """The inline template of a nested deployment evaluated in the outer scope."""
    if not resource.is_type("Microsoft.Resources/deployments"):
        return None
    inline = resource.properties.get("template")
    if not isinstance(inline, Mapping) or not inline:
        return None
    options = resource.properties.get("expressionEvaluationOptions")
    scope = options.get("scope") if isinstance(options, Mapping) else None
    if isinstance(scope, str) and scope.lower() == "inner":
        return None
    return inline


def _exposed(template: Template, node: ex.Node, secure: set[str]) -> list[str]:
    """What `node` puts in clear text: secure parameters and list*() calls, followed
    through the variables it reads."""
    found = []
    for reached in template.through_variables(node):
        for name in sorted(ex.referenced(reached, "parameters")):
            if name.lower() in secure:
                found.append(f"the secure parameter '{name}'")
        for item in ex.walk(reached):
            if isinstance(item, ex.Call) and item.lower_name.startswith("list"):
                found.append(f"the result of {item.name}()")
    return list(dict.fromkeys(found))


@rule(
    "template-nested-deployment-secrets",
    family="template",
    summary=(
        "Inline templates of nested deployments in the outer scope use no secure "
        "parameter and no list*() result, which the deployment would store in plain "
        "text."
    ),
    arm_ttk="Secure-Params-In-Nested-Deployments",
)
def nested_deployment_secrets(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    secure = {
        name.lower()
        for name, definition in template.parameters.items()
        if isinstance(definition, Mapping)
        and _type(definition) in ("securestring", "secureobject")
    }
    for resource in template.resources():
        inline = _outer_scope_template(resource)
        if inline is None:
            continue
        inline_path = f"{resource.path}.properties.template"
        for path, node in expressions(inline, inline_path):
            exposed = _exposed(template, node, secure)
            if exposed:
                yield (
                    path,
                    f"This nested deployment evaluates its template in the outer "
                    f"scope, so {' and '.join(exposed)} would be stored in plain "
                    "text; set properties.expressionEvaluationOptions.scope to "
                    "'inner' and pass the value in as a secure parameter.",
                )


# Defaults of secure parameters


def _harmless_default(value: object, empty: object) -> bool:
    """Whether a secure parameter's default holds no secret: empty, or newGuid()."""
    if value == empty:
        return True
    # arm-ttk accepts blanks around the brackets; so does this rule.
    text = value.strip() if isinstance(value, str) else None
    node = ex.try_parse(text)
    return node is not None and any(ex.calls(node, "newGuid"))


@rule(
    "template-secure-string-no-default",
    family="template",
    summary=(
        "A secureString parameter's default is empty or made with newGuid(); any "
        "other default is a secret written in the template. A secureObject with a "
        "default other than {} is warned about."
    ),
    arm_ttk="Secure-String-Parameters-Cannot-Have-Default",
)
def secure_string_no_default(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for name, definition in template.parameters.items():
        if not isinstance(definition, Mapping) or "defaultValue" not in definition:
            continue
        kind = _type(definition)
        path = f"$.parameters.{name}.defaultValue"
        if kind == "securestring":
            if not _harmless_default(definition["defaultValue"], ""):
                yield (
                    path,
                    f"The secureString parameter '{name}' has a default value, "
                    "which anyone who can read the template sees; remove it, or "
                    "default to '' or to an expression with newGuid().",
                )
        elif kind == "secureobject" and not _harmless_default(
            definition["defaultValue"], {}
        ):
            yield Problem(
                path,
                f"The secureObject parameter '{name}' has a default value, "
                "which anyone who can read the template sees; remove it or "
                "default to {}.",
                level="warning",
            )
