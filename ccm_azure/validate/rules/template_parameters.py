"""Template rules about parameter declarations: each one is used, its constraints are
well-formed, the artifacts pair is declared the way Marketplace staging needs it, and
a nested template receives each parameter with the type its parent declares.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ccm_azure.validate import expressions as ex
from ccm_azure.validate.files import Document
from ccm_azure.validate.registry import Context, Problem, Report, rule
from ccm_azure.validate.template import Template, referenced_names, walk

ARTIFACTS_LOCATION = "_artifactsLocation"
ARTIFACTS_SAS_TOKEN = "_artifactsLocationSasToken"  # noqa: S105 - a name
# Quickstart samples may default to their folder in the Quickstart repository.
QUICKSTART_RAW = "https://raw.githubusercontent.com/Azure/azure-quickstart-templates/"


def _template(context: Context) -> Template | None:
    data = context.data
    return Template(data) if isinstance(data, Mapping) else None


def _type(definition: Mapping[str, Any]) -> str:
    kind = definition.get("type")
    return kind if isinstance(kind, str) else ""


# Parameters-Must-Be-Referenced


def _plain_mention(template: Template, name: str) -> str | None:
    """The path of a string that is not an expression but reads like a use of `name`.

    Logic App definitions use `@parameters('x')` for their own parameters; those
    strings are not mentions of a template parameter.
    """
    pattern = re.compile(
        r"parameters\s*\(\s*'" + re.escape(name) + r"'\s*\)", re.IGNORECASE
    )
    for path, value in walk(template.data):
        if (
            isinstance(value, str)
            and not ex.is_expression(value)
            and "@" not in value
            and pattern.search(value)
        ):
            return path
    return None


@rule(
    "template-parameters-referenced",
    family="template",
    summary="Every parameter is used in an expression.",
    arm_ttk="Parameters-Must-Be-Referenced",
    blocking=False,
)
def parameters_referenced(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    used = referenced_names(template.data, "parameters")
    for name in template.parameters:
        if name.startswith("__") or name.lower() in used:
            continue
        mention = _plain_mention(template, name)
        if mention is not None:
            yield Problem(
                mention,
                f"Parameter '{name}' is named here in a plain string, which ARM does "
                "not evaluate; write the whole value as an expression in brackets.",
                error_id="Parameters.Must.Be.Referenced.In.Expression",
            )
        else:
            yield Problem(
                f"$.parameters.{name}",
                f"Parameter '{name}' is never used; use it in an expression or remove "
                "it.",
                error_id="Parameters.Must.Be.Referenced",
            )


# Min-And-Max-Value-Are-Numbers


def _entry(definition: Mapping[str, Any], key: str) -> tuple[str, Any] | None:
    for declared, value in definition.items():
        if declared.lower() == key.lower():
            return declared, value
    return None


def _is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@rule(
    "template-min-max-integers",
    family="template",
    summary="A parameter's minValue and maxValue are integers, given together.",
    arm_ttk="Min-And-Max-Value-Are-Numbers",
)
def min_max_integers(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    for name, definition in template.parameters.items():
        if not isinstance(definition, Mapping):
            continue
        path = f"$.parameters.{name}"
        bounds = {}
        for key, label in (("maxValue", "Max"), ("minValue", "Min")):
            found = _entry(definition, key)
            if found is not None and not _is_integer(found[1]):
                yield Problem(
                    f"{path}.{found[0]}",
                    f"The {key} of parameter '{name}' is {found[1]!r}, not an integer; "
                    "give a whole number.",
                    error_id=f"Parameter.{label}.Not.Int",
                )
                break
            bounds[label] = found
        else:
            for label, other in (("Max", "Min"), ("Min", "Max")):
                if bounds[label] is None and bounds[other] is not None:
                    yield Problem(
                        path,
                        f"Parameter '{name}' has a {other.lower()}Value but no "
                        f"{label.lower()}Value; give both or neither.",
                        error_id=f"Parameter.Missing.{label}",
                    )


# artifacts-parameter


def _is_template_link(value: object) -> bool:
    """Whether `value` is `[deployment().properties.templateLink.uri]`."""
    node = ex.try_parse(value)
    path = []
    while isinstance(node, ex.Member):
        path.append(node.name.lower())
        node = node.target
    return (
        isinstance(node, ex.Call)
        and node.lower_name == "deployment"
        and not node.args
        and path == ["uri", "templatelink", "properties"]
    )


def _is_allowed_location_default(value: object) -> bool:
    if _is_template_link(value):
        return True
    return (
        isinstance(value, str)
        and value.lower().startswith(QUICKSTART_RAW.lower())
        and value.endswith("/")
    )


@rule(
    "template-artifacts-parameters",
    family="template",
    summary="_artifactsLocation and its SAS token are declared for staged artifacts.",
    arm_ttk="artifacts-parameter",
)
def artifacts_parameters(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    location = template.parameter(ARTIFACTS_LOCATION)
    if location is None:
        return
    location_name, location_def = location
    location_path = f"$.parameters.{location_name}"
    token = template.parameter(ARTIFACTS_SAS_TOKEN)

    if _type(location_def).lower() not in ("string", "securestring"):
        yield Problem(
            location_path,
            f"{location_name} is of type '{_type(location_def)}'; declare it as a "
            "string.",
            error_id="ArtifactsLocation.Parameter.TypeMisMatch",
        )
    if token is None:
        yield Problem(
            location_path,
            f"The template has {location_name} but no {ARTIFACTS_SAS_TOKEN}; declare "
            f"{ARTIFACTS_SAS_TOKEN} as a secureString.",
            error_id="ArtifactsLocation.Parameter.sasToken.Missing",
        )
    elif _type(token[1]).lower() != "securestring":
        yield Problem(
            f"$.parameters.{token[0]}",
            f"{token[0]} is of type '{_type(token[1])}'; declare it as a "
            "secureString, so the token is never shown or logged.",
            error_id="ArtifactsLocation.Parameter.sasToken.TypeMisMatch",
        )

    if context.document.is_main:
        yield from _main_artifacts_defaults(location_name, location_def, token)
    elif location_def.get("defaultValue") or (
        token is not None and token[1].get("defaultValue")
    ):
        yield Problem(
            location_path,
            f"{location_name} and {ARTIFACTS_SAS_TOKEN} have a default value in a "
            "template that is not the main template; remove the defaults, so the "
            "main template's values are passed through.",
            error_id="ArtifactsLocation.Parameter.DefaultValue.NotEmpty",
        )


def _main_artifacts_defaults(
    location_name: str,
    location_def: Mapping[str, Any],
    token: tuple[str, Mapping[str, Any]] | None,
) -> Iterator[Problem]:
    location_path = f"$.parameters.{location_name}"
    default = location_def.get("defaultValue")
    if not default:
        yield Problem(
            location_path,
            f"{location_name} has no default value in the main template; default it "
            "to [deployment().properties.templateLink.uri].",
            error_id="ArtifactsLocation.Parameter.DefaultValue.Missing",
        )
    elif not _is_allowed_location_default(default):
        yield Problem(
            f"{location_path}.defaultValue",
            f"{location_name} defaults to {default!r}; default it to "
            "[deployment().properties.templateLink.uri], where Marketplace stages the "
            "package's artifacts.",
            error_id="ArtifactsLocation.Parameter.DefaultValue.Incorrect",
        )
    if token is not None and token[1].get("defaultValue") != "":
        yield Problem(
            f"$.parameters.{token[0]}",
            f"{token[0]} must default to an empty string in the main template; set "
            'its defaultValue to "".',
            error_id="ArtifactsLocation.Parameter.sasToken.DefaultValue.Incorrect",
        )


# Parameter-Types-Should-Be-Consistent


def _inner_templates(context: Context) -> dict[str, Document]:
    """Nested templates of inner scope directly inside this document, by their path."""
    return {
        doc.inner_path: doc
        for doc in context.package.documents
        if doc.parent is context.document
    }


def _passed_parameter(value: object) -> str | None:
    """The outer parameter passed on unchanged: `{"value": "[parameters('x')]"}`."""
    if isinstance(value, Mapping):
        value = value.get("value")
    match ex.try_parse(value):
        case ex.Call(args=(ex.Literal(value=str(name)),)) as call if (
            call.lower_name == "parameters"
        ):
            return name
    return None


@rule(
    "template-nested-parameter-types",
    family="template",
    summary="A nested template declares each parameter passed on with the same type.",
    arm_ttk="Parameter-Types-Should-Be-Consistent",
)
def nested_parameter_types(context: Context) -> Iterator[Report]:
    template = _template(context)
    if template is None:
        return
    inner = _inner_templates(context)
    if not inner:
        return
    for resource in template.resources():
        child = inner.get(f"{resource.path}.properties.template")
        passed = resource.properties.get("parameters")
        if child is None or not isinstance(child.data, Mapping):
            continue
        if not isinstance(passed, Mapping):
            continue
        child_template = Template(child.data)
        for inner_name, value in passed.items():
            outer_name = _passed_parameter(value)
            outer = template.parameter(outer_name) if outer_name else None
            declared = child_template.parameter(inner_name)
            if outer is None or declared is None:
                continue
            outer_type, inner_type = _type(outer[1]), _type(declared[1])
            if outer_type and inner_type and outer_type.lower() != inner_type.lower():
                yield Problem(
                    f"{resource.path}.properties.parameters.{inner_name}",
                    f"Parameter '{outer[0]}' ({outer_type}) is passed to nested "
                    f"parameter '{declared[0]}', declared as {inner_type}; declare "
                    "both with the same type.",
                    error_id="Inconsistent.Parameter",
                )
